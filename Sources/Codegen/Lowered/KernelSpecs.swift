import IR

/// What a kernel computes, as data: its op, shapes and attributes, with every bound a constant.
/// The lowered program gives each node one of these; nodes whose kernels have the same `key`
/// share one function in the generated code (the twelve identical convolutions of a ResNet stage
/// are one kernel), so code size grows with the number of distinct shapes, not of layers.
///
/// Arguments, in order: input tensors, the output tensor, weight slices, then the scratch window
/// when `scratchFloats > 0`. Values are channels last (see `KernelLayout`).
protocol KernelSpec: Sendable {
    /// Spells the whole signature; a backend names the kernel's function after it (`k_` + key in C).
    var key: String { get }
    /// One line for the comment above the function.
    var summary: String { get }
    /// Scratch floats the kernel needs (a convolution's padded window), 0 for none.
    var scratchFloats: Int { get }
    /// The backends print `summary` as a comment above the function; false for a kernel that
    /// prints its own (a convolution, whose tile functions come first).
    var summaryAbove: Bool { get }
}

extension KernelSpec {
    var scratchFloats: Int { 0 }
    var summaryAbove: Bool { true }
}

/// `[H][W][C]` geometry of a feature map, from an IR shape `[1, C, H, W]` (or `[1, F]`: 1×1×F).
struct MapShape: Equatable {
    var h: Int, w: Int, c: Int

    init(_ shape: [Int]) {
        if shape.count == 4 {
            (h, w, c) = (shape[2], shape[3], shape[1])
        } else {
            (h, w, c) = (1, 1, shape.dropFirst().reduce(1, *))
        }
    }

    var count: Int { h * w * c }
    var spelled: String { "\(h)x\(w)x\(c)" }
}

/// A kernel applying one function to each of `count` floats (the kernel of an `ElementwiseOp`):
/// key `<op>_<count>`, and a lowering that reads nothing but the output's size. A backend prints
/// it from the function's expression alone.
protocol ElementwiseKernel: KernelSpec, OpLowering {
    /// The op it computes, named in the key and summary.
    static var op: OpKind { get }
    var count: Int { get }
    init(count: Int)
}

extension ElementwiseKernel {
    var key: String { "\(Self.op.name)_\(count)" }
    var summary: String { "\(Self.op.name) over \(grouped(count)) floats" }
}

extension ElementwiseKernel where Self: Kernel {
    static func lower(_ n: NodeToLower) throws(CodegenError) -> LoweredNode {
        LoweredNode(kernel: Self(count: elementCount(n.output)), weights: [], detail: "")
    }
}

/// y = max(x, 0).
struct ReluKernel: ElementwiseKernel {
    static let op = OpKind.relu
    var count: Int
}

/// y = min(max(x, 0), 6).
struct Relu6Kernel: ElementwiseKernel {
    static let op = OpKind.relu6
    var count: Int
}

/// y = x0 + x1, then max(·, 0) when a ReLU was fused into the add.
struct AddKernel: KernelSpec, OpLowering {
    var count: Int
    var relu: Bool
    var key: String { "add_\(count)" + (relu ? "_relu" : "") }
    var summary: String { "add of \(grouped(count)) floats" + (relu ? ", relu" : "") }

    static func lower(_ n: NodeToLower) throws(CodegenError) -> LoweredNode {
        LoweredNode(kernel: AddKernel(count: elementCount(n.output), relu: n.relu), weights: [], detail: n.reluNote)
    }
}

/// Per-channel scale and shift (an inference BatchNorm that could not be folded into a conv).
struct BatchNormKernel: KernelSpec, OpLowering {
    var map: MapShape
    var key: String { "batchnorm_\(map.spelled)" }
    var summary: String { "batchnorm as scale and shift per channel, [\(map.h)][\(map.w)][\(map.c)]" }

    static func lower(_ n: NodeToLower) throws(CodegenError) -> LoweredNode {
        let (scale, shift) = KernelLayout.batchNormScaleShift(n.params, eps: n.attributes.float("eps", default: 1e-5))
        let c = scale.count
        return LoweredNode(kernel: BatchNormKernel(map: try n.map(n.output)),
                           weights: [.init(name: "scale", layout: "[\(c)] gamma / sqrt(var + eps)", data: scale),
                                     .init(name: "shift", layout: "[\(c)] beta - mean * scale", data: shift)],
                           detail: "")
    }
}

