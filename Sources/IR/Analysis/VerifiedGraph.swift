import Foundation

/// A graph that passed the verifier, with the shape of every value. Everything downstream
/// (cost model, interpreter, passes, code generators) takes one of these, never a raw `Graph`.
public struct VerifiedGraph: Sendable {
    public let graph: Graph
    public let shapes: [String: [Int]]

    /// Verifies a graph built in code (by a pass, say). Throws the diagnostics when it is invalid.
    public init(_ graph: Graph) throws(DiagnosticList) {
        var diagnostics = DiagnosticList()
        let shapes = Verifier.verify(graph, diagnostics: &diagnostics)
        guard !diagnostics.hasErrors else { throw diagnostics }
        self.graph = graph
        self.shapes = shapes
    }

    /// Parses and verifies source text. On success, the warnings come with the graph.
    public static func load(_ source: SourceFile) -> Result<(VerifiedGraph, [Diagnostic]), DiagnosticList> {
        var parsed = Parser.parse(source)
        let shapes = Verifier.verify(parsed.graph, poisoned: parsed.poisoned, diagnostics: &parsed.diagnostics)
        guard !parsed.diagnostics.hasErrors else { return .failure(parsed.diagnostics) }
        let verified = VerifiedGraph(graph: parsed.graph, shapes: shapes)
        return .success((verified, verified.unusedNodeWarnings()))
    }

    /// Reads, parses and verifies a file. A file that cannot be read is one diagnostic at 1:1.
    public static func load(path: String) -> Result<(VerifiedGraph, [Diagnostic]), LoadFailure> {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(LoadFailure(source: SourceFile(name: path, bytes: []), diagnostics: nil,
                                        message: "\(path): error: cannot read file"))
        }
        let source = SourceFile(name: path, bytes: [UInt8](data))
        switch load(source) {
        case .success(let value): return .success(value)
        case .failure(let diagnostics):
            return .failure(LoadFailure(source: source, diagnostics: diagnostics, message: diagnostics.rendered(in: source)))
        }
    }

    private init(graph: Graph, shapes: [String: [Int]]) {
        self.graph = graph
        self.shapes = shapes
    }

    public func shape(_ name: String) -> [Int] { shapes[name] ?? [] }

    public func inputShapes(_ node: Node) -> [[Int]] { node.inputs.map(shape) }

    public func cost(_ node: Node) -> Cost {
        node.op.definition.cost(inputs: inputShapes(node), output: shape(node.name), attributes: node.attributes)
    }

    public func parameters(_ node: Node) -> [ParameterSpec] {
        node.op.definition.parameters(inputs: inputShapes(node), attributes: node.attributes)
    }

    /// Number of classes of the final output.
    public var classes: Int { shape(graph.output.name).last ?? 0 }

    /// The nodes the final output depends on: the backbone, as opposed to exit heads.
    public func backbone() -> [Bool] { graph.backbone() }

    /// Marks every node that one of `names` depends on (including the named nodes themselves).
    public func ancestors(of names: [String]) -> [Bool] { graph.ancestors(of: names) }

    /// Nodes that neither the output nor any exit uses.
    func unusedNodeWarnings() -> [Diagnostic] {
        let used = ancestors(of: [graph.output.name] + graph.exits.flatMap { [$0.classifier, $0.confidence] })
        return graph.nodes.indices.filter { !used[$0] }.prefix(20).map { i in
            let node = graph.nodes[i]
            return Diagnostic(.warning, at: node.locations?.name ?? SourceLocation(line: 1, column: 1),
                              "'\(node.name)' is never used by the output or an exit")
        }
    }
}

/// Why a file did not load: its text, diagnostics, and the message to print.
public struct LoadFailure: Error, Sendable {
    public var source: SourceFile
    public var diagnostics: DiagnosticList?
    public var message: String
}

extension DiagnosticList: Error {}
