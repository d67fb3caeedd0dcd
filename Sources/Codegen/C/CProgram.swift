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

    /// Which step computes a tensor: backbone segment k, or exit head k (run right after it).
    public enum StepID: Sendable, Hashable {
        case segment(Int)
        case head(Int)

        /// Position in the order `<model>_run_all` runs steps: segment 0, head 0, segment 1, ...
        public var order: Int {
            switch self {
            case .segment(let k): 2 * k
            case .head(let k): 2 * k + 1
            }
        }
    }

    /// Where a tensor lives in the arena, for tools that read it between steps.
    public struct TensorLocation: Sendable, Equatable {
        public var name: String
        /// The IR shape: `[1, C, H, W]` (stored channels last, `[H][W][C]`) or `[1, F]` (as it is).
        public var shape: [Int]
        /// Arena offset and length, in floats.
        public var offset: Int
        public var count: Int
        /// The step that writes it (the network input: segment 0, which reads it). The value is
        /// only certain to be intact when that step returns if the program was lowered with it
        /// in `keptAlive`: otherwise a later node of the same step may reuse its memory.
        public var step: StepID
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
    /// Tensors the memory plan keeps live until the end of the step that writes them.
    public var keptAlive: Set<String>
    /// Every tensor the generated code computes, by IR name.
    var locations: [String: TensorLocation]
    /// Tensors of the graph that no step computes (nothing the output or an exit needs reads them).
    var uncomputed: Set<String>

    public var weightCount: Int { weights.values.count }
    /// The packed weights, as `<model>_weights.c` writes them.
    public var weightValues: [Float] { weights.values }
    public var kernelNames: [String] { kernels.map(\.name) }
    public var backboneMacs: Int { segments.reduce(0) { $0 + $1.macs } }

    /// Lowers `model`. `thresholds` gives T per exit (default 0.5 each); `alignment` is the
    /// arena alignment in bytes (a power of two, at least 4). `keepAlive` names tensors (IR node
    /// names of the compiled graph, or its input) that must survive until the step writing them
    /// ends, so a harness can copy them out between steps; it only moves arena offsets, and
    /// empty (the default) gives the ordinary program.
    public init(_ model: Model, thresholds: [Double]? = nil, alignment: Int = 16,
                keepAlive: Set<String> = []) throws(CodegenError) {
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
        try self.init(lowering: model, thresholds: thresholds, alignment: alignment, keepAlive: keepAlive)
    }

    private init(lowering model: Model, thresholds: [Double], alignment: Int, keepAlive: Set<String>) throws(CodegenError) {
        let g = model.graph
        let graph = g.graph
        let bound: BoundWeights
        do {
            bound = try WeightBinder.bind(g, tensors: model.weights, source: "weights")
        } catch {
            throw CodegenError(error.description)
        }
        let schedule = try Schedule(graph)
        let steps = schedule.steps(input: graph.input.name, graph)
        let uncomputed = Set([graph.input.name] + graph.nodes.map(\.name)).subtracting(steps.keys)
        var keepUntil: [String: Int] = [:]
        for name in keepAlive.sorted() {
            guard let step = steps[name] else { throw Self.missing(name, uncomputed: uncomputed) }
            keepUntil[name] = schedule.end(of: step)
        }
        let plan = MemoryPlan(g, alignment: alignment, keepUntil: keepUntil)
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
        self.keptAlive = keepAlive
        var locations: [String: TensorLocation] = [:]
        for buffer in plan.buffers {
            guard let step = steps[buffer.name] else { continue }
            let shape = g.shape(buffer.name)
            locations[buffer.name] = TensorLocation(name: buffer.name, shape: shape, offset: buffer.offset / 4,
                                                    count: elementCount(shape), step: step)
        }
        self.locations = locations
        self.uncomputed = uncomputed
        guard arenaBytes <= Int(UInt32.max), weights.values.count <= Int(Int32.max) else {
            throw CodegenError("the network is too large for the C backend: a \(arenaBytes)-byte arena, \(weights.values.count) weights")
        }
    }
}

extension CProgram {
    /// Where the generated code keeps `name` (an IR node of the compiled graph, or its input).
    public func location(of name: String) throws(CodegenError) -> TensorLocation {
        guard let location = locations[name] else { throw Self.missing(name, uncomputed: uncomputed) }
        return location
    }

    /// Why `name` has no location: never computed, or no tensor of the compiled graph at all.
    static func missing(_ name: String, uncomputed: Set<String>) -> CodegenError {
        if uncomputed.contains(name) {
            return CodegenError("'\(name)' is never computed by the generated code: neither the output nor any exit needs it")
        }
        return CodegenError("'\(name)' is no tensor of the compiled graph (a BatchNorm or ReLU folded or fused by the passes no longer exists: ask for the node it was merged into)")
    }

    /// What eec_runtime.h declares.
    static let runtimeNames: Set<String> = [
        "eec_run", "eec_run_all", "eec_expf", "eec_logf", "eec_threshold_logit", "eec_result", "eec_model", "eec_step",
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

    /// The step computing each node, and the input (read first by segment 0).
    func steps(input: String, _ graph: Graph) -> [String: CProgram.StepID] {
        var steps: [String: CProgram.StepID] = [input: .segment(0)]
        for (k, nodes) in segments.enumerated() { for i in nodes { steps[graph.nodes[i].name] = .segment(k) } }
        for (k, nodes) in heads.enumerated() { for i in nodes { steps[graph.nodes[i].name] = .head(k) } }
        return steps
    }

    /// The memory plan's step (node index + 1) at which `step` has run its last node (0 for an
    /// empty step: nothing to outlive).
    func end(of step: CProgram.StepID) -> Int {
        let nodes: [Int]
        switch step {
        case .segment(let k): nodes = k < segments.count ? segments[k] : []
        case .head(let k): nodes = k < heads.count ? heads[k] : []
        }
        return nodes.max().map { $0 + 1 } ?? 0
    }
}
