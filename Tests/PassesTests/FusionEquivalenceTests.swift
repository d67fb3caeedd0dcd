import Foundation
import IR
import Testing
@testable import Passes

/// BatchNorm folding and ReLU fusion do not change what the network computes: the reference
/// interpreter gives the same final logits, exit logits and exit confidence logits for the graph
/// before and after `fold-batchnorm`, `fuse-relu` and `segment` (the `eec compile` pipeline), on
/// every example, with 0 exits and with 3 conv2 exits.
///
/// Weights. `WeightBinder.seeded` draws BatchNorm statistics independently of the activations
/// (running_var in [0.5, 1.5]), so nothing normalizes a seeded network: activations grow with depth
/// and the logits reach ~15 (ResNet-20), ~180 (ResNet-32), ~660 (ResNet-44) and ~1.5e10 (ResNet-110).
/// No float32 computation agrees to 1e-5 in absolute terms at that scale (one ulp of 660 is 6e-5).
/// So the main check uses the seeded weights with *calibrated* BatchNorm running statistics: set,
/// layer by layer, to the per-channel mean and variance each BN sees on a batch of seeded inputs
/// (4; 2 for DenseNet), as training would leave them. Those networks have logits of magnitude
/// ≤ ~3, like trained ones.
///
/// Tolerances:
/// - calibrated seeded weights, and the trained ResNet-44: max |fused − unfused| ≤ 1e-5 absolute,
///   over final logits, exit logits and exit confidence logits. The largest calibrated scale is
///   ~3 (ResNet-110, VGG-19), so this is ≤ ~4e-6 of the logit scale, i.e. a few tens of float32
///   ulps. Observed: ≤ 5e-7 on the ResNets up to 44 layers and DenseNet, 2.1e-6 on VGG-19 and
///   6.1e-6 on ResNet-110 — not a folding error but the networks' conditioning: rounding every
///   weight of the calibrated ResNet-110 by one ulp (no folding at all) moves its logits by 1.3e-5
///   (VGG-19: 9.5e-6). The trained ResNet-44: 2.9e-6 for logits up to 34 (8e-8 relative).
/// - raw seeded weights: max |fused − unfused| ≤ 1e-6 · max(1, max |value|) (observed ≤ 2e-7).
struct FusionEquivalenceTests {
    static let absoluteTolerance: Float = 1e-5
    static let relativeTolerance: Float = 1e-6

    struct Setup: Sendable, CustomTestStringConvertible {
        var example: String
        var candidateOps: Set<OpKind>? = nil
        var samples: Int
        /// Inputs the BatchNorm statistics are calibrated on.
        var calibration = 4
        /// Also check the backbone without exits, and the raw seeded weights.
        var everything = true

        var testDescription: String {
            let ops = candidateOps.map { ", exits after " + $0.map(\.name).sorted().joined(separator: ",") } ?? ""
            return "\(example)\(ops), \(samples) sample\(samples == 1 ? "" : "s")"
        }
    }

    /// Every example. Two samples on the small networks, one on the large ones, to keep the whole
    /// file under a minute on two cores (DenseNet-121, at ~0.9 GMAC a run, is most of it).
    static let setups: [Setup] = [
        Setup(example: "resnet20", samples: 2),
        Setup(example: "resnet20a", samples: 2),
        Setup(example: "resnet32", samples: 2),
        Setup(example: "resnet44a", samples: 2),
        Setup(example: "resnet110", samples: 1),
        Setup(example: "vgg19", candidateOps: [.maxpool], samples: 1),
        Setup(example: "densenet121", candidateOps: [.concat], samples: 1, calibration: 2),
        // Every cut point: the exits land on the stem conv and the first concatenations.
        Setup(example: "densenet121", samples: 1, calibration: 2, everything: false),
    ]

    /// A seeded input in [-2, 2), about the range of normalized images.
    static func input(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SplitMix64(seed: seed)
        return Tensor(shape: shape, data: (0..<elementCount(shape)).map { _ in rng.uniform(-2, 2) })
    }

    /// The values a sample produces, flattened: final logits, then each exit's logits and confidence.
    static func values(_ r: Interpreter.Result) -> [Float] {
        r.logits.data + r.exits.flatMap { $0.logits.data + [$0.confidence] }
    }

