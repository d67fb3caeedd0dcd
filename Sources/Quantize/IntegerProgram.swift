import Foundation
import IR

/// The integers every node of a quantized network computes with, derived once from the
/// `QuantizedNetwork` (scales become multipliers, zero points fold into biases). The int8
/// reference interpreter and the code generators both read these, so they cannot disagree on a
/// constant; each op's arithmetic is stated on its case.
public struct IntegerProgram: Sendable {
    /// How a convolution or linear layer turns its int32 accumulator into its output.
    public enum Output: Sendable, Equatable {
        /// uint8: clamp(zeroPoint + M(acc), low, 255); low = zeroPoint with a fused ReLU, else 0.
        case uint8(zeroPoint: Int32, low: Int32)
        /// float32 logits: float(clamp(M(acc), ±(2^24 − 1))) · 2^−exponent, exact.
        case logits(exponent: Int32)
    }

    /// A convolution or a linear layer (a linear is a 1×1 convolution of a 1×1 map).
    /// acc[o] = bias[o] + Σ_taps q_x · w, where `bias` already holds −z_x · Σ w[o] (the input's
    /// zero point; padded taps read z_x, so they add nothing); then `output` with multiplier[o].
    public struct Layer: Sendable {
        /// `[out, in/groups, kh, kw]` (a linear: `[out, in, 1, 1]`), int8.
        public var weights: [Int8]
        public var bias: [Int32]
        public var multipliers: [Multiplier]
        public var inputZeroPoint: Int32
        public var output: Output
    }

    /// y = clamp(z_y + ((Σ_i (q_i − z_i) · M_i + 2^(S−1)) >> S), low, 255): `add` (two inputs) and
    /// a `concat` input whose scale differs from the output's (one).
    public struct Rescale: Sendable, Equatable {
        public var zeroPoints: [Int32]
        public var multipliers: [Int32]
        public var shift: Int32
        public var outputZeroPoint: Int32
        public var low: Int32

        public func apply(_ q: [Int32]) -> Int32 {
            var t: Int32 = 0
            for i in q.indices { t += (q[i] - zeroPoints[i]) * multipliers[i] }
            return min(max(outputZeroPoint + IntegerMath.roundingShift(t, shift), low), 255)
        }
    }

    public enum Op: Sendable {
        case conv(Layer)
        case linear(Layer)
        case add(Rescale)
        /// One rescale per input, nil where the input's quantization is the output's (a copy).
        case concat([Rescale?])
        /// Max over the window's in-bounds taps (padding never wins); quantization unchanged.
        case maxpool
        /// round(Σ window / (kh·kw)), halves up, padded taps reading `zeroPoint` (real zero).
        case avgpool(zeroPoint: Int32)
        /// round(Σ map / (H·W)), halves up.
        case globalAvgPool
        /// max(q, zeroPoint).
        case relu(zeroPoint: Int32)
        case flatten
        case subsample
        /// New channels hold `zeroPoint`.
        case channelPad(zeroPoint: Int32)
        /// `IntegerMath.confidence` of the logits q = x · 2^exponent.
        case maxSoftmaxLogit(exponent: Int32, octaves: Multiplier)
    }

    public let network: QuantizedNetwork
    /// Indexed like `graph.nodes`; nil for nodes neither the output nor an exit needs.
    public let nodes: [Op?]
    /// The input's quantization (IntegerMath.quantizeInput with its inverse scale).
    public let input: ActivationQuant

    public var graph: VerifiedGraph { network.graph }

    public init(_ network: QuantizedNetwork) throws(QuantizeError) {
        self.network = network
        let g = network.graph.graph
        guard let input = network.tensors[g.input.name]?.activation else {
            throw QuantizeError("the input '\(g.input.name)' has no uint8 quantization")
        }
        self.input = input
        let needed = g.ancestors(of: [g.output.name] + g.exits.flatMap { [$0.classifier, $0.confidence] })
        var nodes: [Op?] = []
        for (i, node) in g.nodes.enumerated() {
            nodes.append(needed[i] ? try Self.lower(node, network) : nil)
        }
        self.nodes = nodes
    }

    static func activation(_ name: String, _ network: QuantizedNetwork, of node: IR.Node? = nil) throws(QuantizeError) -> ActivationQuant {
        guard let a = network.tensors[name]?.activation else {
            throw QuantizeError("'\(name)' has no uint8 quantization" + (node.map { " (read by '\($0.name)')" } ?? ""))
        }
        return a
    }

