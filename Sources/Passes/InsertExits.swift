import IR

/// Places exits and inserts their heads (`ExitBlock`) right after the nodes they attach to, with
/// an `exit` statement each. Where they go (`ExitSites`): N exits by a cost distribution
/// (`ExitPlacement`, the reference rule), one at every exit candidate (`ExitCandidates`), or
/// after named nodes. New head weights are seeded unless the model's weights already hold them
/// (a trained file).
public struct InsertExits: Pass {
    public var branches: Int
    public var distribution: Distribution
    public var block: ExitBlock
    public var convention: CostReport.Convention
    public var candidateOps: Set<OpKind>?
    public var sites: ExitSites
    public var confidence: ExitConfidence
    public var seed: UInt64

    public init(branches: Int, distribution: Distribution = .fine, block: ExitBlock = .conv(2),
                convention: CostReport.Convention = .eenets, candidateOps: Set<OpKind>? = nil,
                sites: ExitSites = .distribution, confidence: ExitConfidence = .head, seed: UInt64 = 0) {
        self.branches = branches
        self.distribution = distribution
        self.block = block
        self.convention = convention
        self.candidateOps = candidateOps
        self.sites = sites
        self.confidence = confidence
        self.seed = seed
    }

    public var name: String { "insert-exits" }
    public var summary: String { "place exits (by a cost distribution, at every candidate, or after named nodes) and insert their heads" }

    public func run(_ model: Model) throws(PassError) -> Model {
        let g = model.graph
        // With no exits asked for, a graph keeps the exits it has (as the error below suggests).
        if case .distribution = sites, branches <= 0 { return model }
        guard g.graph.exits.isEmpty else {
            throw PassError(pass: name, message: "the graph already has \(g.graph.exits.count) exits; compile it with --branches 0 or remove them")
        }
        let attachNodes = try attachPoints(g)
        var graph = g.graph
        var heads: [Int: [Node]] = [:]
        for (i, at) in attachNodes.enumerated() {
            let attach = graph.nodes[at].name
            var nodes = block.nodes(index: i, attach: attach, shape: g.shape(attach), classes: g.classes, confidence: confidence)
            nodes[0].trivia = Trivia(blankLineBefore: true, comments: [" exit \(i): \(block) head after \(attach)\(confidence == .softmax ? ", max-softmax confidence" : "")"])
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

    /// Indices of the nodes the exits attach after, in schedule order.
    func attachPoints(_ g: VerifiedGraph) throws(PassError) -> [Int] {
        switch sites {
        case .distribution:
            return try ExitPlacement.place(g, branches: branches, distribution: distribution,
                                           convention: convention, candidateOps: candidateOps).attachNodes
        case .everyCandidate:
            let candidates = ExitCandidates.find(g, ops: candidateOps)
            guard !candidates.isEmpty else { throw PassError(pass: self.name, message: "the graph has no exit candidates") }
            return candidates
        case .named(let names):
            let candidates = ExitCandidates.find(g, ops: candidateOps)
            let index = g.graph.nodeIndex()
            var out: [Int] = []
            for name in names {
                guard let i = index[name], candidates.contains(i) else {
                    let list = candidates.map { g.graph.nodes[$0].name }
                    let known = index[name] == nil ? "no node is named '\(name)'" : "'\(name)' is not an exit candidate (an exit needs a point where one tensor alone is live)"
                    throw PassError(pass: self.name, message: "\(known); the exit candidates are: \(list.joined(separator: ", "))")
                }
                guard !out.contains(i) else { throw PassError(pass: self.name, message: "'\(name)' is named twice in --exit-at") }
                out.append(i)
            }
            guard out == out.sorted() else {
                throw PassError(pass: self.name, message: "--exit-at names the nodes out of schedule order; list them as the network runs them")
            }
            return out
        }
    }
}

/// Where the exits go.
public enum ExitSites: Equatable, Sendable {
    /// `branches` exits at the points of the cost distribution (the reference rule).
    case distribution
    /// One exit at every exit candidate (`--branches all`): train them all, let calibration choose.
    case everyCandidate
    /// After these nodes, in schedule order (`--exit-at a,b,c`, and what a trained file records).
    case named([String])
}
