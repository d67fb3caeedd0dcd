import Foundation
import IR

/// Post-training quantization of a compiled graph (exits inserted, BatchNorm folded, ReLUs
/// fused) with float weights and calibrated activation ranges:
///
/// - conv and linear weights: symmetric int8 per output channel, scale = max|w[o]| / 127;
/// - biases: int32 at scale s_x · s_w[o];
/// - activations: asymmetric uint8 per tensor from the calibrated range (widened to hold 0);
///   ops that only move or pool values (pools, flatten, subsample, channel_pad, relu) keep their
///   input's parameters so they stay exact; a concat of equally quantized inputs keeps theirs;
/// - the network's outputs (final logits, each exit's logits and learnt confidence logit): a
///   power-of-two scale 2^−e, e the largest with max|value| · 2^e < 2^22, so the float32 values
///   are exact and the exit test compares what the interpreter and the C compute alike.
public enum Quantizer {
    public static func quantize(_ graph: VerifiedGraph, weights: BoundWeights, ranges: (String) -> (low: Float, high: Float)?)
        throws(QuantizeError) -> QuantizedNetwork {
        let g = graph.graph
        var logits = Set([g.output.name])
        for exit in g.exits { logits.insert(exit.classifier); logits.insert(exit.confidence) }
        let index = g.nodeIndex()
        var tensors: [String: TensorQuant] = [:]
        func range(_ name: String) throws(QuantizeError) -> (low: Float, high: Float) {
            guard let r = ranges(name) else { throw QuantizeError("no calibrated range for '\(name)'") }
            return r
        }
        let r = try range(g.input.name)
        tensors[g.input.name] = .uint8(ActivationQuant(low: r.low, high: r.high))
        var layers: [String: QuantizedLayer] = [:]
        let needed = g.ancestors(of: Array(logits), index: index)
        for (i, node) in g.nodes.enumerated() where needed[i] {
            let inputQuant = node.inputs.map { tensors[$0] }
            if node.op == .maxSoftmaxLogit {
                tensors[node.name] = .confidence
                continue
            }
            if logits.contains(node.name) {
                guard node.op == .linear || node.op == .conv2d else {
                    throw QuantizeError("'\(node.name)' is an output of the network but a \(node.op.name); int8 outputs come from a linear or conv2d layer")
                }
                let r = try range(node.name)
                let largest = max(abs(r.low), abs(r.high), 1e-6)
                tensors[node.name] = .logits(exponent: Int32(min(60, max(-20, Int((22 - log2(Double(largest))).rounded(.down))))))
            } else {
                switch node.op {
                case .maxpool, .avgpool, .globalAvgPool, .flatten, .subsample, .channelPad, .relu:
                    tensors[node.name] = inputQuant[0]
                case .concat where inputQuant.allSatisfy({ $0?.activation == inputQuant[0]?.activation }):
                    tensors[node.name] = inputQuant[0]
                default:
                    let r = try range(node.name)
                    tensors[node.name] = .uint8(ActivationQuant(low: node.attributes.bool("relu") ? 0 : r.low, high: r.high))
                }
            }
            if node.op == .conv2d || node.op == .linear {
                guard let x = inputQuant[0]?.activation else { throw QuantizeError("'\(node.name)' reads '\(node.inputs[0])', which is not uint8") }
                layers[node.name] = quantizeLayer(weights.byNode[i], inputScale: x.scale)
            }
        }
        return QuantizedNetwork(graph: graph, tensors: tensors, layers: layers)
    }

    /// Symmetric per-output-channel int8 weights and the int32 bias.
    public static func quantizeLayer(_ params: [Tensor], inputScale: Float) -> QuantizedLayer {
        let w = params[0]
        let out = w.shape[0]
        let per = w.count / max(1, out)
        var q: [Int8] = [], scales: [Float] = [], bias: [Int32] = []
        for o in 0..<out {
            let row = w.data[(o * per)..<((o + 1) * per)]
            let largest = row.map { abs($0) }.max() ?? 0
            let scale = largest > 0 ? Float(Double(largest) / 127) : 1
            scales.append(scale)
            for v in row { q.append(Int8(max(-127, min(127, (Double(v) / Double(scale)).rounded())))) }
            let b = params.count > 1 ? Double(params[1].data[o]) : 0
            bias.append(Int32(max(-1e9, min(1e9, (b / (Double(inputScale) * Double(scale))).rounded()))))
        }
        return QuantizedLayer(shape: w.shape, weights: q, scales: scales, bias: bias)
    }
}
