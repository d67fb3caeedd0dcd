import IR
import Passes
import Runtime

/// A compiled network lowered for C: the schedule (segments and exit heads as lists of node
/// calls), the distinct kernels, the packed weights and the arena. `CSource` prints it.
///
/// The input is a model after the passes (exits inserted, BatchNorm folded, ReLUs fused,
/// segments cut). Every executed node becomes one call of a shape-specialized kernel, reading
/// and writing the arena at the offsets of the memory plan.
public struct CProgram: Sendable {
    /// One executed node: `function(arguments)` calls `kernel`.
    public struct Call: Sendable {
        /// The IR node's name, and its C function (`layer2.1.conv1` → `layer2_1_conv1`).
        public var node: String
        public var function: String
        /// The node's op, shapes and MACs, for the comment above its function.
        public var comment: String
        public var kernel: String
        public var arguments: [String]
        public var usesWeights: Bool
        public var macs: Int
    }

    /// A segment or an exit head: one C function calling its nodes in schedule order.
    public struct Step: Sendable {
        public var name: String
        public var function: String
        public var comment: String
        public var calls: [Call]
        public var macs: Int { calls.reduce(0) { $0 + $1.macs } }
    }

    public struct ExitPoint: Sendable {
        public var name: String
        public var attach: String
        public var head: Step
        /// Arena offsets in floats of the class logits and of the confidence logit.
        public var logitsOffset: Int
        public var confidenceOffset: Int
        /// The compiled-in threshold T (a probability).
        public var threshold: Double
    }

    public var model: String
    /// The C spelling of the model's name: file names and the prefix of every public symbol.
    public var prefix: String
    /// `[1, C, H, W]`.
    public var inputShape: [Int]
    public var inputOffset: Int
    public var classes: Int
    public var segments: [Step]
    public var exits: [ExitPoint]
    public var finalLogitsOffset: Int
    /// Distinct kernels in order of first use, with their C names.
    var kernels: [(name: String, kernel: any CKernel)]
    var weights: WeightBlob
    /// The memory plan's bytes, then the convolution window.
    public var planBytes: Int
    public var scratchOffset: Int
    public var arenaBytes: Int
    public var alignment: Int

    public var weightCount: Int { weights.values.count }
    /// The packed weights, as `<model>_weights.c` writes them.
    public var weightValues: [Float] { weights.values }
    public var kernelNames: [String] { kernels.map(\.name) }
    public var backboneMacs: Int { segments.reduce(0) { $0 + $1.macs } }

    /// Lowers `model`. `thresholds` gives T per exit (default 0.5 each); `alignment` is the
    /// arena alignment in bytes (a power of two, at least 4).
    public init(_ model: Model, thresholds: [Double]? = nil, alignment: Int = 16) throws(CodegenError) {
        let g = model.graph
        let graph = g.graph
        guard alignment >= 4, alignment & (alignment - 1) == 0 else {
            throw CodegenError("the arena alignment must be a power of two of at least 4 bytes, found \(alignment)")
        }
        guard graph.input.shape.count == 4, graph.input.shape[0] == 1 else {
            throw CodegenError("the C backend needs a [1,C,H,W] input, found \(Tensor.describe(graph.input.shape))")
        }
        guard !graph.segments.isEmpty else {
            throw CodegenError("the graph has no segments: run the segment pass before generating C")
        }
        let thresholds = thresholds ?? Array(repeating: 0.5, count: graph.exits.count)
        guard thresholds.count == graph.exits.count else {
            throw CodegenError("\(thresholds.count) threshold\(thresholds.count == 1 ? "" : "s") given for \(graph.exits.count) exit\(graph.exits.count == 1 ? "" : "s")")
        }
        if let bad = thresholds.first(where: { !($0 >= 0 && $0 <= 1) }) {
            throw CodegenError("thresholds are probabilities from 0 to 1, found \(bad)")
        }
        try self.init(lowering: model, thresholds: thresholds, alignment: alignment)
    }

