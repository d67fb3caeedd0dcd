import IR
import Passes
import Runtime

/// A lowered program with its C names: the prefix of the public symbols, one function per node,
/// per segment and per exit head, one per distinct kernel, and each call's argument list.
/// Every other decision (schedule, kernels, arena, weights) is the `LoweredProgram`'s;
/// `CSource` prints the files.
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

    public typealias StepID = LoweredProgram.StepID
    public typealias TensorLocation = LoweredProgram.TensorLocation

    public struct ExitPoint: Sendable {
        public var name: String
        public var attach: String
        public var head: Step
        /// Arena offsets in floats of the class logits and of the confidence logit, and the
        /// names of those offsets in `<model>.c`.
        public var logitsOffset: Int
        public var confidenceOffset: Int
        public var logitsSlot: String
        public var confidenceSlot: String
        /// The compiled-in threshold T (a probability).
        public var threshold: Double
    }

    /// Every decision but the names.
    public let lowered: LoweredProgram
    /// The C spelling of the model's name: file names and the prefix of every public symbol.
    public var prefix: String
    public var segments: [Step]
    public var exits: [ExitPoint]
    /// Distinct kernels in order of first use, with their C names.
    var kernels: [(name: String, kernel: Kernel)]
    /// The enum constants `<model>.c` defines, so that calls name offsets instead of spelling
    /// them (a change to one node then changes only its own lines): each arena slot in the order
    /// tensors are first written (`a_<tensor>`), the scratch window (`a_window`) when a kernel
    /// uses it, and each weight tensor in blob order (`w_<node>_<tensor>`).
    var slotNames: [(name: String, slot: TensorLocation)]
    var windowName: String?
    var weightNames: [(name: String, entry: WeightBlob.Entry)]
    /// An int8 network's int32 tables, one per node (`q_<node>`), in the order of `lowered.constants`.
    var constantNames: [(name: String, values: [Int32])]
    public var inputSlot: String
    public var finalLogitsSlot: String

    public var model: String { lowered.model }
    /// `[1, C, H, W]`.
    public var inputShape: [Int] { lowered.inputShape }
    public var inputOffset: Int { lowered.arena.slot(lowered.input)?.offset ?? 0 }
    public var classes: Int { lowered.classes }
    public var finalLogitsOffset: Int { lowered.arena.slot(lowered.output)?.offset ?? 0 }
    /// The memory plan's bytes, then the convolution window.
    public var planBytes: Int { lowered.arena.planBytes }
    public var scratchOffset: Int { lowered.arena.scratchOffset }
    public var arenaBytes: Int { lowered.arena.bytes }
    public var alignment: Int { lowered.arena.alignment }
    /// Tensors the memory plan keeps live until the end of the step that writes them.
    public var keptAlive: Set<String> { lowered.keptAlive }
    /// Floats in the weights, or bytes for an int8 network.
    public var weightCount: Int { lowered.isInt8 ? lowered.weights.bytes.count : lowered.weights.values.count }
    public var isInt8: Bool { lowered.isInt8 }
    /// The packed weights, as `<model>_weights.c` writes them.
    public var weightValues: [Float] { lowered.weights.values }
    public var kernelNames: [String] { kernels.map(\.name) }
    public var backboneMacs: Int { segments.reduce(0) { $0 + $1.macs } }

    /// Lowers `model` (see `LoweredProgram.init(_:thresholds:alignment:keepAlive:)`) and names it.
    public init(_ model: Model, thresholds: [Double]? = nil, alignment: Int = 16,
                keepAlive: Set<String> = []) throws(CodegenError) {
        try self.init(try LoweredProgram(model, thresholds: thresholds, alignment: alignment, keepAlive: keepAlive))
    }

    /// Names a lowered program for C.
    public init(_ lowered: LoweredProgram) throws(CodegenError) {
        // The eec_model's offsets are uint32_t and the kernels index with int.
        guard lowered.arena.bytes <= Int(UInt32.max), lowered.weights.values.count <= Int(Int32.max) else {
            throw CodegenError("the network is too large for the C backend: a \(lowered.arena.bytes)-byte arena, \(lowered.weights.values.count) weights")
        }
        self.lowered = lowered
        let arena = lowered.arena
        // Names: nodes first (they keep their own), then segments and exit heads, then kernels.
        // Reserved: C's keywords, the runtime's names, the parameters of segment functions (which
        // call node functions), and every name the header defines.
        var names = NameTable(reserved: CNames.reservedWords.union(Self.runtimeNames).union(["w", "a"]))
        // The public symbols are `<prefix>_run` and so on; a model named `eec` must not take the runtime's.
        let name = CNames.identifier(lowered.model)
        prefix = name == "eec" || name.hasPrefix("eec_") ? "net_" + name : name
        for suffix in ["model", "run", "run_all", "weights", "thresholds", "segments", "heads", "logits_offsets",
                       "confidence_offsets", "segment_macs", "head_macs", "arena"] {
            names.reserve("\(prefix)_\(suffix)")
        }
        for suffix in ["H", "INPUT_CHANNELS", "INPUT_HEIGHT", "INPUT_WIDTH", "INPUT_SIZE", "CLASSES", "EXITS", "ARENA_BYTES",
                       "ARENA_ALIGN", "WEIGHT_COUNT", "BACKBONE_MACS", "STATIC_ARENA", "STATIC_ARENA_DEFINED"] {
            names.reserve("\(prefix.uppercased())_\(suffix)")
        }
        var functionOf: [String: String] = [:]
        for step in lowered.steps { for call in step.calls { functionOf[call.node] = names.claim(call.node) } }
        let segmentFunctions = lowered.segments.map { names.claim($0.name) }
        let headFunctions = lowered.exits.map { names.claim($0.name) }
        kernels = lowered.kernels.map { (names.claim("k_" + $0.key), $0) }
        // Offset names come last, so that they never change a function's or a kernel's name.
        slotNames = arena.slots.map { (names.claim($0.name, prefix: "a_"), $0) }
        let usesWindow = lowered.steps.contains { $0.calls.contains(where: \.usesScratch) }
        windowName = usesWindow ? names.claim("window", prefix: "a_") : nil
        weightNames = lowered.weights.entries.map { (names.claim($0.name, prefix: "w_"), $0) }
        constantNames = lowered.constants.map { (names.claim($0.name, prefix: "q_"), $0.values) }
        var tableName: [String: String] = [:]
        for (name, table) in zip(constantNames, lowered.constants) { tableName[table.name] = name.name }

        var slotName: [String: String] = [:]
        for (name, slot) in slotNames { slotName[slot.name] = name }
        var weightName: [String: String] = [:]
        for (name, entry) in weightNames { weightName[entry.name] = name }
        func offset(_ tensor: String) -> Int { arena.slot(tensor)?.offset ?? 0 }
        func slot(_ tensor: String) -> String { slotName[tensor] ?? "\(offset(tensor))" }
        inputSlot = slot(lowered.input)
        finalLogitsSlot = slot(lowered.output)
        let kernels = self.kernels
        let window = windowName ?? "\(arena.scratchOffset / 4)"
        func step(_ step: LoweredProgram.Step, function: String) -> Step {
            let calls = step.calls.map { call in
                var arguments = (call.inputs + [call.output]).map { "a + \(slot($0))" }
                if let k = kernels[call.kernelIndex].kernel as? Int8Kernel {
                    // uint8 slots are cast; int8 weights are bytes from the start of the blob.
                    let types = k.arenaTypes(inputs: call.inputs.count)
                    arguments = zip(call.inputs + [call.output], types.inputs + [types.output]).map { tensor, type in
                        type == "float" ? "a + \(slot(tensor))" : "(\(type) *)(a + \(slot(tensor)))"
                    }
                    arguments += call.weights.map { "(const int8_t *)(const void *)w + \(weightName[$0.name] ?? "\($0.offset)")" }
                    if let table = call.constants { arguments.append(tableName[table] ?? table) }
                    if call.usesScratch { arguments.append("(uint8_t *)(a + \(window))") }
                } else {
                    arguments += call.weights.map { "w + \(weightName[$0.name] ?? "\($0.offset)")" }
                    if call.usesScratch { arguments.append("a + \(window)") }
                }
                return Call(node: call.node, function: functionOf[call.node] ?? "", comment: call.description,
                            kernel: kernels[call.kernelIndex].name, arguments: arguments,
                            usesWeights: !call.weights.isEmpty, macs: call.macs)
            }
            return Step(name: step.name, function: function, comment: step.description, calls: calls)
        }
        segments = zip(lowered.segments, segmentFunctions).map { step($0, function: $1) }
        exits = zip(lowered.exits, headFunctions).map { exit, function in
            ExitPoint(name: exit.name, attach: exit.attach, head: step(exit.head, function: function),
                      logitsOffset: offset(exit.logits), confidenceOffset: offset(exit.confidence),
                      logitsSlot: slot(exit.logits), confidenceSlot: slot(exit.confidence), threshold: exit.threshold)
        }
    }
}

extension CProgram {
    /// Where the generated code keeps `name` (an IR node of the compiled graph, or its input).
    public func location(of name: String) throws(CodegenError) -> TensorLocation {
        try lowered.location(of: name)
    }

    /// What eec_runtime.h declares.
    static let runtimeNames: Set<String> = [
        "eec_run", "eec_run_all", "eec_expf", "eec_logf", "eec_threshold_logit", "eec_result", "eec_model", "eec_step",
        "EEC_RUNTIME_H", "EEC_OK", "EEC_ERROR_NULL", "EEC_ERROR_ALIGNMENT", "EEC_LOGIT_MAX", "EEC_NO_CLASS",
    ]
}
