import IR

/// Cuts the backbone into segments between exits: segment k runs from the previous exit's attach
/// point (or the graph input) to exit k's attach point; the last one ends at the output. At run
/// time the driver runs segment k, then exit head k, and stops there if the exit is taken.
public struct SegmentGraph: Pass {
    public init() {}

    public var name: String { "segment" }
    public var summary: String { "cut the backbone into segments between exits" }

    public func run(_ model: Model) throws(PassError) -> Model {
        var graph = model.graph.graph
        let index = graph.nodeIndex()
        let backbone = graph.backbone(index: index)
        var cuts: [String] = []
        for exit in graph.exits {
            let members = graph.ancestors(of: [exit.classifier, exit.confidence], index: index)
            guard let attach = graph.nodes.indices.last(where: { members[$0] && backbone[$0] }) else {
                throw PassError(pass: name, message: "exit '\(exit.name)' does not read the backbone")
            }
            let name = graph.nodes[attach].name
            if let previous = cuts.last, let p = index[previous], p >= attach {
                throw PassError(pass: self.name, message: "exit '\(exit.name)' attaches at '\(name)', not after the previous exit's '\(previous)'")
            }
            cuts.append(name)
        }
        var input = graph.input.name
        graph.segments = []
        for (k, cut) in (cuts + [graph.output.name]).enumerated() {
            graph.segments.append(Segment(name: "seg\(k)", input: input, output: cut,
                                          trivia: Trivia(blankLineBefore: true)))
            input = cut
        }
        // Exits written by hand may attach where other values are still live: a user error.
        do {
            return Model(graph: try VerifiedGraph(graph), weights: model.weights)
        } catch {
            let details = error.items.map(\.message).joined(separator: "; ")
            throw PassError(pass: name, message: "cannot cut the backbone at the exits' attach points: \(details)")
        }
    }
}
