/// 2-D convolution, PyTorch's `nn.Conv2d`: OIHW weights, symmetric zero padding, dilation, groups.
/// `relu=true` marks a ReLU fused into it by the fusion pass.
public enum Conv2D: OpDefinition {
    public static let name = "conv2d"
    public static let arity = 1...1
    public static let attributes: [AttributeSpec] = [
        AttributeSpec("out", .int, minimum: 1),
        AttributeSpec("kernel", .pair, minimum: 1),
        AttributeSpec("stride", .pair, .value(.int(1)), minimum: 1),
        AttributeSpec("pad", .pair, .value(.int(0)), minimum: 0),
        AttributeSpec("dilation", .pair, .value(.int(1)), minimum: 1),
        AttributeSpec("groups", .int, .value(.int(1)), minimum: 1),
        AttributeSpec("bias", .bool, .value(.bool(true))),
        AttributeSpec("relu", .bool, .value(.bool(false))),
    ]

    public static func outputShape(inputs: [[Int]], attributes a: Attributes) throws(OpError) -> [Int] {
        let x = inputs[0]
        try ShapeRules.requireRank(x, 4, input: 0, op: name)
        let out = a.int("out"), groups = a.int("groups", default: 1)
        guard x[1] % groups == 0 else {
            throw OpError("groups=\(groups) does not divide the \(x[1]) input channels", at: .attribute("groups"))
        }
        guard out % groups == 0 else {
            throw OpError("groups=\(groups) does not divide out=\(out)", at: .attribute("groups"))
        }
        let (h, w) = try ShapeRules.window(x, kernel: a.pair("kernel"), stride: a.pair("stride", default: 1),
                                           pad: a.pair("pad"), dilation: a.pair("dilation", default: 1), op: name)
        return [x[0], out, h, w]
    }

    public static func parameters(inputs: [[Int]], attributes a: Attributes) -> [ParameterSpec] {
        let (kh, kw) = a.pair("kernel")
        let out = a.int("out")
        var specs = [ParameterSpec("weight", [out, inputs[0][1] / max(1, a.int("groups", default: 1)), kh, kw], seeded: .kaiming)]
        if a.bool("bias", default: true) { specs.append(ParameterSpec("bias", [out])) }
        return specs
    }

    public static func cost(inputs: [[Int]], output: [Int], attributes a: Attributes) -> Cost {
        let (kh, kw) = a.pair("kernel")
        let perOutput = (kh * kw).saturatingMul(inputs[0][1] / max(1, a.int("groups", default: 1)))
        let outputs = elementCount(output)
        var macs = perOutput.saturatingMul(outputs)
        if a.bool("bias", default: true) { macs = macs.saturatingAdd(outputs) }
        let relu = a.bool("relu") ? outputs : 0
        return Cost(macs: macs, eenets: macs.saturatingAdd(relu))
    }

    public static func evaluate(inputs: [Tensor], parameters: [Tensor], attributes a: Attributes,
                                outputShape: [Int]) -> Tensor {
        let x = inputs[0]
        let (kh, kw) = a.pair("kernel")
        let (sh, sw) = a.pair("stride", default: 1)
        let (ph, pw) = a.pair("pad")
        let (dh, dw) = a.pair("dilation", default: 1)
        let groups = a.int("groups", default: 1)
        let relu = a.bool("relu")
        let (n, cin, hin, win) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (cout, hout, wout) = (outputShape[1], outputShape[2], outputShape[3])
        let cinPerGroup = cin / groups, coutPerGroup = cout / groups
        var y = Tensor(zeros: outputShape)
        // Loop order o, c, ky, kx, oy, ox: one weight at a time over a float64 accumulator plane,
        // with the in-bounds range of ox computed once per row instead of tested per element.
        var acc = [Double](repeating: 0, count: hout * wout)
        x.data.withUnsafeBufferPointer { xp in
            parameters[0].data.withUnsafeBufferPointer { wp in
                for b in 0..<n {
                    for o in 0..<cout {
                        let g = o / coutPerGroup
                        let bias = parameters.count > 1 ? Double(parameters[1].data[o]) : 0
                        for i in acc.indices { acc[i] = bias }
                        for c in 0..<cinPerGroup {
                            let xBase = (b * cin + g * cinPerGroup + c) * hin * win
                            for ky in 0..<kh {
                                for kx in 0..<kw {
                                    let weight = Double(wp[((o * cinPerGroup + c) * kh + ky) * kw + kx])
                                    let dx = kx * dw - pw
                                    // ox*sw + dx in [0, win)  ⇔  ox in [oxLow, oxHigh)
                                    let oxLow = dx >= 0 ? 0 : (-dx + sw - 1) / sw
                                    let oxHigh = min(wout, win - dx <= 0 ? 0 : (win - dx - 1) / sw + 1)
                                    for oy in 0..<hout {
                                        let iy = oy * sh - ph + ky * dh
                                        if iy < 0 || iy >= hin { continue }
                                        let row = xBase + iy * win + dx
                                        let outRow = oy * wout
                                        var ox = oxLow
                                        while ox < oxHigh {
                                            acc[outRow + ox] += weight * Double(xp[row + ox * sw])
                                            ox += 1
                                        }
                                    }
                                }
                            }
                        }
                        let base = (b * cout + o) * hout * wout
                        for i in acc.indices { y.data[base + i] = Float(relu && acc[i] < 0 ? 0 : acc[i]) }
                    }
                }
            }
        }
        return y
    }
}
