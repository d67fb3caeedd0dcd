/// A lowered program with its Swift names: the module and type name, one function per node, per
/// segment and per exit head, one per distinct kernel, and one `static let` per arena slot and
/// weight entry. Claimed in the order docs/backends.md gives (functions, kernels, then offsets),
/// so offsets never rename a function and one changed node gives a local diff. `SwiftSource`
/// prints the files.
public struct SwiftProgram: Sendable {
    public let lowered: LoweredProgram
    /// The module, the package and the public enum holding the API (`resnet20` → `Resnet20`).
    public let typeName: String
    var nodeFunctions: [String: String] = [:]
    var segmentFunctions: [String]
    var headFunctions: [String]
    var kernels: [(name: String, kernel: Kernel)]
    var slotNames: [(name: String, slot: LoweredProgram.TensorLocation)]
    var windowName: String?
    var weightNames: [(name: String, entry: WeightBlob.Entry)]
    private var slotOf: [String: String] = [:]
    private var weightOf: [String: String] = [:]

    public var model: String { lowered.model }

    public init(_ lowered: LoweredProgram) {
        self.lowered = lowered
        let base = CNames.identifier(lowered.model)
        let type = base.prefix(1).uppercased() + base.dropFirst()
        // A module named like a standard one would shadow it for every client.
        typeName = Self.reservedWords.union(["Swift", "Foundation"]).contains(type) ? "Net" + type : type
        var names = NameTable(reserved: Self.reservedWords.union(Self.runtimeNames).union([typeName, "w", "a"]))
        for step in lowered.steps { for call in step.calls { nodeFunctions[call.node] = names.claim(call.node) } }
        segmentFunctions = lowered.segments.map { names.claim($0.name) }
        headFunctions = lowered.exits.map { names.claim($0.name) }
        kernels = lowered.kernels.map { (names.claim("k_" + $0.key), $0) }
        slotNames = lowered.arena.slots.map { (names.claim($0.name, prefix: "a_"), $0) }
        let usesWindow = lowered.steps.contains { $0.calls.contains(where: \.usesScratch) }
        windowName = usesWindow ? names.claim("window", prefix: "a_") : nil
        weightNames = lowered.weights.entries.map { (names.claim($0.name, prefix: "w_"), $0) }
        for (name, slot) in slotNames { slotOf[slot.name] = name }
        for (name, entry) in weightNames { weightOf[entry.name] = name }
    }

    /// The name of a tensor's arena offset (every computed tensor has one).
    func slot(_ tensor: String) -> String {
        slotOf[tensor] ?? "\(lowered.arena.slot(tensor)?.offset ?? 0)"
    }

    /// `kernel(a + a_x, a + a_y, w + w_node_weight, ...)`, the body of a node's function.
    func invocation(_ call: LoweredProgram.Call) -> String {
        var arguments = (call.inputs + [call.output]).enumerated().map { i, tensor in
            // Inputs are read-only: the kernels take UnsafePointer for them.
            i < call.inputs.count ? "UnsafePointer(a + \(slot(tensor)))" : "a + \(slot(tensor))"
        }
        arguments += call.weights.map { "w + \(weightOf[$0.name] ?? "\($0.offset)")" }
        if call.usesScratch { arguments.append("a + \(windowName ?? "\(lowered.arena.scratchOffset / 4)")") }
        return "\(kernels[call.kernelIndex].name)(\(arguments.joined(separator: ", ")))"
    }

    /// Swift's keywords, the standard names a file-level function must not shadow, and the
    /// locals of the generated functions.
    static let reservedWords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
        "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public", "rethrows", "static",
        "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue", "default", "defer", "do",
        "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw", "switch", "where", "while",
        "Any", "as", "await", "false", "is", "nil", "self", "Self", "super", "throws", "true", "try", "async",
        "consume", "copy", "discard", "each", "borrowing", "consuming", "some", "any", "Type", "Protocol",
        "print", "min", "max", "abs", "stride", "zip", "precondition", "fatalError", "assert",
        "Float", "Int", "Int32", "UInt32", "UInt64", "UInt8", "Bool", "String", "SIMD", "main",
    ]

    /// What Runtime.swift and the API declare.
    static let runtimeNames: Set<String> = [
        "EECResult", "EECNetwork", "eecRun", "eecRunAll", "eecExp", "eecLog", "eecPow2", "eecThresholdLogit",
        "eecLogitMax", "eecNoClass", "eecFMA", "eecDecodeHex", "eecArgmax", "run", "runAll", "loadWeights",
        "segment", "head", "segmentMacs", "headMacs", "logitsOffset", "confidenceOffset", "thresholdLogits",
        "inputChannels", "inputHeight", "inputWidth", "inputSize", "inputOffset", "classes", "exits", "arenaBytes",
        "arenaFloats", "arenaAlignment", "weightCount", "backboneMacs",
    ]
}
