import IR
import Quantize

/// One node of an int8 network as an `Int8Kernel`, its int8 weights and its int32 table. The
/// geometry (shapes, tiling, weight packing) is the float lowering's: the int8 weights go through
/// the same packing as exact float values and come back as int8.
enum Int8NodeLowering {
    static func lower(_ node: Node, _ g: VerifiedGraph, op: IntegerProgram.Op) throws(CodegenError) -> LoweredNode {
        func float(params: [Tensor] = []) throws(CodegenError) -> LoweredNode {
            try NodeLowering.lower(node, g, params: params)
        }
        /// The float lowering, whose kernel (the geometry the int8 one reuses) must be a `K`.
        func float<K: KernelSpec>(_: K.Type) throws(CodegenError) -> (K, LoweredNode) {
            let base = try float()
            guard let k = base.kernel as? K else { throw CodegenError("internal error: '\(node.name)' lowered to \(base.kernel.key)") }
            return (k, base)
        }
        func int8(_ kernel: Int8Kernel, _ base: LoweredNode, constants: [Int32]? = nil) -> LoweredNode {
            var lowered = LoweredNode(kernel: kernel, weights: [], detail: base.detail)
            lowered.constants = constants
            lowered.int8Weights = base.weights.filter { $0.name == "weight" }.map { ($0.name, $0.layout, $0.data.map { Int8($0) }) }
            return lowered
        }
        switch op {
        case .conv(let layer), .linear(let layer):
            let shape = g.parameters(node)[0].shape
            let out = shape[0]
            let params = [Tensor(shape: shape, data: layer.weights.map(Float.init)), Tensor(zeros: [out])]
            let base = try float(params: params)
            let table = layer.bias + layer.multipliers.map(\.mantissa) + layer.multipliers.map(\.shift)
                + [layer.inputZeroPoint, outputZeroPoint(layer.output), outputLow(layer.output)]
            let output: Int8Output
            if case .logits(let e) = layer.output { output = .logits(exponent: e) } else { output = .uint8 }
            if let k = base.kernel as? ConvKernel {
                var lowered = int8(.conv(k, output), base, constants: table)
                if k.int8Quads, let packed = lowered.int8Weights.first {
                    lowered.int8Weights = [(packed.name, "[group \(k.groups)][block of \(k.block) out][kh \(k.kernel.0)][kw \(k.kernel.1)][in \(k.cg) / 4][out][in % 4]",
                                            quads(packed.data, k))]
                }
                return lowered
            }
            if let k = base.kernel as? LinearKernel { return int8(.linear(k, output), base, constants: table) }
            throw CodegenError("internal error: '\(node.name)' lowered to \(base.kernel.key)")
        case .add(let r):
            return int8(.add(count: elementCount(g.shape(node.name))), try float(),
                        constants: [r.zeroPoints[0], r.multipliers[0], r.zeroPoints[1], r.multipliers[1], r.shift, r.outputZeroPoint, r.low])
        case .concat(let rescales):
            let (k, base) = try float(ConcatKernel.self)
            var table: [Int32] = []
            for r in rescales {
                table += r.map { [1, $0.zeroPoints[0], $0.multipliers[0], $0.shift, $0.outputZeroPoint] } ?? [0, 0, 0, 1, 0]
            }
            return int8(.concat(k), base, constants: table)
        case .maxpool, .avgpool:
            let (k, base) = try float(PoolKernel.self)
            if case .avgpool(let z) = op { return int8(.pool(k), base, constants: [z]) }
            return int8(.pool(k), base)
        case .globalAvgPool:
            let (k, base) = try float(GlobalAvgPoolKernel.self)
            return int8(.globalAvgPool(k), base)
        case .relu(let z):
            return int8(.relu(count: elementCount(g.shape(node.name))), try float(), constants: [z])
        case .flatten:
            let (k, base) = try float(FlattenKernel.self)
            return int8(.flatten(k), base)
        case .subsample:
            let (k, base) = try float(SubsampleKernel.self)
            return int8(.subsample(k), base)
        case .channelPad(let z):
            let (k, base) = try float(ChannelPadKernel.self)
            return int8(.channelPad(k), base, constants: [z])
        case .maxSoftmaxLogit(let exponent, let octaves):
            let classes = elementCount(g.shape(node.inputs[0]))
            return int8(.maxSoftmaxLogit(classes: classes, exponent: exponent), try float(), constants: [octaves.mantissa, octaves.shift])
        }
    }

    /// `[g][block][kh][kw][in][out]` → `[g][block][kh][kw][in / 4][out][in % 4]` (ConvKernel.int8Quads).
    static func quads(_ w: [Int8], _ k: ConvKernel) -> [Int8] {
        var out = [Int8](repeating: 0, count: w.count)
        var at = 0
        for _ in 0..<k.groups {
            for start in stride(from: 0, to: k.ocg, by: k.block) {
                let ob = min(k.block, k.ocg - start)
                for _ in 0..<(k.kernel.0 * k.kernel.1) {
                    for c in 0..<k.cg {
                        for o in 0..<ob { out[at + ((c >> 2) * ob + o) * 4 + (c & 3)] = w[at + c * ob + o] }
                    }
                    at += k.cg * ob
                }
            }
        }
        return out
    }

    static func outputZeroPoint(_ o: IntegerProgram.Output) -> Int32 {
        if case .uint8(let z, _) = o { return z }
        return 0
    }

    static func outputLow(_ o: IntegerProgram.Output) -> Int32 {
        if case .uint8(_, let low) = o { return low }
        return 0
    }
}
