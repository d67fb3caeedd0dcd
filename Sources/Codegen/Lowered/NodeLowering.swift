import IR

/// One IR node as a kernel description and the weights it reads, packed for that kernel.
struct LoweredNode {
    struct Weight {
        var name: String
        var layout: String
        var data: [Float]
    }

    var kernel: Kernel
    var weights: [Weight]
    /// Attributes worth showing in the node's comment (` 3x3 stride 2 pad 1, relu`).
    var detail: String
}

enum NodeLowering {
    /// Picks the kernel for `node` from its op, attributes and shapes; `params` are the node's
    /// tensors in the order of its op's `parameters`.
    static func lower(_ node: Node, _ g: VerifiedGraph, params: [Tensor]) throws(CodegenError) -> LoweredNode {
        let a = node.attributes
        let inputs = node.inputs.map { g.shape($0) }
        let output = g.shape(node.name)
        let relu = a.bool("relu")
        let reluNote = relu ? ", relu" : ""
        func map(_ shape: [Int]) throws(CodegenError) -> MapShape {
            guard shape.count == 4 || shape.count == 2, shape[0] == 1 else {
                throw CodegenError("'\(node.name)': code generation handles [1,C,H,W] and [1,F] values, found \(Tensor.describe(shape))")
            }
            return MapShape(shape)
        }
        switch node.op {
        case .conv2d:
            let x = try map(inputs[0]), y = try map(output)
            let kernel = ConvKernel(input: x, output: y, kernel: a.pair("kernel"), stride: a.pair("stride", default: 1),
                                    pad: a.pair("pad"), dilation: a.pair("dilation", default: 1),
                                    groups: a.int("groups", default: 1), bias: params.count > 1, relu: relu)
            let (kh, kw) = kernel.kernel
            var weights = [LoweredNode.Weight(name: "weight",
                                              layout: "[group \(kernel.groups)][block of \(kernel.block) out][kh \(kh)][kw \(kw)][in \(kernel.cg)][out]",
                                              data: KernelLayout.packConv(params[0], groups: kernel.groups, block: kernel.block))]
            if params.count > 1 { weights.append(.init(name: "bias", layout: "[\(y.c)]", data: params[1].data)) }
            var detail = " \(kh)x\(kw)"
            if kernel.stride != (1, 1) { detail += " stride \(kernel.stride.0 == kernel.stride.1 ? "\(kernel.stride.0)" : "\(kernel.stride.0)x\(kernel.stride.1)")" }
            if kernel.pad != (0, 0) { detail += " pad \(kernel.pad.0 == kernel.pad.1 ? "\(kernel.pad.0)" : "\(kernel.pad.0)x\(kernel.pad.1)")" }
            if kernel.groups != 1 { detail += " groups \(kernel.groups)" }
            return LoweredNode(kernel: .conv(kernel), weights: weights, detail: detail + reluNote)
        case .batchnorm:
            let (scale, shift) = KernelLayout.batchNormScaleShift(params, eps: a.float("eps", default: 1e-5))
            let c = scale.count
            return LoweredNode(kernel: .batchNorm(BatchNormKernel(map: try map(output))),
                               weights: [.init(name: "scale", layout: "[\(c)] gamma / sqrt(var + eps)", data: scale),
                                         .init(name: "shift", layout: "[\(c)] beta - mean * scale", data: shift)],
                               detail: "")
        case .relu:
            return LoweredNode(kernel: .relu(ReluKernel(count: elementCount(output))), weights: [], detail: "")
        case .add:
            return LoweredNode(kernel: .add(AddKernel(count: elementCount(output), relu: relu)), weights: [], detail: reluNote)
        case .concat:
            let y = try map(output)
            var channels: [Int] = []
            for shape in inputs { channels.append(try map(shape).c) }
            return LoweredNode(kernel: .concat(ConcatKernel(pixels: y.h * y.w, channels: channels)), weights: [], detail: "")
        case .maxpool, .avgpool:
            let k = a.pair("kernel", default: 1)
            let s = a["stride"] == nil ? k : a.pair("stride", default: 1)
            let p = a.pair("pad")
            let kernel = PoolKernel(max: node.op == .maxpool, input: try map(inputs[0]), output: try map(output),
                                    kernel: k, stride: s, pad: p)
            return LoweredNode(kernel: .pool(kernel), weights: [], detail: " \(k.0)x\(k.1) stride \(s.0)x\(s.1)" + (p != (0, 0) ? " pad \(p.0)x\(p.1)" : ""))
        case .globalAvgPool:
            return LoweredNode(kernel: .globalAvgPool(GlobalAvgPoolKernel(input: try map(inputs[0]))), weights: [], detail: "")
        case .flatten:
            return LoweredNode(kernel: .flatten(FlattenKernel(input: try map(inputs[0]))), weights: [], detail: "")
        case .linear:
            let (fin, fout) = (inputs[0][1], output[1])
            var weights = [LoweredNode.Weight(name: "weight", layout: "[in \(fin)][out \(fout)]", data: KernelLayout.transpose(params[0]))]
            if params.count > 1 { weights.append(.init(name: "bias", layout: "[\(fout)]", data: params[1].data)) }
            return LoweredNode(kernel: .linear(LinearKernel(inputs: fin, outputs: fout, bias: params.count > 1, relu: relu)),
                               weights: weights, detail: reluNote)
        case .softmax:
            let x = try map(inputs[0])
            let pixels = inputs[0].count == 4 ? x.h * x.w : 1
            return LoweredNode(kernel: .softmax(SoftmaxKernel(pixels: pixels, channels: inputs[0].count == 4 ? x.c : x.count)),
                               weights: [], detail: "")
        case .maxSoftmaxLogit:
            return LoweredNode(kernel: .maxSoftmaxLogit(MaxSoftmaxLogitKernel(classes: try map(inputs[0]).count)), weights: [], detail: "")
        case .sigmoid:
            return LoweredNode(kernel: .sigmoid(SigmoidKernel(count: elementCount(output))), weights: [], detail: "")
        case .subsample:
            let s = a.int("stride", default: 1)
            return LoweredNode(kernel: .subsample(SubsampleKernel(input: try map(inputs[0]), output: try map(output), stride: s)),
                               weights: [], detail: " stride \(s)")
        case .channelPad:
            let x = try map(inputs[0])
            let (before, after) = (a.int("before"), a.int("after"))
            return LoweredNode(kernel: .channelPad(ChannelPadKernel(pixels: x.h * x.w, channels: x.c, before: before, after: after)),
                               weights: [], detail: " \(before) before, \(after) after")
        }
    }
}
