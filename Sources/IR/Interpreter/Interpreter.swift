/// The reference interpreter: runs a verified graph one op at a time with each op's own
/// `evaluate` (plain loops, float32 tensors, float64 accumulation). It is the oracle that the
/// passes and the code generators are checked against, so it favours clarity over speed.
public struct Interpreter: Sendable {
    public let graph: VerifiedGraph
    public let weights: BoundWeights
    /// For each node, the index of the last node that reads it (values die after that).
    private let lastUse: [Int]
    private let needed: [Bool]
    private let kept: Set<String>
    private let index: [String: Int]

    /// What one sample produces: the final logits, and for each exit its logits and confidence logit.
    public struct Result: Sendable {
        public var logits: Tensor
        public var exits: [(logits: Tensor, confidence: Float)]
        /// Values asked for with `keep`, and the output and exit values.
        public var kept: [String: Tensor]
    }

    /// `keep` names intermediate values to return as well (for tests and debugging).
    public init(_ graph: VerifiedGraph, weights: BoundWeights, keep: Set<String> = []) {
        self.graph = graph
        self.weights = weights
        let g = graph.graph
        let roots = [g.output.name] + g.exits.flatMap { [$0.classifier, $0.confidence] } + keep.sorted()
        needed = graph.ancestors(of: roots)
        kept = Set(roots)
        let index = g.nodeIndex()
        self.index = index
        var lastUse = [Int](repeating: -1, count: g.nodes.count)
        for (i, node) in g.nodes.enumerated() where needed[i] {
            for input in node.inputs { if let j = index[input] { lastUse[j] = i } }
        }
        self.lastUse = lastUse
    }

    /// Runs one sample of the input's shape ([1, C, H, W]).
    public func run(_ input: Tensor) -> Result {
        let g = graph.graph
        precondition(input.shape == g.input.shape, "input \(Tensor.describe(input.shape)) does not match \(Tensor.describe(g.input.shape))")
        var values: [String: Tensor] = [g.input.name: input]
        for (i, node) in g.nodes.enumerated() where needed[i] {
            let inputs = node.inputs.map { values[$0] ?? Tensor(zeros: [0]) }
            values[node.name] = node.op.definition.evaluate(inputs: inputs, parameters: weights.byNode[i],
                                                            attributes: node.attributes, outputShape: graph.shape(node.name))
            // Free what no later node reads, so deep networks run in little memory.
            for name in node.inputs where !kept.contains(name) {
                if let j = index[name], lastUse[j] == i { values[name] = nil }
            }
        }
        let exits = g.exits.map { exit in
            (logits: values[exit.classifier] ?? Tensor(zeros: [0]), confidence: values[exit.confidence]?.data.first ?? 0)
        }
        var keptValues: [String: Tensor] = [:]
        for name in kept { keptValues[name] = values[name] }
        return Result(logits: values[g.output.name] ?? Tensor(zeros: [0]), exits: exits, kept: keptValues)
    }
}
