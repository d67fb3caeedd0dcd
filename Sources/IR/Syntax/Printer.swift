/// Prints a graph in canonical `.eeir` form (see docs/IR.md). The output is deterministic and
/// parses back to a graph that prints the same way: `fmt(parse(fmt(g))) == fmt(g)`.
public enum Printer {
    /// What to append to a node's line as an end-of-line comment (shape, cost), if anything.
    public typealias Annotation = (Node) -> String?

    public static func print(_ graph: Graph, annotate: Annotation? = nil) -> String {
        var out = ""
        var first = true
        func emit(_ trivia: Trivia, _ line: String) {
            if trivia.blankLineBefore && !first { out += "\n" }
            for comment in trivia.comments { out += comment.isEmpty ? "#\n" : "#\(comment)\n" }
            out += line + "\n"
            first = false
        }
        emit(Trivia(comments: graph.headerComments), "model \(graph.model)")
        emit(graph.input.trivia, "input \(graph.input.name): f32\(Tensor.describe(graph.input.shape))")
        // Each exit goes right after the later of its two head nodes (or before all nodes).
        let index = graph.nodeIndex()
        var exitsAfter: [Int: [Exit]] = [:]
        for exit in graph.exits {
            let at = max(index[exit.classifier] ?? -1, index[exit.confidence] ?? -1)
            exitsAfter[at, default: []].append(exit)
        }
        for exit in exitsAfter[-1] ?? [] { emit(exit.trivia, line(exit)) }
        let segmentsBefore = segmentPositions(graph, index)
        for (i, node) in graph.nodes.enumerated() {
            for segment in segmentsBefore[i] ?? [] { emit(segment.trivia, line(segment)) }
            var text = line(node)
            if let note = annotate?(node) { text += "  # " + note }
            emit(node.trivia, text)
            for exit in exitsAfter[i] ?? [] { emit(exit.trivia, line(exit)) }
        }
        for segment in segmentsBefore[graph.nodes.count] ?? [] { emit(segment.trivia, line(segment)) }
        emit(graph.output.trivia, "output \(graph.output.name)")
        if !graph.trailingComments.isEmpty {
            out += "\n"
            for comment in graph.trailingComments { out += comment.isEmpty ? "#\n" : "#\(comment)\n" }
        }
        return out
    }

    /// Each segment goes before the first node after its input that the output depends on
    /// (exit heads attached to the input come first); a segment that fits nowhere goes last.
    static func segmentPositions(_ graph: Graph, _ index: [String: Int]) -> [Int: [Segment]] {
        guard !graph.segments.isEmpty else { return [:] }
        let backbone = graph.backbone(index: index)
        var positions: [Int: [Segment]] = [:]
        for segment in graph.segments {
            let start = (index[segment.input] ?? -1) + 1
            let at = (start..<max(start, graph.nodes.count)).first { backbone[$0] } ?? graph.nodes.count
            positions[at, default: []].append(segment)
        }
        return positions
    }

    public static func line(_ segment: Segment) -> String {
        "segment \(segment.name)(input=\(segment.input), output=\(segment.output))"
    }

    public static func line(_ node: Node) -> String {
        var args = node.inputs
        for spec in node.op.definition.attributes {
            guard let value = node.attributes[spec.name] else { continue }
            if case .value(let defaultValue) = spec.defaultValue, same(value, defaultValue) { continue }
            // The one derived default: a pooling stride equal to the kernel is left out too.
            if case .derived = spec.defaultValue, spec.name == "stride", let kernel = node.attributes["kernel"], same(value, kernel) { continue }
            args.append("\(spec.name)=\(canonical(value, spec.kind))")
        }
        // Attributes the op does not know (only in graphs that failed verification) go last, sorted.
        let known = Set(node.op.definition.attributes.map(\.name))
        for key in node.attributes.values.keys.sorted() where !known.contains(key) {
            if let value = node.attributes[key] { args.append("\(key)=\(canonical(value))") }
        }
        return "\(node.name) = \(node.op.name)(\(args.joined(separator: ", ")))"
    }

    public static func line(_ exit: Exit) -> String {
        "exit \(exit.name)(classifier=\(exit.classifier), confidence=\(exit.confidence))"
    }

    /// `[3, 3]` prints as `3`; an integer given for a float prints as a float.
    static func canonical(_ value: AttributeValue, _ kind: AttributeSpec.Kind? = nil) -> String {
        switch (value, kind) {
        case (.ints(let v), _) where v.count == 2 && v[0] == v[1]: return String(v[0])
        case (.int(let v), .float?): return AttributeValue.float(Double(v)).description
        default: return value.description
        }
    }

    static func same(_ a: AttributeValue, _ b: AttributeValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .float(let y)), (.float(let y), .int(let x)): return Double(x) == y
        case (.ints(let v), .int(let x)), (.int(let x), .ints(let v)): return v.count == 2 && v[0] == x && v[1] == x
        default: return a == b
        }
    }
}
