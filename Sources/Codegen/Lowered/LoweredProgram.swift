import IR

/// A compiled network lowered for code generation, with every decision a backend shares made:
/// the schedule (segments and exit heads as lists of node calls), each call's kernel (op, shapes,
/// attributes) and the arena slots and weight slices it reads and writes, the distinct kernels,
/// the arena layout and the packed weights. A backend only prints it (see docs/backends.md), so
/// two backends given the same program run the same kernels on the same memory.
///
/// Built by `init(_:thresholds:alignment:keepAlive:)` (ProgramLowering.swift).
public struct LoweredProgram: Sendable {
    /// Which step computes a tensor: backbone segment k, or exit head k (run right after it).
    public enum StepID: Sendable, Hashable {
        case segment(Int)
        case head(Int)

        /// Position in the order every step runs when all exits are evaluated: segment 0,
        /// head 0, segment 1, ...
        public var order: Int {
            switch self {
            case .segment(let k): 2 * k
            case .head(let k): 2 * k + 1
            }
        }
    }

    /// A tensor's slot in the arena, for the calls and for tools that read it between steps.
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

    /// One executed node: its kernel applied to arena slots and weight slices.
    public struct Call: Sendable {
        /// The IR node's name.
        public var node: String
        /// Index into `kernels`.
        var kernelIndex: Int
        /// Tensors read, then the tensor written (IR names; their slots are in `arena`).
        public var inputs: [String]
        public var output: String
        /// The weight tensors the kernel reads, in its parameter order.
        public var weights: [WeightBlob.Entry]
        /// An int8 network's node: the name of its int32 table in `constants` (passed after the weights).
        public var constants: String?
        /// Whether the kernel takes the arena's scratch window as its last argument.
        public var usesScratch: Bool
        public var macs: Int
        /// `layer1.0.conv1: conv2d 3x3 pad 1, relu, [1, 16, 32, 32] -> [1, 16, 32, 32], 2,359,296 MACs`.
        public var description: String
    }

    /// A segment or an exit head: the calls one step runs, in schedule order.
    public struct Step: Sendable {
        public var name: String
        public var id: StepID
        /// `segment1: input -> layer1.2.relu2`, or the head, its classifier and its confidence.
        public var description: String
        public var calls: [Call]
        public var macs: Int { calls.reduce(0) { $0 + $1.macs } }
    }

    public struct Exit: Sendable {
        public var name: String
        /// The backbone tensor the head reads (the output of segment k).
        public var attach: String
        public var head: Step
        /// The tensors holding the class logits and the confidence logit.
        public var logits: String
        public var confidence: String
        /// The compiled-in threshold T (a probability).
        public var threshold: Double
    }

    /// The arena: the memory plan's bytes, then the scratch window (a convolution's padded rows).
    public struct Arena: Sendable {
        public var alignment: Int
        public var planBytes: Int
        /// Where the scratch window starts, in bytes (aligned).
        public var scratchOffset: Int
        public var bytes: Int
        /// Every tensor the generated code computes, in the order it is first written (the
        /// input first): a backend naming slots in this order gives local diffs.
        public var slots: [TensorLocation]
        var byName: [String: Int]

        public func slot(_ name: String) -> TensorLocation? { byName[name].map { slots[$0] } }
    }

    public var model: String
    /// `[1, C, H, W]`.
    public var inputShape: [Int]
    public var input: String
    public var output: String
    public var classes: Int
    public var segments: [Step]
    public var exits: [Exit]
    /// Distinct kernels in order of first use (segments, then exit heads).
    var kernels: [Kernel]
    public var weights: WeightBlob
    /// An int8 network's per-node int32 tables (biases, multipliers, shifts, zero points), by name.
    public var constants: [(name: String, values: [Int32])] = []
    public var isInt8: Bool { weights.isInt8 }
    public var arena: Arena
    /// Tensors the memory plan keeps live until the end of the step that writes them.
    public var keptAlive: Set<String>
    /// Tensors of the graph that no step computes (nothing the output or an exit needs reads them).
    var uncomputed: Set<String>

    public var kernelCount: Int { kernels.count }
    public var backboneMacs: Int { segments.reduce(0) { $0 + $1.macs } }

    /// Every step in the order they run when all exits are evaluated: segment 0, head 0, ...
    public var steps: [Step] {
        var steps: [Step] = []
        for (k, segment) in segments.enumerated() {
            steps.append(segment)
            if k < exits.count { steps.append(exits[k].head) }
        }
        return steps
    }

    /// The kernel a call runs.
    func kernel(of call: Call) -> Kernel { kernels[call.kernelIndex] }
}

extension LoweredProgram {
    /// Where the generated code keeps `name` (an IR node of the compiled graph, or its input).
    public func location(of name: String) throws(CodegenError) -> TensorLocation {
        guard let location = arena.slot(name) else { throw Self.missing(name, uncomputed: uncomputed) }
        return location
    }

    /// Why `name` has no location: never computed, or no tensor of the compiled graph at all.
    static func missing(_ name: String, uncomputed: Set<String>) -> CodegenError {
        if uncomputed.contains(name) {
            return CodegenError("'\(name)' is never computed by the generated code: neither the output nor any exit needs it")
        }
        return CodegenError("'\(name)' is no tensor of the compiled graph (a BatchNorm or ReLU folded or fused by the passes no longer exists: ask for the node it was merged into)")
    }
}
