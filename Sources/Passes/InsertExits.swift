import IR

/// Places N exits by a cost distribution (`ExitPlacement`) and inserts their heads
/// (`ExitBlock`) right after the nodes they attach to, with an `exit` statement each.
/// New head weights are seeded unless the model's weights already hold them (a trained file).
public struct InsertExits: Pass {
    public var branches: Int
    public var distribution: Distribution
    public var block: ExitBlock
    public var convention: CostReport.Convention
    public var candidateOps: Set<OpKind>?
    public var seed: UInt64

    public init(branches: Int, distribution: Distribution = .fine, block: ExitBlock = .conv(2),
                convention: CostReport.Convention = .eenets, candidateOps: Set<OpKind>? = nil, seed: UInt64 = 0) {
        self.branches = branches
        self.distribution = distribution
        self.block = block
        self.convention = convention
        self.candidateOps = candidateOps
        self.seed = seed
    }

    public var name: String { "insert-exits" }
    public var summary: String { "place exits at the cost distribution's points and insert their heads" }

    public func run(_ model: Model) throws(PassError) -> Model {
        let g = model.graph
        // With no exits asked for, a graph keeps the exits it has (as the error below suggests).
        guard branches > 0 else { return model }
        guard g.graph.exits.isEmpty else {
            throw PassError(pass: name, message: "the graph already has \(g.graph.exits.count) exits; compile it with --branches 0 or remove them")
        }
        let placement = try ExitPlacement.place(g, branches: branches, distribution: distribution,
                                                convention: convention, candidateOps: candidateOps)
        var graph = g.graph
        var heads: [Int: [Node]] = [:]
        for (i, at) in placement.attachNodes.enumerated() {
            let attach = graph.nodes[at].name
            var nodes = block.nodes(index: i, attach: attach, channels: g.shape(attach)[1], classes: g.classes)
            nodes[0].trivia = Trivia(blankLineBefore: true, comments: [" exit \(i): \(block) head after \(attach)"])
            heads[at] = nodes
            graph.exits.append(Exit(name: "exits.\(i)", classifier: "exits.\(i).classifier", confidence: "exits.\(i).confidence"))
        }
        var nodes: [Node] = []
        for (i, node) in graph.nodes.enumerated() {
            nodes.append(node)
            nodes += heads[i] ?? []
        }
        graph.nodes = nodes
        let verified = try PassPipeline.verify(graph, after: name)
        var weights = model.weights
        let headNames = Set(heads.values.flatMap { $0.map(\.name) })
        for (key, tensor) in WeightBinder.seeded(verified, seed: seed, include: { headNames.contains($0.name) }) where weights[key] == nil {
            weights[key] = tensor
        }
        return Model(graph: verified, weights: weights)
    }
}