    /// Sets every BatchNorm's running mean and variance to the statistics of its input over the
    /// batch `xs`, in schedule order (each BN sees the activations of the already-calibrated layers
    /// before it), as training would leave them.
    static func calibrated(_ model: Model, on xs: [Tensor]) -> [String: Tensor] {
        let g = model.graph
        var weights = model.weights
        var values: [[String: Tensor]] = xs.map { [g.graph.input.name: $0] }
        for node in g.graph.nodes {
            let inputs = values.map { v in node.inputs.map { v[$0]! } }
            if node.op == .batchnorm {
                let (c, hw) = (inputs[0][0].shape[1], inputs[0][0].shape[2] * inputs[0][0].shape[3])
                var mean = [Float](repeating: 0, count: c), variance = [Float](repeating: 0, count: c)
                for ch in 0..<c {
                    var sum = 0.0, squares = 0.0
                    for x in inputs {
                        x[0].data.withUnsafeBufferPointer { p in
                            for i in (ch * hw)..<((ch + 1) * hw) {
                                sum += Double(p[i])
                                squares += Double(p[i]) * Double(p[i])
                            }
                        }
                    }
                    let count = Double(hw * inputs.count)
                    mean[ch] = Float(sum / count)
                    // Floored so that a channel that is constant here does not blow up on other inputs.
                    variance[ch] = Float(max(squares / count - (sum / count) * (sum / count), 1e-2))
                }
                weights["\(node.name).running_mean"] = Tensor(shape: [c], data: mean)
                weights["\(node.name).running_var"] = Tensor(shape: [c], data: variance)
            }
            let parameters = g.parameters(node).map { weights["\(node.name).\($0.name)"]! }
            for k in values.indices {
                values[k][node.name] = node.op.definition.evaluate(inputs: inputs[k], parameters: parameters,
                                                                   attributes: node.attributes, outputShape: g.shape(node.name))
            }
        }
        return weights
    }

    /// Runs `unfused` and `fused` on `inputs` and checks they agree: to `absoluteTolerance`, or
    /// when `relative`, to `relativeTolerance` × max(1, max |value|). Returns (max diff, max |value|).
    @discardableResult
    static func compare(_ unfused: Model, _ fused: Model, inputs: [Tensor], relative: Bool = false,
                        reference: [[Float]]? = nil, _ what: String,
                        sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> (diff: Float, scale: Float) {
        let a = Interpreter(unfused.graph, weights: try WeightBinder.bind(unfused.graph, tensors: unfused.weights, source: "unfused"))
        let b = Interpreter(fused.graph, weights: try WeightBinder.bind(fused.graph, tensors: fused.weights, source: "fused"))
        #expect(unfused.graph.graph.exits.map(\.name) == fused.graph.graph.exits.map(\.name), sourceLocation: sourceLocation)
        var maxDiff: Float = 0
        var scale: Float = 0
        for (k, x) in inputs.enumerated() {
            let u = a.run(x), f = b.run(x)
            let (uv, fv) = (values(u), values(f))
            try #require(uv.count == fv.count && u.exits.count == unfused.graph.graph.exits.count, sourceLocation: sourceLocation)
            #expect(uv.allSatisfy { $0.isFinite }, sourceLocation: sourceLocation)
            let diff = zip(uv, fv).map { abs($0 - $1) }.max() ?? 0
            let sampleScale = uv.map(abs).max() ?? 0
            let tolerance = relative ? relativeTolerance * max(1, sampleScale) : absoluteTolerance
            #expect(diff <= tolerance, "\(what), sample \(k): max |fused − unfused| = \(diff) for values up to \(sampleScale)",
                    sourceLocation: sourceLocation)
            if let reference {
                for (name, logits) in [("unfused", u.logits.data), ("fused", f.logits.data)] {
                    let d = zip(logits, reference[k]).map { abs($0 - $1) }.max() ?? .infinity
                    #expect(d <= 1e-4, "\(what), sample \(k): \(name) logits differ from the reference by \(d)", sourceLocation: sourceLocation)
                }
            }
            maxDiff = max(maxDiff, diff)
            scale = max(scale, sampleScale)
        }
        return (maxDiff, scale)
    }

    static func compiled(_ model: Model) throws -> Model {
        let fused = try PassPipeline.afterExits.run(model)
        // The passes did something: every conv→BN pair folded.
        #expect(fused.graph.graph.nodes.count < model.graph.graph.nodes.count)
        return fused
    }