    static func lower(_ node: IR.Node, _ network: QuantizedNetwork) throws(QuantizeError) -> Op {
        let relu = node.attributes.bool("relu")
        func uint8Output() throws(QuantizeError) -> (ActivationQuant, Int32) {
            let y = try activation(node.name, network)
            return (y, relu ? y.zeroPoint : 0)
        }
        switch node.op {
        case .conv2d, .linear:
            guard let layer = network.layers[node.name] else { throw QuantizeError("no int8 weights for \(node.op.name) '\(node.name)'") }
            let x = try activation(node.inputs[0], network, of: node)
            let out = layer.shape[0]
            let perOutput = layer.weights.count / max(1, out)
            var bias: [Int32] = [], multipliers: [Multiplier] = []
            let output: Output
            let yScale: Double
            switch network.tensors[node.name] {
            case .uint8(let y)?:
                output = .uint8(zeroPoint: y.zeroPoint, low: relu ? y.zeroPoint : 0)
                yScale = Double(y.scale)
            case .logits(let e)?:
                output = .logits(exponent: e)
                yScale = pow(2, -Double(e))
            default:
                throw QuantizeError("'\(node.name)' has no output quantization")
            }
            for o in 0..<out {
                var sum: Int64 = 0
                for k in 0..<perOutput { sum += Int64(layer.weights[o * perOutput + k]) }
                let b = Int64(layer.bias[o]) - Int64(x.zeroPoint) * sum
                guard b.magnitude < 1 << 30 else { throw QuantizeError("'\(node.name)': bias \(b) of output \(o) does not fit int32 with headroom") }
                bias.append(Int32(b))
                multipliers.append(Multiplier(Double(x.scale) * Double(layer.scales[o]) / yScale))
            }
            guard perOutput * 255 * 127 < 1 << 30 else {
                throw QuantizeError("'\(node.name)': \(perOutput) products per output could overflow the int32 accumulator")
            }
            let l = Layer(weights: layer.weights, bias: bias, multipliers: multipliers, inputZeroPoint: x.zeroPoint, output: output)
            return node.op == .conv2d ? .conv(l) : .linear(l)
        case .add:
            let (y, low) = try uint8Output()
            let inputs = try node.inputs.map { (name) throws(QuantizeError) in try activation(name, network, of: node) }
            return .add(rescale(inputs, y, low: low))
        case .concat:
            let y = try activation(node.name, network)
            var parts: [Rescale?] = []
            for name in node.inputs {
                let x = try activation(name, network, of: node)
                parts.append(x == y ? nil : rescale([x], y, low: 0))
            }
            return .concat(parts)
        case .maxpool, .avgpool, .globalAvgPool, .relu, .flatten, .subsample, .channelPad:
            let x = try activation(node.inputs[0], network, of: node)
            guard try activation(node.name, network) == x else {
                throw QuantizeError("'\(node.name)': \(node.op.name) keeps its input's quantization in int8")
            }
            switch node.op {
            case .maxpool: return .maxpool
            case .avgpool: return .avgpool(zeroPoint: x.zeroPoint)
            case .globalAvgPool: return .globalAvgPool
            case .relu: return .relu(zeroPoint: x.zeroPoint)
            case .flatten: return .flatten
            case .subsample: return .subsample
            default: return .channelPad(zeroPoint: x.zeroPoint)
            }
        case .maxSoftmaxLogit:
            guard case .logits(let e)? = network.tensors[node.inputs[0]] else {
                throw QuantizeError("'\(node.name)': max_softmax_logit reads the class logits of a linear layer in int8")
            }
            return .maxSoftmaxLogit(exponent: e, octaves: Multiplier(pow(2, -Double(e)) / M_LN2 * 256))
        case .batchnorm, .softmax, .sigmoid, .relu6:
            throw QuantizeError("'\(node.name)': \(node.op.name) has no int8 kernel (a BatchNorm must fold into the convolution before it)")
        }
    }

    static func rescale(_ inputs: [ActivationQuant], _ y: ActivationQuant, low: Int32) -> Rescale {
        let ratios = inputs.map { Double($0.scale) / Double(y.scale) }
        let shift = IntegerMath.rescaleShift(ratios: ratios)
        return Rescale(zeroPoints: inputs.map(\.zeroPoint), multipliers: ratios.map { IntegerMath.rescaleMultiplier($0, shift: shift) },
                       shift: shift, outputZeroPoint: y.zeroPoint, low: low)
    }
}
