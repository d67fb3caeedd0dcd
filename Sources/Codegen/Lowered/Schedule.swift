import IR

/// The order the generated code runs nodes in: segment 0's backbone nodes, exit head 0, segment 1,
/// and so on. The memory plan assumes node order, so this order must be node order.
struct Schedule {
    var segments: [[Int]]
    var heads: [[Int]]
    var order: [Int]

    init(_ graph: Graph) throws(CodegenError) {
        let index = graph.nodeIndex()
        let backbone = graph.backbone(index: index)
        var segments: [[Int]] = []
        var start = 0
        for segment in graph.segments {
            guard let end = index[segment.output] else {
                throw CodegenError("segment '\(segment.name)' ends at '\(segment.output)', which is not a node")
            }
            segments.append((start...max(start, end)).filter { $0 <= end && backbone[$0] })
            start = end + 1
        }
        var assigned = backbone
        var heads: [[Int]] = []
        for exit in graph.exits {
            let members = graph.ancestors(of: [exit.classifier, exit.confidence], index: index)
            let nodes = graph.nodes.indices.filter { members[$0] && !assigned[$0] }
            for i in nodes { assigned[i] = true }
            heads.append(nodes)
        }
        guard segments.count == graph.exits.count + 1 else {
            throw CodegenError("\(graph.segments.count) segments for \(graph.exits.count) exits: expected one more segment than exits")
        }
        var order: [Int] = []
        for k in segments.indices {
            order += segments[k]
            if k < heads.count { order += heads[k] }
        }
        for (a, b) in zip(order, order.dropFirst()) where a >= b {
            throw CodegenError("'\(graph.nodes[b].name)' must run after '\(graph.nodes[a].name)' (segment, then its exit head), but comes before it in the graph: the memory plan follows node order")
        }
        self.segments = segments
        self.heads = heads
        self.order = order
    }

    /// The step computing each node, and the input (read first by segment 0).
    func steps(input: String, _ graph: Graph) -> [String: LoweredProgram.StepID] {
        var steps: [String: LoweredProgram.StepID] = [input: .segment(0)]
        for (k, nodes) in segments.enumerated() { for i in nodes { steps[graph.nodes[i].name] = .segment(k) } }
        for (k, nodes) in heads.enumerated() { for i in nodes { steps[graph.nodes[i].name] = .head(k) } }
        return steps
    }

    /// The memory plan's step (node index + 1) at which `step` has run its last node (0 for an
    /// empty step: nothing to outlive).
    func end(of step: LoweredProgram.StepID) -> Int {
        let nodes: [Int]
        switch step {
        case .segment(let k): nodes = k < segments.count ? segments[k] : []
        case .head(let k): nodes = k < heads.count ? heads[k] : []
        }
        return nodes.max().map { $0 + 1 } ?? 0
    }
}
