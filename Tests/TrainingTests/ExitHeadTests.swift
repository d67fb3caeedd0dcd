import Foundation
import Testing
import IR
import Passes
@testable import Training

@Suite("Exit heads")
struct ExitHeadTests {
    @Test("A conv2 head is built from the IR nodes, with the IR's parameter names")
    func structure() throws {
        let setup = try TrainingSetup(tinyCNN, branches: 2, block: .conv(2))
        let trainer = try setup.trainer(learningRate: 1e-3)
        #expect(trainer.heads.count == 2)
        let head = trainer.heads[0]
        let kinds = head.trunk.map { String(describing: type(of: $0)) }
        #expect(kinds == ["ConvLayer", "BatchNormLayer", "ReLULayer", "ConvLayer", "BatchNormLayer", "ReLULayer",
                          "GlobalPoolLayer", "FlattenLayer"])
        #expect(head.parameterNames == [
            ["exits.0.conv1.weight"], ["exits.0.bn1.weight", "exits.0.bn1.bias"], [],
            ["exits.0.conv2.weight"], ["exits.0.bn2.weight", "exits.0.bn2.bias"], [], [], [],
            ["exits.0.classifier.weight", "exits.0.classifier.bias"], ["exits.0.confidence.weight", "exits.0.confidence.bias"],
        ])
        #expect(head.statisticsNames[1] == ["exits.0.bn1.running_mean", "exits.0.bn1.running_var"])
        // The initial parameters are the seeded ones.
        for (layer, names) in zip(head.allParameters, head.parameterNames) {
            for (values, name) in zip(layer, names) { #expect(values == setup.withExits.weights[name]?.data, "\(name)") }
        }
    }

    @Test("Evaluation-mode forward agrees with the reference interpreter's exits", arguments: [ExitBlock.pool, .bnpool, .plain, .conv(2)])
    func forwardMatchesInterpreter(_ block: ExitBlock) throws {
        let setup = try TrainingSetup(tinyCNN, branches: 2, block: block)
        let inputs = setup.inputs(5, seed: 17)
        let cache = try setup.cache(inputs)
        var trainer = try setup.trainer(learningRate: 1e-3)
        let bound = try WeightBinder.bind(setup.withExits.graph, tensors: setup.withExits.weights, source: "seeded")
        let interpreter = Interpreter(setup.withExits.graph, weights: bound)
        let reference = inputs.map { interpreter.run($0) }
        for e in trainer.heads.indices {
            let (logits, confidence) = trainer.heads[e].forward(cache.batch(exit: e, samples: Array(0..<5)), training: false)
            for s in 0..<5 {
                let mine = Array(logits.data[(s * logits.stride)..<((s + 1) * logits.stride)])
                let worst = zip(mine, reference[s].exits[e].logits.data).map { abs($0 - $1) }.max() ?? .infinity
                #expect(worst < 1e-4, "\(block) exit \(e) sample \(s): logits differ by \(worst)")
                #expect(abs(confidence.data[s] - reference[s].exits[e].confidence) < 1e-4)
            }
        }
        // The cache's labels and backbone probabilities are the backbone's own.
        for s in 0..<5 {
            #expect(cache.labels[s] == argmax(reference[s].logits.data))
            #expect(abs(cache.backboneProbability[s] - softmax(reference[s].logits.data)[cache.labels[s]]) < 1e-12)
        }
    }

    /// The whole head, end to end: the loss exactly as `ExitTrainer.step` computes it (training-mode
    /// forward of every head, `ExitTrainer.objective`), perturbed in a few parameters of every
    /// layer of both heads, against the gradients `ExitHead.backward` returns.
    ///
    /// Checked per parameter tensor: the element with the largest gradient and 4 seeded elements
    /// among those with |gradient| ≥ 0.1 × the largest (smaller ones are lost in float32 noise).
    /// Step 3e-4: the loss is float64 from float32 logits, and a step moves a few of the ~10⁴
    /// pre-ReLU values across 0 (the kink error grows with the step: worst relative error ≈ 5e-2
    /// at 1e-2, 2e-2 at 1e-3, 6e-3 at 3e-4 on this setup). Tolerance rtol 2e-2 + atol 1e-3 × the
    /// largest gradient of the tensor.
    @Test("conv2 heads: ExitHead.backward against central differences of the training loss",
          arguments: LossVersion.allCases)
    func conv2EndToEnd(_ version: LossVersion) throws {
        var setup = try TrainingSetup(tinyCNN, branches: 2, block: .conv(2))
        let count = 8
        let images = setup.inputs(count, seed: 23)
        try setup.centreClassifier(on: images)
        let cache = try setup.cache(images)
        let trainer = try setup.trainer(learningRate: 1e-3)
        let samples = Array(0..<count)
        let labels = samples.map { cache.labels[$0] }, backbone = samples.map { cache.backboneProbability[$0] }
        let inputs = trainer.heads.indices.map { cache.batch(exit: $0, samples: samples) }
        let loss = CumulativeLoss(version: version, lambda: 1, costRates: setup.costRates)
        func objective(_ heads: [ExitHead]) -> (loss: Double, dLogits: [Batch], dConfidence: [Batch]) {
            var heads = heads
            let outputs = heads.indices.map { heads[$0].forward(inputs[$0], training: true) }
            return ExitTrainer.objective(outputs, labels: labels, backbone: backbone, loss: loss)
        }
        var probe = trainer.heads
        let (_, dLogits, dConfidence) = objective(probe)
        _ = probe.indices.map { probe[$0].forward(inputs[$0], training: true) }
        let grads = probe.indices.map { probe[$0].backward(logits: dLogits[$0], confidence: dConfidence[$0]) }

        var rng = SplitMix64(seed: 41)
        var checkedTensors = 0
        for e in trainer.heads.indices {
            let parameters = trainer.heads[e].allParameters
            #expect(grads[e].map { $0.map(\.count) } == parameters.map { $0.map(\.count) })
            for (l, layer) in parameters.enumerated() {
                for (t, values) in layer.enumerated() {
                    let name = trainer.heads[e].parameterNames[l][t]
                    let scale = grads[e][l][t].map { Double(abs($0)) }.max() ?? 0
                    if version == .v0 && name.contains(".confidence.") {
                        // The warm-up loss trains the classifiers alone: no gradient reaches the confidence head.
                        #expect(scale == 0, "\(name) has a gradient under v0")
                        checkedTensors += 1
                        continue
                    }
                    var report = GradientReport(name, rtol: 2e-2, atol: 1e-3 * scale)
                    let g = grads[e][l][t]
                    let largest = g.indices.max { abs(g[$0]) < abs(g[$1]) } ?? 0
                    let large = g.indices.filter { Double(abs(g[$0])) >= 0.1 * scale }
                    let picks = [largest] + (0..<4).map { _ in large[Int(rng.next() % UInt64(large.count))] }
                    for i in picks {
                        let numeric = centralDifference(values, i, step: 3e-4) { perturbed in
                            var heads = trainer.heads
                            var all = heads[e].allParameters
                            all[l][t] = perturbed
                            heads[e].setParameters(all)
                            return objective(heads).loss
                        }
                        report.compare("\(name)[\(i)]", numeric: numeric, analytic: Double(grads[e][l][t][i]))
                    }
                    #expect(scale > 0, "\(name) has no gradient at all")
                    #expect(report.passed, "\(report)")
                    checkedTensors += 1
                }
            }
        }
        // Per head: 2 conv weights, 2 BN weights and biases, classifier and confidence weights and biases.
        #expect(checkedTensors == 2 * 10)
    }
}
