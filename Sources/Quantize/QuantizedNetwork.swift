import IR

/// How a uint8 activation maps to reals: real = scale · (q − zeroPoint), q in 0...255.
/// Asymmetric uint8 (see docs/quantization.md for why): a post-ReLU tensor gets zero point 0 and
/// all 256 levels for its values ≥ 0; the signed network input gets a zero point inside.
public struct ActivationQuant: Sendable, Equatable {
    public var scale: Float
    public var zeroPoint: Int32

    public init(scale: Float, zeroPoint: Int32) {
        self.scale = scale
        self.zeroPoint = zeroPoint
    }

    /// The usual affine parameters of a range, widened to hold 0 (so zero padding, ReLU and
    /// channel padding are exact): scale = (hi − lo) / 255, zeroPoint = round(−lo / scale).
    public init(low: Float, high: Float) {
        let lo = Double(min(low, 0)), hi = Double(max(high, 0))
        var s = (hi - lo) / 255
        if !(s > 1e-12) { s = 1e-12 }
        let scale = Float(s)
        self.scale = scale
        self.zeroPoint = Int32(min(255, max(0, (-lo / Double(scale)).rounded())))
    }

    /// The float32 the network input is multiplied by before rounding (IntegerMath.quantizeInput).
    public var inverseScale: Float { Float(1 / Double(scale)) }
}

/// What a tensor of an int8 network holds.
public enum TensorQuant: Sendable, Equatable {
    /// uint8 values with these parameters.
    case uint8(ActivationQuant)
    /// Float32 values q · 2^−exponent with q an integer, |q| < 2^24, so each float is exact and
    /// q is recovered exactly: class logits and learnt confidence logits, the network's outputs.
    case logits(exponent: Int32)
    /// A float32 confidence logit computed from integer logits (max_softmax_logit).
    case confidence

    public var activation: ActivationQuant? {
        if case .uint8(let a) = self { return a }
        return nil
    }
}

/// A convolution's or linear layer's quantized parameters: weights symmetric int8 per output
/// channel (real = scale[o] · q, q in −127...127), bias int32 with scale s_x · scale[o].
public struct QuantizedLayer: Sendable, Equatable {
    /// The float layout's order (conv OIHW, linear [out, in]).
    public var shape: [Int]
    public var weights: [Int8]
    public var scales: [Float]
    public var bias: [Int32]

    public init(shape: [Int], weights: [Int8], scales: [Float], bias: [Int32]) {
        self.shape = shape
        self.weights = weights
        self.scales = scales
        self.bias = bias
    }
}

/// A post-training-quantized network: the compiled graph (exits inserted, BatchNorm folded,
/// ReLUs fused), every tensor's quantization, and the int8 parameters of each convolution and
/// linear layer. `IntegerProgram` derives the integers every kernel uses from it.
public struct QuantizedNetwork: Sendable {
    public let graph: VerifiedGraph
    /// By tensor name: the graph input and every node.
    public var tensors: [String: TensorQuant]
    /// By node name: every conv2d and linear node.
    public var layers: [String: QuantizedLayer]

    public init(graph: VerifiedGraph, tensors: [String: TensorQuant], layers: [String: QuantizedLayer]) {
        self.graph = graph
        self.tensors = tensors
        self.layers = layers
    }

    /// Bytes of int8 weights (the part of the network that scales with it).
    public var weightBytes: Int { layers.values.reduce(0) { $0 + $1.weights.count } }
}

/// Why a network cannot be quantized or a quantized file does not fit its graph.
public struct QuantizeError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
