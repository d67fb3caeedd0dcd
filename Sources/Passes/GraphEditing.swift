import IR

extension Graph {
    /// Points every use of `old` (node inputs, exits, segments, the output) at `new`.
    mutating func replaceUses(of old: String, with new: String) {
        for i in nodes.indices {
            for j in nodes[i].inputs.indices where nodes[i].inputs[j] == old { nodes[i].inputs[j] = new }
        }
        for i in exits.indices {
            if exits[i].classifier == old { exits[i].classifier = new }
            if exits[i].confidence == old { exits[i].confidence = new }
        }
        for i in segments.indices {
            if segments[i].input == old { segments[i].input = new }
            if segments[i].output == old { segments[i].output = new }
        }
        if output.name == old { output.name = new }
    }

    /// For each node, the indices of the nodes reading it.
    func consumers(index: [String: Int]) -> [[Int]] {
        var consumers = [[Int]](repeating: [], count: nodes.count)
        for (i, node) in nodes.enumerated() {
            for input in node.inputs { if let j = index[input] { consumers[j].append(i) } }
        }
        return consumers
    }

    /// Whether anything other than nodes (an exit, a segment, the output) names `name`.
    func isNamedOutsideNodes(_ name: String) -> Bool {
        output.name == name || exits.contains { $0.classifier == name || $0.confidence == name }
            || segments.contains { $0.input == name || $0.output == name }
    }
}

extension Trivia {
    /// Records on a fused node which nodes it absorbed, so the printed IR shows the fusion.
    mutating func noteFused(_ name: String) {
        if let last = comments.last, last.hasPrefix(" fused: ") {
            comments[comments.count - 1] = last + ", " + name
        } else {
            comments.append(" fused: " + name)
        }
    }
}
