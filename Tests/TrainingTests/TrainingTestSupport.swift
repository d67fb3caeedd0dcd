import Foundation
import IR
import Passes
@testable import Training

/// Seeded uniform values in [low, high).
func randomFloats(_ count: Int, seed: UInt64, _ low: Float = -1, _ high: Float = 1) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in rng.uniform(low, high) }
}

/// Seeded values with |v| in [gap, 1): away from ReLU's kink at 0.
func randomFloatsAwayFromZero(_ count: Int, seed: UInt64, gap: Float) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in
        let magnitude = rng.uniform(gap, 1)
        return rng.next() & 1 == 0 ? magnitude : -magnitude
    }
}

func randomBatch(_ shape: [Int], seed: UInt64, _ low: Float = -1, _ high: Float = 1) -> Batch {
    Batch(shape: shape, data: randomFloats(shape.reduce(1, *), seed: seed, low, high))
}

/// Set EEC_GRADIENT_REPORT=1 to print every gradient report (worst errors) and training curves.
let verbose = ProcessInfo.processInfo.environment["EEC_GRADIENT_REPORT"] != nil

/// The scalar objective of the layer checks: L = Σ r_i·y_i, summed in float64.
func weightedSum(_ y: Batch, _ r: [Float]) -> Double {
    precondition(y.data.count == r.count)
    var sum = 0.0
    for i in r.indices { sum += Double(r[i]) * Double(y.data[i]) }
    return sum
}

/// How an analytic gradient compares with central differences, element by element: an element
/// passes when |numeric − analytic| ≤ rtol·max(|numeric|, |analytic|) + atol.
struct GradientReport: CustomStringConvertible {
    var name: String
    var rtol: Double
    var atol: Double
    var checked = 0
    var failures: [String] = []
    /// The largest relative error over elements whose gradient is above atol (for the record).
    var worstRelative = 0.0

    init(_ name: String, rtol: Double, atol: Double) {
        self.name = name
        self.rtol = rtol
        self.atol = atol
    }

    mutating func compare(_ label: String, numeric: Double, analytic: Double) {
        checked += 1
        let difference = abs(numeric - analytic), scale = max(abs(numeric), abs(analytic))
        if scale > atol { worstRelative = max(worstRelative, difference / scale) }
        if !(difference <= rtol * scale + atol) {
            failures.append("\(label): numeric \(numeric), analytic \(analytic)")
        }
    }

    var passed: Bool {
        if verbose { print(self) }
        return failures.isEmpty && checked > 0
    }

    var description: String {
        "\(name): \(checked) elements, worst relative error \(worstRelative)"
            + (failures.isEmpty ? "" : "; \(failures.count) failures, e.g.\n" + failures.prefix(6).joined(separator: "\n"))
    }
}

/// The central difference of `f` at `x[i]` with step `h`, divided by the step actually taken
/// (x ± h rounded to float32), so the rounding of the perturbed input costs nothing.
func centralDifference(_ x: [Float], _ i: Int, step h: Float, _ f: ([Float]) -> Double) -> Double {
    var plus = x, minus = x
    plus[i] = x[i] + h
    minus[i] = x[i] - h
    return (f(plus) - f(minus)) / (Double(plus[i]) - Double(minus[i]))
}

/// Checks every element of the input gradient and of every parameter gradient of `layer` for
/// L = Σ r_i·y_i. The layer is copied (a value) before each forward, so no state leaks between
/// evaluations. `atol` is relative to the largest analytic gradient of each tensor.
func checkLayer<L: Layer>(_ name: String, _ layer: L, input: Batch, training: Bool, step: Float,
                          rtol: Double, atolFraction: Double, seed: UInt64 = 99) -> [GradientReport] {
    var probe = layer
    let y = probe.forward(input, training: training)
    let r = randomFloats(y.data.count, seed: seed)
    var grads = zeros(layer.parameters)
    let dx = probe.backward(Batch(shape: y.shape, data: r), grads: &grads)
    precondition(dx.shape == input.shape, "\(name): input gradient of shape \(dx.shape) for input \(input.shape)")

    func objective(input x: [Float], parameters: [[Float]]) -> Double {
        var copy = layer
        copy.parameters = parameters
        return weightedSum(copy.forward(Batch(shape: input.shape, data: x), training: training), r)
    }
    func report(_ what: String, analytic: [Float], numeric: (Int) -> Double) -> GradientReport {
        let scale = analytic.map { Double(abs($0)) }.max() ?? 0
        var report = GradientReport("\(name) d/d\(what)", rtol: rtol, atol: atolFraction * max(scale, 1e-6))
        for i in analytic.indices { report.compare("\(what)[\(i)]", numeric: numeric(i), analytic: Double(analytic[i])) }
        return report
    }
    var reports = [report("x", analytic: dx.data) { i in
        centralDifference(input.data, i, step: step) { objective(input: $0, parameters: layer.parameters) }
    }]
    for t in layer.parameters.indices {
        reports.append(report("parameter\(t)", analytic: grads[t]) { i in
            centralDifference(layer.parameters[t], i, step: step) { values in
                var parameters = layer.parameters
                parameters[t] = values
                return objective(input: input.data, parameters: parameters)
            }
        })
    }
    return reports
}

