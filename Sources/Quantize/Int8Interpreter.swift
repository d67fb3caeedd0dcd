import IR

/// The int8 reference interpreter: runs an `IntegerProgram` one node at a time with plain loops,
/// bit-exactly as the generated code does (the same integers, the same rounding), so the C's
/// outputs are checked for equality, not closeness.
///
/// Values are `Tensor`s in the IR's NCHW layout holding exact integers: uint8 codes 0...255 for
/// activations; logits tensors hold their float32 values q · 2^−exponent and confidences their
/// float32 logit, as the generated code's arena does.
public struct Int8Interpreter: Sendable {
    public let program: IntegerProgram

    public struct Result: Sendable {
        /// Final logits (float32, exact multiples of 2^−exponent), and per exit its logits and
        /// confidence logit.
        public var logits: Tensor
        public var exits: [(logits: Tensor, confidence: Float)]
        /// Every computed tensor by name (uint8 codes, or floats), when asked for with `keepAll`.
        public var values: [String: Tensor]
    }

    public init(_ program: IntegerProgram) {
        self.program = program
    }

    /// The network input [1, C, H, W] as uint8 codes.
    public func quantizeInput(_ x: Tensor) -> Tensor {
        let q = program.input
        let inverse = q.inverseScale
        return Tensor(shape: x.shape, data: x.data.map { Float(IntegerMath.quantizeInput($0, inverseScale: inverse, zeroPoint: q.zeroPoint)) })
    }

    public func run(_ input: Tensor, keepAll: Bool = false) -> Result {
        let g = program.graph.graph
        var values: [String: Tensor] = [g.input.name: quantizeInput(input)]
        for (i, node) in g.nodes.enumerated() {
            guard let op = program.nodes[i] else { continue }
            let inputs = node.inputs.map { values[$0] ?? Tensor(zeros: [0]) }
            values[node.name] = evaluate(op, node, inputs: inputs, outputShape: program.graph.shape(node.name))
        }
        let exits = g.exits.map { exit in
            (logits: values[exit.classifier] ?? Tensor(zeros: [0]), confidence: values[exit.confidence]?.data.first ?? 0)
        }
        return Result(logits: values[g.output.name] ?? Tensor(zeros: [0]), exits: exits, values: keepAll ? values : [:])
    }

    func evaluate(_ op: IntegerProgram.Op, _ node: Node, inputs: [Tensor], outputShape: [Int]) -> Tensor {
        let a = node.attributes
        switch op {
        case .conv(let layer):
            return Self.conv(inputs[0], layer, kernel: a.pair("kernel"), stride: a.pair("stride", default: 1),
                             pad: a.pair("pad"), dilation: a.pair("dilation", default: 1), groups: a.int("groups", default: 1),
                             outputShape: outputShape)
        case .linear(let layer):
            let x = inputs[0]
            return Self.conv(Tensor(shape: [1, x.count, 1, 1], data: x.data), layer, kernel: (1, 1), stride: (1, 1), pad: (0, 0),
                             dilation: (1, 1), groups: 1, outputShape: [1, outputShape[1], 1, 1], reshape: outputShape)
        case .add(let r):
            var y = Tensor(zeros: outputShape)
            for i in y.data.indices { y.data[i] = Float(r.apply([Int32(inputs[0].data[i]), Int32(inputs[1].data[i])])) }
            return y
        case .concat(let rescales):
            var parts: [Tensor] = []
            for (x, r) in zip(inputs, rescales) {
                parts.append(r.map { r in Tensor(shape: x.shape, data: x.data.map { Float(r.apply([Int32($0)])) }) } ?? x)
            }
            // Data movement only: the float op is exact on integer values.
            return node.op.definition.evaluate(inputs: parts, parameters: [], attributes: a, outputShape: outputShape)
        case .maxpool, .flatten, .subsample:
            // Exact on integers too: max over in-bounds taps, and copies.
            return node.op.definition.evaluate(inputs: inputs, parameters: [], attributes: a, outputShape: outputShape)
        case .avgpool(let z):
            return Self.averagePool(inputs[0], a, zeroPoint: z, outputShape: outputShape)
        case .globalAvgPool:
            let x = inputs[0]
            let (c, hw) = (x.shape[1], x.shape[2] * x.shape[3])
            var y = Tensor(zeros: outputShape)
            for ch in 0..<c {
                var sum: Int32 = 0
                for i in 0..<hw { sum += Int32(x.data[ch * hw + i]) }
                y.data[ch] = Float(IntegerMath.roundingDivide(sum, Int32(hw)))
            }
            return y
        case .relu(let z):
            return Tensor(shape: outputShape, data: inputs[0].data.map { max($0, Float(z)) })
        case .channelPad(let z):
            let x = inputs[0]
            let before = a.int("before")
            let hw = x.shape[2] * x.shape[3]
            var y = Tensor(shape: outputShape, data: [Float](repeating: Float(z), count: elementCount(outputShape)))
            y.data.replaceSubrange((before * hw)..<((before + x.shape[1]) * hw), with: x.data)
            return y
        case .maxSoftmaxLogit(let exponent, let octaves):
            let scale = Float(sign: .plus, exponent: Int(exponent), significand: 1)
            return Tensor(shape: outputShape, data: [IntegerMath.confidence(inputs[0].data.map { Int32($0 * scale) }, octaves: octaves)])
        }
    }

