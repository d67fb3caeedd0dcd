import IR

/// Folds an inference BatchNorm into the convolution before it:
///   W' = W · γ/√(σ² + ε) per output channel,  b' = (b − μ) · γ/√(σ² + ε) + β,
/// computed in float64 and stored as float32. The conv keeps its name and gains a bias; uses of
/// the BatchNorm's name now read the conv. Only a BatchNorm that is the conv's sole reader is
/// folded (otherwise the unnormalized value is still needed).
public struct FoldBatchNorm: Pass {
    public init() {}

    public var name: String { "fold-batchnorm" }
    public var summary: String { "fold inference BatchNorm into the preceding conv's weights and bias" }

    public func run(_ model: Model) throws(PassError) -> Model {
        var graph = model.graph.graph
        var weights = model.weights
        let index = graph.nodeIndex()
        let consumers = graph.consumers(index: index)
        var removed = Set<Int>()
        for (b, bn) in graph.nodes.enumerated() where bn.op == .batchnorm {
            guard let c = index[bn.inputs[0]], graph.nodes[c].op == .conv2d, consumers[c] == [b],
                  !graph.isNamedOutsideNodes(graph.nodes[c].name), !graph.nodes[c].attributes.bool("relu") else { continue }
            let conv = graph.nodes[c].name
            try fold(conv: conv, hasBias: graph.nodes[c].attributes.bool("bias", default: true), bn: bn, weights: &weights)
            graph.nodes[c].attributes["bias"] = .bool(true)
            graph.nodes[c].trivia.noteFused(bn.name)
            removed.insert(b)
            graph.replaceUses(of: bn.name, with: conv)
        }
        graph.nodes = graph.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return Model(graph: try PassPipeline.verify(graph, after: name), weights: weights)
    }

    func fold(conv: String, hasBias: Bool, bn: Node, weights: inout [String: Tensor]) throws(PassError) {
        func tensor(_ key: String) throws(PassError) -> Tensor {
            guard let t = weights[key] else { throw PassError(pass: name, message: "missing tensor '\(key)'") }
            return t
        }
        var w = try tensor("\(conv).weight")
        let gamma = try tensor("\(bn.name).weight"), beta = try tensor("\(bn.name).bias")
        let mean = try tensor("\(bn.name).running_mean"), variance = try tensor("\(bn.name).running_var")
        let channels = w.shape[0]
        let perChannel = w.count / max(1, channels)
        let eps = bn.attributes.float("eps", default: 1e-5)
        // A `bias=false` conv ignores any `<conv>.bias` the weights hold (as the interpreter does).
        let oldBias = hasBias ? weights["\(conv).bias"] : nil
        var bias = Tensor(zeros: [channels])
        for o in 0..<channels {
            let scale = Double(gamma.data[o]) / (Double(variance.data[o]) + eps).squareRoot()
            for k in (o * perChannel)..<((o + 1) * perChannel) { w.data[k] = Float(Double(w.data[k]) * scale) }
            let b = Double(oldBias?.data[o] ?? 0)
            bias.data[o] = Float((b - Double(mean.data[o])) * scale + Double(beta.data[o]))
        }
        weights["\(conv).weight"] = w
        weights["\(conv).bias"] = bias
        for p in ["weight", "bias", "running_mean", "running_var"] { weights["\(bn.name).\(p)"] = nil }
    }
}