/// Channel concatenation: each pixel's channels are the inputs' channels in argument order.
struct ConcatKernel: KernelSpec, OpLowering {
    var pixels: Int
    var channels: [Int]
    var key: String { "concat_\(pixels)_" + channels.map(String.init).joined(separator: "_") }
    var summary: String { "concat of \(channels.count) maps over \(grouped(pixels)) pixels, channels \(channels.map(String.init).joined(separator: " + "))" }

    static func lower(_ n: NodeToLower) throws(CodegenError) -> LoweredNode {
        let y = try n.map(n.output)
        var channels: [Int] = []
        for shape in n.inputs { channels.append(try n.map(shape).c) }
        return LoweredNode(kernel: ConcatKernel(pixels: y.h * y.w, channels: channels), weights: [], detail: "")
    }
}

/// Max or average over windows (average counting padding as zeros, PyTorch's default).
struct PoolKernel: KernelSpec, OpLowering {
    var max: Bool
    var input: MapShape, output: MapShape
    var kernel: (Int, Int), stride: (Int, Int), pad: (Int, Int)

    var key: String {
        "\(max ? "maxpool" : "avgpool")\(kernel.0)x\(kernel.1)_s\(stride.0)x\(stride.1)_p\(pad.0)x\(pad.1)_\(input.spelled)"
    }
    var summary: String {
        "\(max ? "max" : "average") pool \(kernel.0)x\(kernel.1) stride \(stride.0)x\(stride.1) pad \(pad.0)x\(pad.1), [\(input.h)][\(input.w)][\(input.c)] -> [\(output.h)][\(output.w)][\(output.c)]"
    }

    /// maxpool and avgpool.
    static func lower(_ n: NodeToLower) throws(CodegenError) -> LoweredNode {
        let a = n.attributes
        let k = a.pair("kernel", default: 1)
        let s = a["stride"] == nil ? k : a.pair("stride", default: 1)
        let p = a.pair("pad")
        let kernel = PoolKernel(max: n.node.op == .maxpool, input: try n.map(n.inputs[0]), output: try n.map(n.output),
                                kernel: k, stride: s, pad: p)
        return LoweredNode(kernel: kernel, weights: [], detail: " \(k.0)x\(k.1) stride \(s.0)x\(s.1)" + (p != (0, 0) ? " pad \(p.0)x\(p.1)" : ""))
    }
}

/// Mean of each channel over the whole map.
struct GlobalAvgPoolKernel: KernelSpec, OpLowering {
    var input: MapShape
    var key: String { "global_avg_pool_\(input.spelled)" }
    var summary: String { "global average pool, [\(input.h)][\(input.w)][\(input.c)] -> [\(input.c)]" }

    static func lower(_ n: NodeToLower) throws(CodegenError) -> LoweredNode {
        LoweredNode(kernel: GlobalAvgPoolKernel(input: try n.map(n.inputs[0])), weights: [], detail: "")
    }
}

/// `torch.flatten(x, 1)`: features in C, H, W order, so a channels-last map with more than one
/// pixel is transposed; otherwise a copy.
struct FlattenKernel: KernelSpec, OpLowering {
    var input: MapShape
    var key: String { "flatten_\(input.spelled)" }
    var summary: String {
        input.h * input.w == 1 ? "flatten (a copy) of \(input.c) floats" : "flatten [\(input.h)][\(input.w)][\(input.c)] to C, H, W order"
    }

    static func lower(_ n: NodeToLower) throws(CodegenError) -> LoweredNode {
        LoweredNode(kernel: FlattenKernel(input: try n.map(n.inputs[0])), weights: [], detail: "")
    }
}

/// y = x · W + b with W stored `[in][out]`: the inner loop runs over outputs.
struct LinearKernel: KernelSpec, OpLowering {
    var inputs: Int, outputs: Int
    var bias: Bool, relu: Bool
    var key: String { "linear_\(inputs)_\(outputs)" + (bias ? "" : "_nobias") + (relu ? "_relu" : "") }
    var summary: String { "linear \(inputs) -> \(outputs)" + (bias ? " + bias" : "") + (relu ? ", relu" : "") }