    /// The convolution of `IntegerProgram.Layer`: int32 accumulators, padded taps reading the
    /// input's zero point, then the layer's output rule. Integer sums are exact, so the loop
    /// order (weight by weight over a whole output plane, as the float reference does) cannot
    /// change a result.
    static func conv(_ x: Tensor, _ layer: IntegerProgram.Layer, kernel: (Int, Int), stride: (Int, Int), pad: (Int, Int),
                     dilation: (Int, Int), groups: Int, outputShape: [Int], reshape: [Int]? = nil) -> Tensor {
        let (cin, hin, win) = (x.shape[1], x.shape[2], x.shape[3])
        let (cout, hout, wout) = (outputShape[1], outputShape[2], outputShape[3])
        let (cg, ocg) = (cin / groups, cout / groups)
        // The input with its padding, every padded tap at the zero point.
        let (hp, wp) = (hin + 2 * pad.0, win + 2 * pad.1)
        var padded = [Int32](repeating: layer.inputZeroPoint, count: cin * hp * wp)
        for c in 0..<cin {
            for iy in 0..<hin {
                for ix in 0..<win { padded[(c * hp + iy + pad.0) * wp + ix + pad.1] = Int32(x.data[(c * hin + iy) * win + ix]) }
            }
        }
        var y = Tensor(zeros: reshape ?? outputShape)
        var acc = [Int32](repeating: 0, count: hout * wout)
        padded.withUnsafeBufferPointer { xp in
            layer.weights.withUnsafeBufferPointer { wq in
                acc.withUnsafeMutableBufferPointer { a in
                    for o in 0..<cout {
                        let g = o / ocg
                        for i in 0..<a.count { a[i] = layer.bias[o] }
                        for c in 0..<cg {
                            let plane = (g * cg + c) * hp * wp
                            for ky in 0..<kernel.0 {
                                for kx in 0..<kernel.1 {
                                    let w = Int32(wq[((o * cg + c) * kernel.0 + ky) * kernel.1 + kx])
                                    if w == 0 { continue }
                                    for oy in 0..<hout {
                                        let row = plane + (oy * stride.0 + ky * dilation.0) * wp + kx * dilation.1
                                        let out = oy * wout
                                        for ox in 0..<wout { a[out + ox] &+= w &* xp[row + ox * stride.1] }
                                    }
                                }
                            }
                        }
                        for i in 0..<a.count { y.data[o * hout * wout + i] = output(a[i], layer.multipliers[o], layer.output) }
                    }
                }
            }
        }
        return y
    }

    /// A layer's accumulator as its output value.
    @inline(__always)
    static func output(_ acc: Int32, _ m: Multiplier, _ rule: IntegerProgram.Output) -> Float {
        switch rule {
        case .uint8(let zeroPoint, let low):
            return Float(IntegerMath.clamp(Int64(zeroPoint) + m.apply(acc), low, 255))
        case .logits(let exponent):
            let q = IntegerMath.clamp(m.apply(acc), -16777215, 16777215)
            return Float(q) * Float(sign: .plus, exponent: -Int(exponent), significand: 1)
        }
    }

    static func averagePool(_ x: Tensor, _ a: Attributes, zeroPoint z: Int32, outputShape: [Int]) -> Tensor {
        let kernel = a.pair("kernel", default: 1)
        let stride = a["stride"] == nil ? kernel : a.pair("stride", default: 1)
        let pad = a.pair("pad")
        let (hin, win) = (x.shape[2], x.shape[3])
        let (hout, wout) = (outputShape[2], outputShape[3])
        var y = Tensor(zeros: outputShape)
        let count = Int32(kernel.0 * kernel.1)
        for plane in 0..<outputShape[1] {
            for oy in 0..<hout {
                for ox in 0..<wout {
                    var sum: Int32 = 0
                    for ky in 0..<kernel.0 {
                        let iy = oy * stride.0 - pad.0 + ky
                        for kx in 0..<kernel.1 {
                            let ix = ox * stride.1 - pad.1 + kx
                            sum += iy < 0 || iy >= hin || ix < 0 || ix >= win ? z : Int32(x.data[(plane * hin + iy) * win + ix])
                        }
                    }
                    y.data[(plane * hout + oy) * wout + ox] = Float(IntegerMath.roundingDivide(sum, count))
                }
            }
        }
        return y
    }
}
