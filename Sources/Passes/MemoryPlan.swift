import IR

/// Where every tensor lives in one arena, planned over the segmented schedule.
///
/// The schedule is the node order: each segment's backbone nodes, then the exit head that reads
/// its output, so a head runs while the backbone tensor it reads is still live, and a value
/// needed by the next segment survives the head. Each tensor is live from the node that writes it
/// to the last node that reads it (exit logits until their head ends; the network input from the
/// start; the final logits to the end). Offsets come from TensorFlow Lite Micro's greedy-by-size
/// planner: largest tensor first, each at the lowest offset that overlaps no tensor live at the
/// same time.
///
/// `keepUntil` lengthens chosen live ranges: a tool that reads tensors between steps of the
/// generated code (the C harness's feature dump) needs each to survive until the step that
/// produced it ends, though its last reader may come earlier. Empty, the plan is the default one.
public struct MemoryPlan: Sendable {
    public struct Buffer: Sendable {
        public var name: String
        public var bytes: Int
        public var offset: Int
        /// First and last schedule step it is live (step 0 = before the first node).
        public var firstStep: Int
        public var lastStep: Int
    }

    public var buffers: [Buffer]
    public var alignment: Int
    /// Bytes the arena needs.
    public var arenaBytes: Int
    /// The largest total of (aligned) tensors live at one step: no plan can do better.
    public var lowerBoundBytes: Int
    /// The arena if nothing were reused.
    public var noReuseBytes: Int

    /// `keepUntil[name] = s`: the tensor stays live at least until schedule step `s` (step i + 1
    /// runs node i). Names that are no tensor of the graph are ignored (callers check them).
    /// `bytesPerElement` gives a tensor's element size when it is not a float (an int8 network's
    /// uint8 activations).
    public init(_ g: VerifiedGraph, alignment: Int = 16, keepUntil: [String: Int] = [:],
                bytesPerElement: [String: Int] = [:]) {
        let graph = g.graph
        let index = graph.nodeIndex()
        // Step s + 1 runs node s; step 0 holds the input.
        var last: [String: Int] = [graph.input.name: 0]
        var first: [String: Int] = [graph.input.name: 0]
        for (i, node) in graph.nodes.enumerated() {
            first[node.name] = i + 1
            last[node.name] = max(last[node.name] ?? 0, i + 1)
            for input in node.inputs { last[input] = max(last[input] ?? 0, i + 1) }
        }
        for exit in graph.exits {
            let members = graph.ancestors(of: [exit.classifier, exit.confidence], index: index)
            let end = (graph.nodes.indices.last { members[$0] } ?? 0) + 1
            for name in [exit.classifier, exit.confidence] { last[name] = max(last[name] ?? 0, end) }
        }
        last[graph.output.name] = graph.nodes.count
        for (name, step) in keepUntil where first[name] != nil { last[name] = max(last[name] ?? 0, min(step, graph.nodes.count)) }
        let align = max(1, alignment)
        func aligned(_ bytes: Int) -> Int { (bytes + align - 1) / align * align }
        var buffers = ([graph.input.name] + graph.nodes.map(\.name)).map { name in
            Buffer(name: name, bytes: aligned(elementCount(g.shape(name)).saturatingMul(bytesPerElement[name] ?? 4)), offset: 0,
                   firstStep: first[name] ?? 0, lastStep: last[name] ?? 0)
        }
        // Greedy by size; ties broken by schedule position so the plan is deterministic.
        let order = buffers.indices.sorted { a, b in
            buffers[a].bytes != buffers[b].bytes ? buffers[a].bytes > buffers[b].bytes : buffers[a].firstStep < buffers[b].firstStep
        }
        var placed: [Int] = []
        var arena = 0
        for i in order {
            let overlapping = placed.filter {
                buffers[$0].firstStep <= buffers[i].lastStep && buffers[i].firstStep <= buffers[$0].lastStep
            }.sorted { buffers[$0].offset < buffers[$1].offset }
            var offset = 0
            for j in overlapping {
                if offset + buffers[i].bytes <= buffers[j].offset { break }
                offset = max(offset, buffers[j].offset + buffers[j].bytes)
            }
            buffers[i].offset = offset
            arena = max(arena, offset + buffers[i].bytes)
            placed.append(i)
        }
        var liveBytes = [Int](repeating: 0, count: graph.nodes.count + 1)
        for b in buffers { for s in b.firstStep...max(b.firstStep, b.lastStep) { liveBytes[s] += b.bytes } }
        self.buffers = buffers
        self.alignment = align
        self.arenaBytes = arena
        self.lowerBoundBytes = liveBytes.max() ?? 0
        self.noReuseBytes = buffers.reduce(0) { $0 + $1.bytes }
    }
}
