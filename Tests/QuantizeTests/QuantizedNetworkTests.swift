import Foundation
import Testing
import IR
import Passes
@testable import Quantize

func parse(_ text: String) throws -> VerifiedGraph {
    switch VerifiedGraph.load(SourceFile(name: "test.eeir", text: text)) {
    case .success(let (graph, _)): return graph
    case .failure(let diagnostics): throw QuantizeError(diagnostics.rendered(in: SourceFile(name: "test.eeir", text: text)))
    }
}

/// Seeded inputs uniform in [-2, 2).
func seededInputs(_ shape: [Int], count: Int, seed: UInt64 = 7) -> [Tensor] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.uniform(-2, 2) }) }
}

/// Quantizes a compiled model with min/max ranges from the float interpreter on `inputs`.
func quantized(_ model: Model, inputs: [Tensor]) throws -> QuantizedNetwork {
    let bound = try WeightBinder.bind(model.graph, tensors: model.weights, source: "test")
    let ranges = Calibration.interpret(model.graph, weights: bound, inputs: inputs, method: .minmax)
    return try Quantizer.quantize(model.graph, weights: bound, ranges: { ranges.range($0, method: .minmax) })
}

struct QuantizedNetworkTests {
    /// One linear layer, every integer computed by hand.
    @Test func layerByHand() throws {
        let graph = try parse("model one\ninput x: f32[1,1]\nc = linear(x, out=1)\noutput c\n")
        let weights = ["c.weight": Tensor(shape: [1, 1], data: [0.5]), "c.bias": Tensor(shape: [1], data: [0.1])]
        let bound = try WeightBinder.bind(graph, tensors: weights, source: "test")
        let ranges: [String: (low: Float, high: Float)] = ["x": (-1, 1), "c": (-0.4, 0.6)]
        let network = try Quantizer.quantize(graph, weights: bound, ranges: { ranges[$0] })
        // Input: scale 2/255 as a float32 (0.007843138, a hair above), so 1/scale = 127.49999 and the
        // zero point is 127. Weight: scale 0.5/127, q 127.
        #expect(network.tensors["x"] == .uint8(ActivationQuant(scale: Float(2.0 / 255), zeroPoint: 127)))
        #expect(network.layers["c"]?.weights == [127])
        // Bias: 0.1 / (s_x · 0.5/127) = 3238.4999 with the float32 scales → 3238. Output exponent floor(22 − log2 0.6) = 22.
        #expect(network.layers["c"]?.bias == [3238])
        #expect(network.tensors["c"] == .logits(exponent: 22))
        let program = try IntegerProgram(network)
        guard case .linear(let layer)? = program.nodes[0] else { Issue.record("not a linear layer"); return }
        #expect(layer.bias == [3238 - 127 * 127])
        // x = 0.5 → round(63.75) + 127 = 191; acc = −12891 + 191 · 127 = 11366; y = round(acc · M) · 2^−22.
        let int8 = Int8Interpreter(program)
        let result = int8.run(Tensor(shape: [1, 1], data: [0.5]))
        let m = Double(Float(2.0 / 255)) * Double(Float(0.5 / 127)) * pow(2, 22)
        #expect(abs(layer.multipliers[0].value - m) < m * 1e-9)
        let expected = Float((11366 * layer.multipliers[0].value).rounded()) / Float(1 << 22)
        #expect(result.logits.data[0] == expected)
        #expect(abs(result.logits.data[0] - 0.35) < 0.003)
        // x = −1 → 0: 0.5 · (−1) + 0.1 = −0.4.
        #expect(abs(int8.run(Tensor(shape: [1, 1], data: [-1])).logits.data[0] + 0.4) < 0.003)
    }

    static let tiny = """
    model tiny
    input x: f32[1,3,8,8]
    c1 = conv2d(x, out=8, kernel=3, pad=1, relu=true)
    c2 = conv2d(c1, out=8, kernel=3, stride=2, pad=1)
    s = subsample(c1, stride=2)
    p = channel_pad(s, before=0, after=0)
    sum = add(c2, p, relu=true)
    mp = maxpool(sum, kernel=2)
    ap = avgpool(sum, kernel=3, stride=2, pad=1)
    cat = concat(mp, ap)
    g = global_avg_pool(cat)
    f = flatten(g)
    fc = linear(f, out=5)
    output fc

    """