    @Test(arguments: setups)
    func fusedGraphComputesTheSame(_ s: Setup) throws {
        let backbone = try example(s.example)
        let seeded = seededModel(backbone)
        let withExits = try InsertExits(branches: 3, block: .conv(2), candidateOps: s.candidateOps).run(seeded)
        #expect(withExits.graph.graph.exits.count == 3)
        let shape = backbone.graph.input.shape
        let inputs = (1...s.samples).map { Self.input(shape, seed: UInt64($0)) }

        // Calibrated BatchNorms (the heads' too): absolute tolerance.
        let weights = Self.calibrated(withExits, on: (0..<s.calibration).map { Self.input(shape, seed: 1000 + UInt64($0)) })
        let calibrated = [Model(graph: backbone, weights: weights), Model(graph: withExits.graph, weights: weights)]
        for model in s.everything ? calibrated : [calibrated[1]] {
            let exits = model.graph.graph.exits.count
            let (_, scale) = try Self.compare(model, try Self.compiled(model), inputs: inputs, "\(exits) exits, calibrated")
            #expect(scale < 100, "calibrated values should look like trained logits, found \(scale)")
        }
        // Raw seeded weights: relative to the (possibly huge) scale.
        if s.everything {
            try Self.compare(withExits, try Self.compiled(withExits), inputs: [inputs[0]], relative: true, "3 exits, raw seeded")
        }
    }

    /// The hand-written fixtures of PassFixtureTests, which include the cases that must not fuse.
    @Test(arguments: ["fuse-relu", "fold-batchnorm-blocked", "tiny-resnet"])
    func fixturesComputeTheSame(_ name: String) throws {
        let graph = try load(PassFixtureTests.fixtures.appendingPathComponent("\(name).eeir").path)
        let unfused = name == "tiny-resnet" ? try InsertExits(branches: 3, block: .bnpool).run(seededModel(graph)) : seededModel(graph)
        let fused = try PassPipeline([FoldBatchNorm(), FuseReLU()]).run(unfused)
        let inputs = (1...3).map { Self.input(graph.graph.input.shape, seed: UInt64($0)) }
        try Self.compare(unfused, fused, inputs: inputs, name)
    }

    /// A weights file may hold a `<conv>.bias` for a conv declared `bias=false` (a PyTorch model
    /// saved with biases the .eeir does not use): the interpreter ignores it (the binder reports it
    /// unused), so folding must ignore it too.
    @Test func foldIgnoresAStrayBiasOfABiasFreeConv() throws {
        let graph = try load(PassFixtureTests.fixtures.appendingPathComponent("tiny-resnet.eeir").path)
        var weights = WeightBinder.seeded(graph)
        weights["conv1.bias"] = Tensor(shape: [4], data: [10, -10, 20, -20])
        let unfused = Model(graph: graph, weights: weights)
        #expect(try WeightBinder.bind(graph, tensors: weights, source: "w").unused == ["conv1.bias"])
        let fused = try PassPipeline([FoldBatchNorm(), FuseReLU()]).run(unfused)
        try Self.compare(unfused, fused, inputs: [Self.input(graph.graph.input.shape, seed: 1)], "stray bias")
    }

    // MARK: - The real ResNet-44

    static let data = packageRoot.appendingPathComponent("../shared/data/cifar10").standardizedFileURL
    static let hasData = FileManager.default.fileExists(atPath: data.appendingPathComponent("resnet44a.safetensors").path)

    /// The pre-trained CIFAR-10 ResNet-44 (option A): fused and unfused agree to 1e-5, and both
    /// match the logits of an independent runtime to 1e-4 on the first three test images.
    @Test(.enabled(if: hasData, "needs ../shared/data/cifar10"))
    func realResNet44() throws {
        let graph = try example("resnet44a")
        let file = try SafetensorsFile.read(path: Self.data.appendingPathComponent("resnet44a.safetensors").path)
        let images = try ImageBatch.readInputs(path: Self.data.appendingPathComponent("test_x_0_2999.npy").path,
                                               sampleShape: Array(graph.graph.input.shape.dropFirst()),
                                               normalization: .imageNet)
        let logits = try NPYArray.read(path: Self.data.appendingPathComponent("resnet44a_logits_0_2999.npy").path)
        guard case .float32(let flat) = logits.storage else { throw TestFailure("reference logits are \(logits.storage.dtypeName)") }
        try #require(logits.shape == [3000, 10] && images.count == 3000)
        let n = 3
        let reference = (0..<n).map { Array(flat[($0 * 10)..<($0 * 10 + 10)]) }

        let unfused = Model(graph: graph, weights: file.tensors)
        let fused = try PassPipeline.afterExits.run(unfused)
        try Self.compare(unfused, fused, inputs: Array(images.prefix(n)), reference: reference, "trained, 0 exits")

        // With 3 seeded conv2 exits on the trained backbone, the exits agree too.
        let withExits = try InsertExits(branches: 3).run(unfused)
        let fusedExits = try PassPipeline.afterExits.run(withExits)
        try Self.compare(withExits, fusedExits, inputs: [images[0]], reference: [reference[0]], "trained, 3 exits")
    }
}
