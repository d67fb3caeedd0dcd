/// A backbone (and, after exit insertion, its exits) as a list of statements in definition order.
///
/// The graph is in SSA form: every name is defined once, before its uses. Node order is the
/// schedule; passes keep it topological. Source locations are kept when the graph came from text,
/// so the verifier can point at the offending token; passes leave them `nil` on nodes they create.
public struct Graph: Equatable, Sendable {
    public var model: String
    /// Comment lines before the `model` statement: the file's header.
    public var headerComments: [String]
    public var input: Input
    public var nodes: [Node]
    public var exits: [Exit]
    /// The cut of the backbone into segments between exits, once the segment pass has run.
    public var segments: [Segment]
    public var output: Output
    /// Comment lines after the last statement.
    public var trailingComments: [String]

    public init(model: String, headerComments: [String] = [], input: Input, nodes: [Node], exits: [Exit] = [],
                segments: [Segment] = [], output: Output, trailingComments: [String] = []) {
        self.model = model
        self.headerComments = headerComments
        self.input = input
        self.nodes = nodes
        self.exits = exits
        self.segments = segments
        self.output = output
        self.trailingComments = trailingComments
    }

    /// Index of each node by name.
    public func nodeIndex() -> [String: Int] {
        var index: [String: Int] = [:]
        index.reserveCapacity(nodes.count)
        for (i, node) in nodes.enumerated() { index[node.name] = i }
        return index
    }

    /// Marks every node that one of `names` depends on, the named nodes included.
    public func ancestors(of names: [String], index: [String: Int]? = nil) -> [Bool] {
        let index = index ?? nodeIndex()
        var marked = [Bool](repeating: false, count: nodes.count)
        var stack = names.compactMap { index[$0] }
        while let i = stack.popLast() {
            if marked[i] { continue }
            marked[i] = true
            for input in nodes[i].inputs { if let j = index[input], !marked[j] { stack.append(j) } }
        }
        return marked
    }

    /// The nodes the final output depends on: the backbone, as opposed to exit heads.
    public func backbone(index: [String: Int]? = nil) -> [Bool] { ancestors(of: [output.name], index: index) }
}

/// Lines written before a statement that the printer keeps: `#` comments and one blank line.
public struct Trivia: Equatable, Sendable {
    public var blankLineBefore: Bool
    public var comments: [String]

    public init(blankLineBefore: Bool = false, comments: [String] = []) {
        self.blankLineBefore = blankLineBefore
        self.comments = comments
    }

    public static let none = Trivia()
}

public struct Input: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var trivia: Trivia
    public var location: SourceLocation?

    public init(name: String, shape: [Int], trivia: Trivia = .none, location: SourceLocation? = nil) {
        self.name = name
        self.shape = shape
        self.trivia = trivia
        self.location = location
    }
}

/// `name = op(inputs..., attributes...)`.
public struct Node: Equatable, Sendable {
    public var name: String
    public var op: OpKind
    public var inputs: [String]
    public var attributes: Attributes
    public var trivia: Trivia
    public var locations: NodeLocations?

    public init(name: String, op: OpKind, inputs: [String], attributes: Attributes = Attributes(),
                trivia: Trivia = .none, locations: NodeLocations? = nil) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.attributes = attributes
        self.trivia = trivia
        self.locations = locations
    }

    /// Equality ignores where the node was written, so a parsed graph equals a built one.
    public static func == (a: Node, b: Node) -> Bool {
        a.name == b.name && a.op == b.op && a.inputs == b.inputs && a.attributes == b.attributes
            && a.trivia == b.trivia
    }
}

/// Where the parts of a node were written, for diagnostics that point at the right token.
public struct NodeLocations: Sendable {
    public var name: SourceLocation
    public var op: SourceLocation
    public var inputs: [SourceLocation]
    public var attributes: [String: SourceLocation]
    public var closingParen: SourceLocation

    public init(name: SourceLocation, op: SourceLocation, inputs: [SourceLocation],
                attributes: [String: SourceLocation], closingParen: SourceLocation) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.attributes = attributes
        self.closingParen = closingParen
    }
}

/// `exit name(classifier=A, confidence=B)`: an early exit. `classifier` gives the class logits,
/// `confidence` a single logit whose sigmoid is the exit's confidence h. The printer writes the
/// statement right after the later of the two nodes, wherever the source had it.
public struct Exit: Equatable, Sendable {
    public var name: String
    public var classifier: String
    public var confidence: String
    public var trivia: Trivia
    public var location: SourceLocation?
    /// Where `classifier` and `confidence` were written.
    public var operandLocations: [SourceLocation]?

    public init(name: String, classifier: String, confidence: String,
                trivia: Trivia = .none, location: SourceLocation? = nil, operandLocations: [SourceLocation]? = nil) {
        self.name = name
        self.classifier = classifier
        self.confidence = confidence
        self.operandLocations = operandLocations
        self.trivia = trivia
        self.location = location
    }

    public static func == (a: Exit, b: Exit) -> Bool {
        a.name == b.name && a.classifier == b.classifier && a.confidence == b.confidence
            && a.trivia == b.trivia
    }
}

/// `segment name(input=A, output=B)`: the backbone nodes that turn value A into value B, run as one
/// unit between two exit checks. Segments are consecutive: the first reads the graph input, each
/// next one reads the previous one's output, and the last one gives the graph output. Exit heads
/// are not part of a segment; exit k reads the output of segment k. The printer writes the
/// statement before the segment's first backbone node.
public struct Segment: Equatable, Sendable {
    public var name: String
    public var input: String
    public var output: String
    public var trivia: Trivia
    public var location: SourceLocation?

    public init(name: String, input: String, output: String, trivia: Trivia = .none, location: SourceLocation? = nil) {
        self.name = name
        self.input = input
        self.output = output
        self.trivia = trivia
        self.location = location
    }

    public static func == (a: Segment, b: Segment) -> Bool {
        a.name == b.name && a.input == b.input && a.output == b.output && a.trivia == b.trivia
    }
}

public struct Output: Equatable, Sendable {
    public var name: String
    public var trivia: Trivia
    public var location: SourceLocation?

    public init(name: String, trivia: Trivia = .none, location: SourceLocation? = nil) {
        self.name = name
        self.trivia = trivia
        self.location = location
    }

    public static func == (a: Output, b: Output) -> Bool { a.name == b.name && a.trivia == b.trivia }
}

extension Input {
    public static func == (a: Input, b: Input) -> Bool {
        a.name == b.name && a.shape == b.shape && a.trivia == b.trivia
    }
}