/// A small CNN for 1x3x8x8 inputs with 10 classes: three conv-BN-ReLU stages (16 channels at
/// 8x8, 32 at 4x4, 32 at 4x4), then pool and a linear classifier. Its exit candidates are relu1,
/// relu2 and relu3.
let tinyCNN = """
    model tiny
    input x: f32[1,3,8,8]
    conv1 = conv2d(x, out=16, kernel=3, pad=1, bias=false)
    bn1 = batchnorm(conv1)
    relu1 = relu(bn1)
    conv2 = conv2d(relu1, out=32, kernel=3, stride=2, pad=1, bias=false)
    bn2 = batchnorm(conv2)
    relu2 = relu(bn2)
    conv3 = conv2d(relu2, out=32, kernel=3, pad=1, bias=false)
    bn3 = batchnorm(conv3)
    relu3 = relu(bn3)
    pool = global_avg_pool(relu3)
    flat = flatten(pool)
    fc = linear(flat, out=10)
    output fc
    """

func parseGraph(_ text: String, name: String = "test.eeir") throws -> VerifiedGraph {
    switch VerifiedGraph.load(SourceFile(name: name, text: text)) {
    case .success(let (graph, _)): return graph
    case .failure(let diagnostics): throw TestFailure(diagnostics.rendered(in: SourceFile(name: name, text: text)))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A backbone with seeded weights, exits inserted, and everything training needs.
struct TrainingSetup {
    var backbone: VerifiedGraph
    var backboneWeights: [String: Tensor]
    var withExits: Model
    var attach: [String]
    var costRates: [Double]

    init(_ text: String, branches: Int, block: ExitBlock, seed: UInt64 = 0) throws {
        backbone = try parseGraph(text)
        backboneWeights = WeightBinder.seeded(backbone, seed: seed)
        withExits = try InsertExits(branches: branches, distribution: .fine, block: block, seed: seed)
            .run(Model(graph: backbone, weights: backboneWeights))
        let report = ExitCostReport(withExits.graph)
        attach = report.rows.dropLast().map(\.attach)
        costRates = report.rows.dropLast().map(\.costRate)
    }

    /// Seeded inputs of the backbone's input shape: per sample and channel an offset in [−2, 2),
    /// plus noise in [−0.5, 0.5) per pixel. (Plain noise would give every sample nearly the same
    /// pooled features, and a seeded backbone the same prediction for all.)
    func inputs(_ count: Int, seed: UInt64) -> [Tensor] {
        let shape = backbone.graph.input.shape
        let (channels, plane) = (shape[1], shape[2...].reduce(1, *))
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            var data: [Float] = []
            for _ in 0..<channels {
                let offset = rng.uniform(-2, 2)
                for _ in 0..<plane { data.append(offset + rng.uniform(-0.5, 0.5)) }
            }
            return Tensor(shape: shape, data: data)
        }
    }

    /// Sets the final classifier's bias to −W·f̄, f̄ the mean over `inputs` of its input features,
    /// so that the backbone's predictions spread over the classes instead of following the
    /// largest seeded bias. `classifier` and `features` name the final linear node and its input.
    mutating func centreClassifier(on inputs: [Tensor], classifier: String = "fc", features: String = "flat") throws {
        let bound = try WeightBinder.bind(backbone, tensors: backboneWeights, source: "seeded")
        let interpreter = Interpreter(backbone, weights: bound, keep: [features])
        var mean: [Double] = []
        for input in inputs {
            let f = interpreter.run(input).kept[features]?.data ?? []
            if mean.isEmpty { mean = [Double](repeating: 0, count: f.count) }
            for i in f.indices { mean[i] += Double(f[i]) / Double(inputs.count) }
        }
        guard let weight = backboneWeights["\(classifier).weight"], let bias = backboneWeights["\(classifier).bias"] else {
            throw TestFailure("no classifier '\(classifier)'")
        }
        let n = mean.count
        let centred = (0..<bias.count).map { o in
            Float(-(0..<n).reduce(0.0) { $0 + Double(weight.data[o * n + $1]) * mean[$1] })
        }
        backboneWeights["\(classifier).bias"] = Tensor(shape: bias.shape, data: centred)
        withExits.weights["\(classifier).bias"] = backboneWeights["\(classifier).bias"]
    }

    func cache(_ inputs: [Tensor]) throws -> FeatureCache {
        let bound = try WeightBinder.bind(backbone, tensors: backboneWeights, source: "seeded")
        return FeatureCache(backbone: backbone, weights: bound, attach: attach, inputs: inputs)
    }

    func trainer(learningRate: Double) throws -> ExitTrainer {
        try ExitTrainer(graph: withExits.graph, weights: withExits.weights, costRates: costRates, learningRate: learningRate)
    }
}
