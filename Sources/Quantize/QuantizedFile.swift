import IR

/// A quantized network as a safetensors file (`eec quantize -o Q.safetensors`), named after the
/// compiled graph's nodes (BatchNorm folded into the conv before it, ReLUs fused):
///
/// | tensor | dtype, shape | what |
/// |---|---|---|
/// | `<node>.weight` | I8, the float weight's shape | conv2d / linear weights, symmetric per output channel |
/// | `<node>.weight_scale` | F32 [out] | real = weight_scale[o] · q |
/// | `<node>.bias` | I32 [out] | the bias at scale s_x · weight_scale[o] (always present) |
/// | `<tensor>.act_scale`, `<tensor>.act_zero_point` | F32 [1], I32 [1] | a uint8 activation (input and nodes): real = scale · (q − zero point) |
/// | `<tensor>.logit_exponent` | I32 [1] | an output of the network: float32 values q · 2^−exponent |
///
/// `__metadata__` holds `eec.quantized` = `int8`, how it was calibrated (`eec.quantize.*`) and
/// the weights file's own metadata (its exits and thresholds), so `compile` and `run` rebuild
/// the same exits. Multipliers, shifts and folded zero points are not stored: `IntegerProgram`
/// derives them from these, the same way for every reader.
public enum QuantizedFile {
    public static let marker = "eec.quantized"

    public static func isQuantized(_ metadata: [String: String]) -> Bool { metadata[marker] == "int8" }

    public static func encode(_ network: QuantizedNetwork, metadata: [String: String]) -> (floats: [String: Tensor], integers: [String: IntegerTensor], metadata: [String: String]) {
        var floats: [String: Tensor] = [:], integers: [String: IntegerTensor] = [:]
        for (name, layer) in network.layers {
            integers["\(name).weight"] = IntegerTensor(.i8, shape: layer.shape, values: layer.weights.map(Int32.init))
            floats["\(name).weight_scale"] = Tensor(shape: [layer.scales.count], data: layer.scales)
            integers["\(name).bias"] = IntegerTensor(.i32, shape: [layer.bias.count], values: layer.bias)
        }
        for (name, quant) in network.tensors {
            switch quant {
            case .uint8(let a):
                floats["\(name).act_scale"] = Tensor(shape: [1], data: [a.scale])
                integers["\(name).act_zero_point"] = IntegerTensor(.i32, shape: [1], values: [a.zeroPoint])
            case .logits(let e):
                integers["\(name).logit_exponent"] = IntegerTensor(.i32, shape: [1], values: [e])
            case .confidence:
                break
            }
        }
        var meta = metadata
        meta[marker] = "int8"
        return (floats, integers, meta)
    }

    /// The quantized network of `graph` (the compiled graph the file was made for) from a file's
    /// tensors; every missing or misshapen tensor is reported by name.
    public static func decode(_ file: SafetensorsFile, graph: VerifiedGraph) throws(QuantizeError) -> QuantizedNetwork {
        let g = graph.graph
        var problems: [String] = []
        func integers(_ key: String, _ shape: [Int], _ kind: IntegerTensor.Kind) -> [Int32]? {
            guard let t = file.integers[key] else {
                problems.append("\(file.source): error: missing \(kind.rawValue) tensor '\(key)' of shape \(Tensor.describe(shape))")
                return nil
            }
            guard t.kind == kind, t.shape == shape else {
                problems.append("\(file.source): error: tensor '\(key)' is \(t.kind.rawValue) \(Tensor.describe(t.shape)), expected \(kind.rawValue) \(Tensor.describe(shape))")
                return nil
            }
            return t.values
        }
        func floats(_ key: String, _ shape: [Int]) -> [Float]? {
            guard let t = file.tensors[key] else {
                problems.append("\(file.source): error: missing F32 tensor '\(key)' of shape \(Tensor.describe(shape))")
                return nil
            }
            guard t.shape == shape else {
                problems.append("\(file.source): error: tensor '\(key)' has shape \(Tensor.describe(t.shape)), expected \(Tensor.describe(shape))")
                return nil
            }
            guard t.data.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                problems.append("\(file.source): error: tensor '\(key)' holds a scale that is not a positive finite number")
                return nil
            }
            return t.data
        }
        let outputs = Set([g.output.name] + g.exits.flatMap { [$0.classifier, $0.confidence] })
        let needed = g.ancestors(of: Array(outputs))
        var tensors: [String: TensorQuant] = [:]
        var layers: [String: QuantizedLayer] = [:]
        func activation(_ name: String) {
            if let s = floats("\(name).act_scale", [1]), let z = integers("\(name).act_zero_point", [1], .i32) {
                guard (0...255).contains(z[0]) else {
                    problems.append("\(file.source): error: '\(name).act_zero_point' is \(z[0]), expected 0...255")
                    return
                }
                tensors[name] = .uint8(ActivationQuant(scale: s[0], zeroPoint: z[0]))
            }
        }
        activation(g.input.name)
        for (i, node) in g.nodes.enumerated() where needed[i] {
            if node.op == .maxSoftmaxLogit {
                tensors[node.name] = .confidence
            } else if outputs.contains(node.name) {
                if let e = integers("\(node.name).logit_exponent", [1], .i32) {
                    guard (-20...60).contains(e[0]) else {
                        problems.append("\(file.source): error: '\(node.name).logit_exponent' is \(e[0]), expected -20...60")
                        continue
                    }
                    tensors[node.name] = .logits(exponent: e[0])
                }
            } else {
                activation(node.name)
            }
            guard node.op == .conv2d || node.op == .linear else { continue }
            let shape = graph.parameters(node)[0].shape
            let out = shape[0]
            if let w = integers("\(node.name).weight", shape, .i8), let s = floats("\(node.name).weight_scale", [out]),
               let b = integers("\(node.name).bias", [out], .i32) {
                layers[node.name] = QuantizedLayer(shape: shape, weights: w.map { Int8($0) }, scales: s, bias: b)
            }
        }
        guard problems.isEmpty else { throw QuantizeError(problems.joined(separator: "\n")) }
        return QuantizedNetwork(graph: graph, tensors: tensors, layers: layers)
    }
}