    private init(lowering model: Model, thresholds: [Double], alignment: Int) throws(CodegenError) {
        let g = model.graph
        let graph = g.graph
        let bound: BoundWeights
        do {
            bound = try WeightBinder.bind(g, tensors: model.weights, source: "weights")
        } catch {
            throw CodegenError(error.description)
        }
        let schedule = try Schedule(graph)
        let plan = MemoryPlan(g, alignment: alignment)
        var offsets: [String: Int] = [:]
        for buffer in plan.buffers { offsets[buffer.name] = buffer.offset / 4 }
        let align = alignment
        func aligned(_ bytes: Int) -> Int { (bytes + align - 1) / align * align }
        let scratchOffset = aligned(plan.arenaBytes)

        // Names: nodes first (they keep their own), then segments and exit heads, then kernels.
        // Reserved: C's keywords, the runtime's names, the parameters of segment functions (which
        // call node functions), and every name the header defines.
        var names = NameTable(reserved: CNames.reservedWords.union(Self.runtimeNames).union(["w", "a"]))
        // The public symbols are `<prefix>_run` and so on; a model named `eec` must not take the runtime's.
        let name = CNames.identifier(graph.model)
        let prefix = name == "eec" || name.hasPrefix("eec_") ? "net_" + name : name
        for suffix in ["model", "run", "run_all", "weights", "thresholds", "segments", "heads", "logits_offsets",
                       "confidence_offsets", "segment_macs", "head_macs", "arena"] {
            names.reserve("\(prefix)_\(suffix)")
        }
        for suffix in ["H", "INPUT_CHANNELS", "INPUT_HEIGHT", "INPUT_WIDTH", "INPUT_SIZE", "CLASSES", "EXITS", "ARENA_BYTES",
                       "ARENA_ALIGN", "WEIGHT_COUNT", "BACKBONE_MACS", "STATIC_ARENA", "STATIC_ARENA_DEFINED"] {
            names.reserve("\(prefix.uppercased())_\(suffix)")
        }
        var functionOf: [Int: String] = [:]
        for i in schedule.order { functionOf[i] = names.claim(graph.nodes[i].name) }
        let segmentFunctions = graph.segments.map { names.claim($0.name) }
        let headFunctions = graph.exits.map { names.claim($0.name) }

        var weights = WeightBlob()
        var kernels: [(name: String, kernel: any CKernel)] = []
        var kernelNames: [String: String] = [:]
        var scratchFloats = 0
        func call(_ i: Int) throws(CodegenError) -> Call {
            let node = graph.nodes[i]
            let lowered = try Lowering.lower(node, g, params: bound.byNode[i])
            let kernel = lowered.kernel
            let name: String
            if let known = kernelNames[kernel.key] {
                name = known
            } else {
                name = names.claim("k_" + kernel.key)
                kernelNames[kernel.key] = name
                kernels.append((name, kernel))
            }
            scratchFloats = max(scratchFloats, kernel.scratchFloats)
            var arguments: [String] = []
            for input in node.inputs {
                guard let at = offsets[input] else { throw CodegenError("internal error: no arena offset for '\(input)'") }
                arguments.append("a + \(at)")
            }
            guard let out = offsets[node.name] else { throw CodegenError("internal error: no arena offset for '\(node.name)'") }
            arguments.append("a + \(out)")
            for tensor in lowered.weights {
                arguments.append("w + \(weights.add("\(node.name).\(tensor.name)", layout: tensor.layout, tensor.data))")
            }
            if kernel.scratchFloats > 0 { arguments.append("a + \(scratchOffset / 4)") }
            let shapes = node.inputs.map { Tensor.describe(g.shape($0)) }.joined(separator: ", ")
            let macs = g.cost(node).macs
            var comment = "\(node.name): \(node.op.name)\(lowered.detail), \(shapes) -> \(Tensor.describe(g.shape(node.name)))"
            if macs > 0 { comment += ", \(grouped(macs)) MACs" }
            return Call(node: node.name, function: functionOf[i] ?? "", comment: comment, kernel: name,
                        arguments: arguments, usesWeights: !lowered.weights.isEmpty, macs: macs)
        }

        var segments: [Step] = []
        for (k, segment) in graph.segments.enumerated() {
            var calls: [Call] = []
            for i in schedule.segments[k] { calls.append(try call(i)) }
            segments.append(Step(name: segment.name, function: segmentFunctions[k],
                                 comment: "\(segment.name): \(segment.input) -> \(segment.output)", calls: calls))
        }
        var exits: [ExitPoint] = []
        for (k, exit) in graph.exits.enumerated() {
            var calls: [Call] = []
            for i in schedule.heads[k] { calls.append(try call(i)) }
            guard let logits = offsets[exit.classifier], let confidence = offsets[exit.confidence] else {
                throw CodegenError("internal error: no arena offset for exit '\(exit.name)'")
            }
            let attach = graph.segments[k].output
            exits.append(ExitPoint(name: exit.name, attach: attach,
                                   head: Step(name: exit.name, function: headFunctions[k],
                                              comment: "\(exit.name): head after \(attach), classifier \(exit.classifier), confidence \(exit.confidence)",
                                              calls: calls),
                                   logitsOffset: logits, confidenceOffset: confidence, threshold: thresholds[k]))
        }
        weights.finish()
        guard let inputOffset = offsets[graph.input.name], let finalOffset = offsets[graph.output.name] else {
            throw CodegenError("internal error: no arena offset for the input or the output")
        }
        self.model = graph.model
        self.prefix = prefix
        self.inputShape = graph.input.shape
        self.inputOffset = inputOffset
        self.classes = g.classes
        self.segments = segments
        self.exits = exits
        self.finalLogitsOffset = finalOffset
        self.kernels = kernels
        self.weights = weights
        self.planBytes = plan.arenaBytes
        self.scratchOffset = scratchOffset
        self.arenaBytes = scratchOffset + aligned(scratchFloats * 4)
        self.alignment = alignment
        guard arenaBytes <= Int(UInt32.max), weights.values.count <= Int(Int32.max) else {
            throw CodegenError("the network is too large for the C backend: a \(arenaBytes)-byte arena, \(weights.values.count) weights")
        }
    }
}

extension CProgram {
    /// What eec_runtime.h declares.
    static let runtimeNames: Set<String> = [
        "eec_run", "eec_run_all", "eec_expf", "eec_threshold_logit", "eec_result", "eec_model", "eec_step",
        "EEC_RUNTIME_H", "EEC_OK", "EEC_ERROR_NULL", "EEC_ERROR_ALIGNMENT", "EEC_LOGIT_MAX",
    ]
}

/// Hands out unique C identifiers: the first claim of a name gets it as it is (made a valid
/// identifier), later ones a numeric suffix.
struct NameTable {
    private var taken: Set<String>

    init(reserved: Set<String>) {
        taken = reserved
    }

    mutating func reserve(_ name: String) { taken.insert(name) }

    mutating func claim(_ name: String) -> String {
        let base = CNames.identifier(name)
        var candidate = base
        var n = 1
        while taken.contains(candidate) {
            n += 1
            candidate = "\(base)_\(n)"
        }
        taken.insert(candidate)
        return candidate
    }
}

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
}