    /// Every int8 op of a small network, against the float network: close (quantization
    /// error), and run twice bit-identically.
    @Test func smallNetworkTracksTheFloatOne() throws {
        let graph = try parse(Self.tiny)
        let model = Model(graph: graph, weights: WeightBinder.seeded(graph, seed: 3))
        let inputs = seededInputs([1, 3, 8, 8], count: 16)
        let network = try quantized(model, inputs: inputs)
        let int8 = Int8Interpreter(try IntegerProgram(network))
        let float = Interpreter(graph, weights: try WeightBinder.bind(graph, tensors: model.weights, source: "t"))
        var worst: Float = 0, spread: Float = 0
        for x in seededInputs([1, 3, 8, 8], count: 8, seed: 99) {
            let q = int8.run(x).logits.data, f = float.run(x).logits.data
            for (a, b) in zip(q, f) { worst = max(worst, abs(a - b)) }
            spread = max(spread, f.map(abs).max() ?? 0)
            #expect(int8.run(x).logits.data == q)
        }
        #expect(worst < 0.05 * spread, "worst \(worst) of \(spread)")
    }

    /// Exits: logits at a power-of-two scale, the confidence from them in integers, the file
    /// written and read back to the same network.
    @Test func exitsAndFileRoundTrip() throws {
        let graph = try parse(Self.tiny)
        let withExits = try InsertExits(branches: 1, block: .pool, confidence: .softmax)
            .run(Model(graph: graph, weights: WeightBinder.seeded(graph, seed: 3)))
        let compiled = try PassPipeline([FoldBatchNorm(), FuseReLU()]).run(withExits)
        let network = try quantized(compiled, inputs: seededInputs([1, 3, 8, 8], count: 16))
        let exit = compiled.graph.graph.exits[0]
        guard case .logits(let e)? = network.tensors[exit.classifier] else { Issue.record("exit logits not quantized as logits"); return }
        #expect(network.tensors[exit.confidence] == .confidence)
        let int8 = Int8Interpreter(try IntegerProgram(network))
        let x = seededInputs([1, 3, 8, 8], count: 1, seed: 5)[0]
        let r = int8.run(x)
        let q = r.exits[0].logits.data.map { Int32($0 * Float(sign: .plus, exponent: Int(e), significand: 1)) }
        #expect(q.map { Float($0) / Float(sign: .plus, exponent: Int(e), significand: 1) } == r.exits[0].logits.data)
        let exact = MaxSoftmaxLogit.evaluate(inputs: [r.exits[0].logits], parameters: [], attributes: Attributes(), outputShape: [1, 1]).data[0]
        #expect(abs(r.exits[0].confidence - exact) < 0.01)

        let (floats, integers, metadata) = QuantizedFile.encode(network, metadata: ["k": "v"])
        let bytes = SafetensorsFile.encode(tensors: floats, integers: integers, metadata: metadata)
        let file = try SafetensorsFile.decode(bytes, source: "q.safetensors")
        #expect(QuantizedFile.isQuantized(file.metadata) && file.metadata["k"] == "v")
        let back = try QuantizedFile.decode(file, graph: compiled.graph)
        #expect(back.tensors == network.tensors)
        #expect(back.layers == network.layers)
        let again = Int8Interpreter(try IntegerProgram(back)).run(x)
        #expect(again.logits == r.logits && again.exits[0].confidence == r.exits[0].confidence)

        var broken = file
        broken.integers["fc.bias"] = IntegerTensor(.i32, shape: [4], values: [0, 0, 0, 0])
        #expect(throws: QuantizeError.self) { try QuantizedFile.decode(broken, graph: compiled.graph) }
        do {
            _ = try QuantizedFile.decode(broken, graph: compiled.graph)
        } catch {
            #expect(error.description.contains("'fc.bias' is I32 [4], expected I32 [5]"))
        }
    }
}
