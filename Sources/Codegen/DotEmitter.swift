import IR

/// Graphviz for a compiled graph: one cluster per segment, exit heads highlighted, each node
/// labelled with its op and output shape. Deterministic, so it diffs like the IR.
public enum DotEmitter {
    public static func emit(_ g: VerifiedGraph) -> String {
        let graph = g.graph
        let index = graph.nodeIndex()
        let backbone = graph.backbone(index: index)
        var segmentOf = [Int](repeating: -1, count: graph.nodes.count)
        var start = 0
        for (k, segment) in graph.segments.enumerated() {
            let end = index[segment.output] ?? (graph.nodes.count - 1)
            for i in start...max(start, end) where i < graph.nodes.count && backbone[i] { segmentOf[i] = k }
            start = end + 1
        }
        func id(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        func label(_ i: Int) -> String {
            let node = graph.nodes[i]
            return "\(id(node.name)) [label=\"\(node.name)\\n\(node.op.name) \(Tensor.describe(g.shape(node.name)))\"\(backbone[i] ? "" : ", style=filled, fillcolor=\"#fde9c9\"")];"
        }
        var out = "digraph \(id(graph.model)) {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n"
        out += "  \(id(graph.input.name)) [shape=oval, label=\"\(graph.input.name)\\n\(Tensor.describe(graph.input.shape))\"];\n"
        for (k, segment) in graph.segments.enumerated() {
            out += "  subgraph \"cluster_\(segment.name)\" {\n    label=\"\(segment.name)\"; style=rounded; color=\"#4a7ab5\";\n"
            for i in graph.nodes.indices where segmentOf[i] == k { out += "    " + label(i) + "\n" }
            out += "  }\n"
        }
        for i in graph.nodes.indices where segmentOf[i] < 0 { out += "  " + label(i) + "\n" }
        for node in graph.nodes {
            for input in node.inputs { out += "  \(id(input)) -> \(id(node.name));\n" }
        }
        for exit in graph.exits {
            out += "  \(id(exit.name)) [shape=doubleoctagon, style=filled, fillcolor=\"#f7b267\", label=\"\(exit.name)\\nh >= T?\"];\n"
            out += "  \(id(exit.classifier)) -> \(id(exit.name));\n  \(id(exit.confidence)) -> \(id(exit.name));\n"
        }
        out += "  \"output\" [shape=oval, label=\"output\\n\(graph.output.name)\"];\n  \(id(graph.output.name)) -> \"output\";\n}\n"
        return out
    }
}
