/// The kernels of an int8 network (`IntegerProgram`), as data: each reuses the geometry of its
/// float kernel and computes what `Int8Interpreter` computes, bit for bit. Activations are
/// uint8 channels last; the network's outputs (logits, confidences) are float32; weights are
/// int8 in the same packed layouts as the float ones; every node-specific integer (bias,
/// multipliers, shifts, zero points) is in the node's int32 table (`LoweredProgram.constants`),
/// so nodes of the same shape share one kernel. Keys start with `i8_`.
enum Int8Kernel: KernelSpec {
    /// The float32 input (channels last) to uint8 codes, in place. Table: [zero point].
    case quantizeInput(count: Int, inverseScale: Float)
    /// Table: [bias OC][multiplier OC][shift OC][input zero point, output zero point, low].
    case conv(ConvKernel, Int8Output)
    /// Table as conv's.
    case linear(LinearKernel, Int8Output)
    /// Table: [z0, m0, z1, m1, shift, output zero point, low].
    case add(count: Int)
    /// Table: per input [rescaled (0 or 1), zero point, multiplier, shift, output zero point].
    case concat(ConcatKernel)
    /// Max: no table. Average: [zero point] (padding counts as real zero).
    case pool(PoolKernel)
    case globalAvgPool(GlobalAvgPoolKernel)
    /// Table: [zero point].
    case relu(count: Int)
    case flatten(FlattenKernel)
    case subsample(SubsampleKernel)
    /// Table: [zero point].
    case channelPad(ChannelPadKernel)
    /// Float logits q · 2^−exponent to the confidence of `IntegerMath.confidence`. Table:
    /// [octaves mantissa, octaves shift].
    case maxSoftmaxLogit(classes: Int, exponent: Int32)

    var key: String {
        switch self {
        case .quantizeInput(let count, let s): "i8_quantize_input_\(count)_s\(String(s.bitPattern, radix: 16))"
        case .conv(let k, let out): "i8_" + k.key + out.keySuffix
        case .linear(let k, let out): "i8_" + k.key + out.keySuffix
        case .add(let count): "i8_add_\(count)"
        case .concat(let k): "i8_" + k.key
        case .pool(let k): "i8_" + k.key
        case .globalAvgPool(let k): "i8_" + k.key
        case .relu(let count): "i8_relu_\(count)"
        case .flatten(let k): "i8_" + k.key
        case .subsample(let k): "i8_" + k.key
        case .channelPad(let k): "i8_" + k.key
        case .maxSoftmaxLogit(let classes, let e): "i8_max_softmax_logit_\(classes)_e\(e)"
        }
    }

    var summary: String {
        switch self {
        case .quantizeInput(let count, _): "float32 input to uint8 codes, \(grouped(count)) values, in place"
        case .conv(let k, let out): "int8 " + k.summary + out.summaryNote
        case .linear(let k, let out): "int8 " + k.summary + out.summaryNote
        case .add(let count): "int8 add of \(grouped(count)) values, rescaled to the output's scale"
        case .concat(let k): "int8 " + k.summary + ", inputs rescaled where their scale differs"
        case .pool(let k): "int8 " + k.summary
        case .globalAvgPool(let k): "int8 " + k.summary
        case .relu(let count): "int8 relu over \(grouped(count)) values: max(q, zero point)"
        case .flatten(let k): "int8 " + k.summary
        case .subsample(let k): "int8 " + k.summary
        case .channelPad(let k): "int8 " + k.summary + ", new channels at the zero point"
        case .maxSoftmaxLogit(let classes, let e): "confidence of \(classes) int8 logits at scale 2^-\(e), in integers"
        }
    }

    /// A convolution prints its own summary (its tile functions come first).
    var summaryAbove: Bool {
        if case .conv = self { return false }
        return true
    }

    /// Scratch in floats (4-byte units of the arena): a padded convolution's uint8 window.
    var scratchFloats: Int {
        if case .conv(let k, _) = self, k.windowed { return (k.kernel.0 * k.windowWidth * k.input.c + 3) / 4 }
        return 0
    }
}

/// What a convolution or linear layer writes.
enum Int8Output: Sendable, Equatable {
    case uint8
    /// float32 values q · 2^−exponent.
    case logits(exponent: Int32)

    var keySuffix: String {
        if case .logits(let e) = self { return "_logits_e\(e)" }
        return ""
    }

    var summaryNote: String {
        if case .logits(let e) = self { return ", float32 logits at scale 2^-\(e)" }
        return ", requantized to uint8"
    }
}
