import IR

/// Fuses a ReLU into the op that produces its input (conv2d, add, linear: the ops whose
/// definition `acceptsFusedReLU`) by setting the producer's `relu=true`. The producer keeps its
/// name; uses of the ReLU's name now read it. Only a ReLU that is the producer's sole reader is
/// fused.
public struct FuseReLU: Pass {
    public init() {}

    public var name: String { "fuse-relu" }
    public var summary: String { "fuse ReLU into the conv, add or linear that produces its input" }

    public func run(_ model: Model) throws(PassError) -> Model {
        var graph = model.graph.graph
        let index = graph.nodeIndex()
        let consumers = graph.consumers(index: index)
        var removed = Set<Int>()
        for (r, relu) in graph.nodes.enumerated() where relu.op == .relu {
            guard let p = index[relu.inputs[0]], graph.nodes[p].op.definition.acceptsFusedReLU,
                  consumers[p] == [r], !graph.isNamedOutsideNodes(graph.nodes[p].name),
                  !graph.nodes[p].attributes.bool("relu") else { continue }
            graph.nodes[p].attributes["relu"] = .bool(true)
            graph.nodes[p].trivia.noteFused(relu.name)
            removed.insert(r)
            graph.replaceUses(of: relu.name, with: graph.nodes[p].name)
        }
        graph.nodes = graph.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return Model(graph: try PassPipeline.verify(graph, after: name), weights: model.weights)
    }
}