    static func lower(_ n: NodeToLower) throws(CodegenError) -> LoweredNode {
        let (fin, fout) = (n.inputs[0][1], n.output[1])
        var weights = [LoweredNode.Weight(name: "weight", layout: "[in \(fin)][out \(fout)]", data: KernelLayout.transpose(n.params[0]))]
        if n.params.count > 1 { weights.append(.init(name: "bias", layout: "[\(fout)]", data: n.params[1].data)) }
        return LoweredNode(kernel: LinearKernel(inputs: fin, outputs: fout, bias: n.params.count > 1, relu: n.relu),
                           weights: weights, detail: n.reluNote)
    }
}

/// Softmax over channels (axis 1): over each pixel's channels, or over a `[1, F]` vector.
struct SoftmaxKernel: KernelSpec, OpLowering {
    var pixels: Int, channels: Int
    var key: String { "softmax_\(pixels)x\(channels)" }
    var summary: String { "softmax over \(channels) channels at \(grouped(pixels)) pixel\(pixels == 1 ? "" : "s"), max subtracted first" }

    static func lower(_ n: NodeToLower) throws(CodegenError) -> LoweredNode {
        let x = try n.map(n.inputs[0])
        let spatial = n.inputs[0].count == 4
        return LoweredNode(kernel: SoftmaxKernel(pixels: spatial ? x.h * x.w : 1, channels: spatial ? x.c : x.count),
                           weights: [], detail: "")
    }
}

/// The logit of the largest softmax probability of `classes` logits (see `MaxSoftmaxLogit`):
/// (x_m − x_r) − ln Σ_{k≠m} e^(x_k − x_r), m the argmax, r the runner-up, so the sum lies in
/// [1, classes − 1]: no underflow, and z ≤ x_m − x_r needs no clamp once an infinite spread is
/// caught. One class gives EEC_LOGIT_MAX (p = 1); a NaN logit gives NaN.
struct MaxSoftmaxLogitKernel: KernelSpec, OpLowering {
    var classes: Int
    var key: String { "max_softmax_logit_\(classes)" }
    var summary: String { "logit of the largest softmax probability of \(classes) logit\(classes == 1 ? "" : "s")" }

    static func lower(_ n: NodeToLower) throws(CodegenError) -> LoweredNode {
        LoweredNode(kernel: MaxSoftmaxLogitKernel(classes: try n.map(n.inputs[0]).count), weights: [], detail: "")
    }
}

/// 1 / (1 + e^−x), elementwise.
struct SigmoidKernel: ElementwiseKernel {
    static let op = OpKind.sigmoid
    var count: Int
}

/// `x[:, :, ::s, ::s]`.
struct SubsampleKernel: KernelSpec, OpLowering {
    var input: MapShape, output: MapShape
    var stride: Int
    var key: String { "subsample_s\(stride)_\(input.spelled)" }
    var summary: String { "subsample by \(stride), [\(input.h)][\(input.w)][\(input.c)] -> [\(output.h)][\(output.w)][\(output.c)]" }

    static func lower(_ n: NodeToLower) throws(CodegenError) -> LoweredNode {
        let s = n.attributes.int("stride", default: 1)
        return LoweredNode(kernel: SubsampleKernel(input: try n.map(n.inputs[0]), output: try n.map(n.output), stride: s),
                           weights: [], detail: " stride \(s)")
    }
}

/// Zero channels before and after each pixel's channels.
struct ChannelPadKernel: KernelSpec, OpLowering {
    var pixels: Int, channels: Int, before: Int, after: Int
    var key: String { "channel_pad_\(pixels)x\(channels)_\(before)_\(after)" }
    var summary: String { "channel pad \(before) + \(channels) + \(after) over \(grouped(pixels)) pixels" }

    static func lower(_ n: NodeToLower) throws(CodegenError) -> LoweredNode {
        let x = try n.map(n.inputs[0])
        let (before, after) = (n.attributes.int("before"), n.attributes.int("after"))
        return LoweredNode(kernel: ChannelPadKernel(pixels: x.h * x.w, channels: x.c, before: before, after: after),
                           weights: [], detail: " \(before) before, \(after) after")
    }
}
