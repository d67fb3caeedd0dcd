import IR

/// A convolution specialized to its shape (see `KernelLayout` for the layout and loop order).
///
/// The kernel walks output rows. For a padded convolution it first copies the input rows the
/// output row reads into the window (`win`, in the arena's scratch), zero columns included, so no
/// tap ever needs a bounds check; an unpadded one reads its input directly. Each row is then cut
/// into tiles of up to 8 pixels × one block of output channels, computed by a tile function whose
/// accumulators stay in registers. A 1×1 stride-1 unpadded convolution treats the whole map as
/// one row.
struct ConvKernel: KernelSpec, OpLowering {
    var input: MapShape, output: MapShape
    var kernel: (Int, Int), stride: (Int, Int), pad: (Int, Int), dilation: (Int, Int)
    var groups: Int
    var bias: Bool, relu: Bool

    var cg: Int { input.c / groups }
    var ocg: Int { output.c / groups }
    var pointwise: Bool { kernel == (1, 1) && stride == (1, 1) && pad == (0, 0) }
    var windowed: Bool { pad.0 > 0 || pad.1 > 0 }
    /// Columns of input a row of outputs reads, padding included.
    var windowWidth: Int { (output.w - 1) * stride.1 + (kernel.1 - 1) * dilation.1 + 1 }
    var scratchFloats: Int { windowed ? kernel.0 * windowWidth * input.c : 0 }
    /// Pixels in one row of tiles.
    var rowPixels: Int { pointwise ? output.h * output.w : output.w }
    var tiling: (pixels: Int, block: Int) { KernelLayout.convTiling(pixels: rowPixels, channels: ocg) }

    /// Weights are packed with this output-channel block (see `KernelLayout.packConv`).
    var block: Int { tiling.block }
    /// The C and Swift functions print the summary below their tile functions.
    var summaryAbove: Bool { false }

    var key: String {
        var k = "conv\(kernel.0)x\(kernel.1)_s\(pair(stride))_p\(pair(pad))"
        if dilation != (1, 1) { k += "_d\(pair(dilation))" }
        if groups != 1 { k += "_g\(groups)" }
        k += "_\(input.spelled)_o\(output.c)"
        if !bias { k += "_nobias" }
        if relu { k += "_relu" }
        return k
    }

    var summary: String {
        var s = "conv \(kernel.0)x\(kernel.1) stride \(stride.0)x\(stride.1) pad \(pad.0)x\(pad.1)"
        if dilation != (1, 1) { s += " dilation \(dilation.0)x\(dilation.1)" }
        if groups != 1 { s += " groups \(groups)" }
        s += ", [\(input.h)][\(input.w)][\(input.c)] -> [\(output.h)][\(output.w)][\(output.c)]"
        if bias { s += " + bias" }
        if relu { s += ", relu" }
        return s
    }

    static func lower(_ n: NodeToLower) throws(CodegenError) -> LoweredNode {
        let a = n.attributes
        let x = try n.map(n.inputs[0]), y = try n.map(n.output)
        let kernel = ConvKernel(input: x, output: y, kernel: a.pair("kernel"), stride: a.pair("stride", default: 1),
                                pad: a.pair("pad"), dilation: a.pair("dilation", default: 1),
                                groups: a.int("groups", default: 1), bias: n.params.count > 1, relu: n.relu)
        let (kh, kw) = kernel.kernel
        var weights = [LoweredNode.Weight(name: "weight",
                                          layout: "[group \(kernel.groups)][block of \(kernel.block) out][kh \(kh)][kw \(kw)][in \(kernel.cg)][out]",
                                          data: KernelLayout.packConv(n.params[0], groups: kernel.groups, block: kernel.block))]
        if n.params.count > 1 { weights.append(.init(name: "bias", layout: "[\(y.c)]", data: n.params[1].data)) }
        var detail = " \(kh)x\(kw)"
        if kernel.stride != (1, 1) { detail += " stride \(pair(kernel.stride))" }
        if kernel.pad != (0, 0) { detail += " pad \(pair(kernel.pad))" }
        if kernel.groups != 1 { detail += " groups \(kernel.groups)" }
        return LoweredNode(kernel: kernel, weights: weights, detail: detail + n.reluNote)
    }
}

/// `3` for (3, 3), `3x1` for (3, 1): a pair in kernel keys and node comments.
private func pair(_ p: (Int, Int)) -> String { p.0 == p.1 ? "\(p.0)" : "\(p.0)x\(p.1)" }
