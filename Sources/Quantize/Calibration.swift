import IR

/// How a tensor's calibrated range is chosen from the values seen on the calibration images.
public enum RangeMethod: String, CaseIterable, Sendable {
    /// The smallest and largest value seen.
    case minmax
    /// The 0.01 % and 99.99 % quantiles (outliers clipped).
    case percentile
    /// The clipping range, among 64 shrinkings of min/max, of least mean squared quantization error.
    case mse
}

/// Collects what each tensor holds over the calibration images: min and max of everything, and a
/// sample of the values (every k-th, at most `sampleLimit` per tensor) for the percentile and
/// MSE ranges. Feed it tensors in any layout: ranges ignore the order of values.
public struct RangeCollector: Sendable {
    public struct Observed: Sendable {
        public var low: Float = .infinity
        public var high: Float = -.infinity
        var sample: [Float] = []
        var seen = 0
    }

    public private(set) var observed: [String: Observed] = [:]
    let keepSample: Bool
    let sampleStride: [String: Int]
    static let sampleLimit = 1 << 20

    /// `counts[name]` is the tensor's element count per image, `images` how many will be fed;
    /// a sample is kept only when `method` needs one.
    public init(method: RangeMethod, counts: [String: Int], images: Int) {
        keepSample = method != .minmax
        var strides: [String: Int] = [:]
        for (name, count) in counts { strides[name] = max(1, (count * images + Self.sampleLimit - 1) / Self.sampleLimit) }
        sampleStride = strides
    }

    public mutating func observe(_ name: String, _ values: [Float]) {
        var o = observed[name] ?? Observed()
        let stride = sampleStride[name] ?? 1
        for v in values where v.isFinite {
            if v < o.low { o.low = v }
            if v > o.high { o.high = v }
            if keepSample {
                if o.seen % stride == 0 { o.sample.append(v) }
                o.seen += 1
            }
        }
        observed[name] = o
    }

    /// The range of `name` by `method`; nil when nothing was observed.
    public func range(_ name: String, method: RangeMethod) -> (low: Float, high: Float)? {
        guard let o = observed[name], o.low <= o.high else { return nil }
        switch method {
        case .minmax:
            return (o.low, o.high)
        case .percentile:
            let sorted = o.sample.sorted()
            guard !sorted.isEmpty else { return (o.low, o.high) }
            let lo = sorted[Int(Double(sorted.count - 1) * 0.0001)], hi = sorted[Int((Double(sorted.count - 1) * 0.9999).rounded(.up))]
            return (min(lo, 0) == 0 ? o.low : lo, hi)
        case .mse:
            return mseRange(o)
        }
    }

    /// Shrinks [low, high] by factors 1, 63/64, ..., 1/64 and keeps the one whose uint8
    /// quantize-dequantize of the sample has the least squared error.
    func mseRange(_ o: Observed) -> (low: Float, high: Float) {
        var best = (low: o.low, high: o.high), bestError = Double.infinity
        for step in 0..<64 {
            let f = Float(64 - step) / 64
            let lo = o.low >= 0 ? o.low : o.low * f, hi = o.high * f
            let q = ActivationQuant(low: lo, high: hi)
            let s = Double(q.scale)
            var error = 0.0
            for v in o.sample {
                let code = min(255, max(0, (Double(v) / s).rounded() + Double(q.zeroPoint)))
                let d = (code - Double(q.zeroPoint)) * s - Double(v)
                error += d * d
            }
            if error < bestError { (best, bestError) = ((lo, hi), error) }
        }
        return best
    }
}

/// Calibration in the float reference interpreter: every tensor of the compiled graph observed on
/// every image. Slow for big networks (the command streams tensors out of the generated C
/// instead, `eec quantize`'s default); tests and small graphs use this.
public enum Calibration {
    /// Elements per image of every tensor the quantizer needs a range for (the input and every node).
    public static func counts(_ graph: VerifiedGraph) -> [String: Int] {
        var counts = [graph.graph.input.name: elementCount(graph.graph.input.shape)]
        for node in graph.graph.nodes { counts[node.name] = elementCount(graph.shape(node.name)) }
        return counts
    }

    public static func interpret(_ graph: VerifiedGraph, weights: BoundWeights, inputs: [Tensor], method: RangeMethod) -> RangeCollector {
        var collector = RangeCollector(method: method, counts: counts(graph), images: inputs.count)
        let interpreter = Interpreter(graph, weights: weights, keep: Set(graph.graph.nodes.map(\.name)))
        for input in inputs {
            collector.observe(graph.graph.input.name, input.data)
            let result = interpreter.run(input)
            for (name, value) in result.kept.sorted(by: { $0.key < $1.key }) { collector.observe(name, value.data) }
        }
        return collector
    }
}
