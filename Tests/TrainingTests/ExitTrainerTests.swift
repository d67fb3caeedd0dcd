import Foundation
import Testing
import IR
import Passes
@testable import Training

@Suite("Exit training on seeded data")
struct ExitTrainerTests {
    /// Agreement of each exit's argmax with the backbone's label, over the samples of `cache`, in
    /// evaluation mode (running BatchNorm statistics), as `eec calibrate` would see it: the graph
    /// with exits, run by the reference interpreter with the trained tensors.
    func agreement(_ setup: TrainingSetup, tensors: [String: Tensor], inputs: [Tensor], labels: [Int]) throws -> [Double] {
        var weights = setup.withExits.weights
        weights.merge(tensors) { _, new in new }
        let bound = try WeightBinder.bind(setup.withExits.graph, tensors: weights, source: "trained")
        let interpreter = Interpreter(setup.withExits.graph, weights: bound)
        let exits = setup.withExits.graph.graph.exits.count
        var agreeing = [Int](repeating: 0, count: exits)
        for (input, label) in zip(inputs, labels) {
            let result = interpreter.run(input)
            for e in 0..<exits where argmax(result.exits[e].logits.data) == label { agreeing[e] += 1 }
        }
        return agreeing.map { Double($0) / Double(inputs.count) }
    }

    @Test("Training reduces the loss and the exits learn to agree with the backbone")
    func learns() throws {
        var setup = try TrainingSetup(tinyCNN, branches: 2, block: .pool)
        let inputs = setup.inputs(256, seed: 1000)
        try setup.centreClassifier(on: inputs)
        let cache = try setup.cache(inputs)
        // The labels must not be one class, or agreement would mean nothing.
        var histogram = [Int](repeating: 0, count: setup.backbone.classes)
        for y in cache.labels { histogram[y] += 1 }
        let majority = Double(histogram.max() ?? 0) / Double(cache.count)
        #expect(majority < 0.4 && histogram.filter { $0 > 0 }.count >= 5, "labels: \(histogram)")

        var trainer = try setup.trainer(learningRate: 1e-2)
        let before = try agreement(setup, tensors: trainer.trainedTensors(), inputs: inputs, labels: cache.labels)
        var options = ExitTrainer.Options()
        options.epochs = 20
        options.batchSize = 32
        options.learningRate = 1e-2
        options.seed = 3
        var reports = 0
        let history = trainer.train(cache, options: options) { epoch, batch, batches, _ in
            reports += 1
            #expect(batches == 8 && (1...8).contains(batch) && (1...20).contains(epoch))
        }
        #expect(reports == 20 * 8)
        #expect(history.map(\.epoch) == Array(1...20))
        let first = history[0], last = history[history.count - 1]
        #expect(last.loss < 0.6 * first.loss, "loss \(first.loss) → \(last.loss)")
        // Not just the first epoch against the last: the loss keeps going down.
        #expect(history[history.count / 2].loss < first.loss && last.loss < history[history.count / 2].loss)
        for stats in history {
            #expect(abs(stats.exitMix.reduce(0, +) - 1) < 1e-9 && stats.exitMix.count == 3)
            #expect((0...1).contains(stats.agreement))
        }
        let after = try agreement(setup, tensors: trainer.trainedTensors(), inputs: inputs, labels: cache.labels)
        for e in after.indices {
            #expect(after[e] > before[e] + 0.2, "exit \(e): agreement \(before[e]) → \(after[e]) (majority class \(majority))")
            #expect(after[e] > majority + 0.15, "exit \(e): agreement \(after[e]), majority class \(majority)")
        }
        // The deeper exit sees more of the backbone: it should agree at least as well, roughly.
        #expect(after[1] > after[0] - 0.1)
        if verbose { print("training: loss \(history.map(\.loss)), agreement \(before) → \(after), majority \(majority)") }
    }

    @Test("Trained tensors: every head tensor, IR shapes, running statistics updated, backbone untouched")
    func trainedTensors() throws {
        let setup = try TrainingSetup(tinyCNN, branches: 2, block: .conv(1), seed: 7)
        let cache = try setup.cache(setup.inputs(40, seed: 9))
        #expect(setup.attach == ["relu1", "relu2"])
        var trainer = try setup.trainer(learningRate: 1e-2)
        var options = ExitTrainer.Options()
        options.epochs = 2
        options.batchSize = 16
        _ = trainer.train(cache, options: options)
        let trained = trainer.trainedTensors()
        let headKeys = Set(setup.withExits.weights.keys.filter { $0.hasPrefix("exits.") })
        #expect(Set(trained.keys) == headKeys)
        for (key, tensor) in trained {
            #expect(tensor.shape == setup.withExits.weights[key]?.shape, "\(key)")
            #expect(tensor.data != setup.withExits.weights[key]?.data, "\(key) did not change")
        }
        // Binds to the graph as it is.
        var weights = setup.withExits.weights
        weights.merge(trained) { _, new in new }
        #expect(throws: Never.self) { try WeightBinder.bind(setup.withExits.graph, tensors: weights, source: "trained") }
    }

    /// Every tensor's float bit patterns, by name.
    func bits(_ tensors: [String: Tensor]) -> [String: [UInt32]] {
        tensors.mapValues { $0.data.map(\.bitPattern) }
    }

    func train(_ setup: TrainingSetup, _ cache: FeatureCache, seed: UInt64) throws -> ([String: Tensor], [ExitTrainer.EpochStats]) {
        var trainer = try setup.trainer(learningRate: 1e-2)
        var options = ExitTrainer.Options()
        options.epochs = 3
        options.batchSize = 24
        options.seed = seed
        let history = trainer.train(cache, options: options)
        return (trainer.trainedTensors(), history)
    }

    @Test("Bit-for-bit reproducible with the same seed; another seed gives other tensors", arguments: [ExitBlock.conv(2), .bnpool])
    func reproducible(_ block: ExitBlock) throws {
        let setup = try TrainingSetup(tinyCNN, branches: 2, block: block, seed: 4)
        let cache = try setup.cache(setup.inputs(100, seed: 77))
        // A second cache from the same inputs is identical too (the backbone runs on every core).
        let again = try setup.cache(setup.inputs(100, seed: 77))
        #expect(cache.features.map { $0.map(\.bitPattern) } == again.features.map { $0.map(\.bitPattern) })
        #expect(cache.labels == again.labels)

        let (a, historyA) = try train(setup, cache, seed: 11)
        let (b, historyB) = try train(setup, again, seed: 11)
        let (c, _) = try train(setup, cache, seed: 12)
        #expect(!a.isEmpty)
        #expect(bits(a) == bits(b))
        #expect(historyA.map(\.loss.bitPattern) == historyB.map(\.loss.bitPattern))
        #expect(historyA.map(\.exitMix) == historyB.map(\.exitMix))
        let differing = a.keys.filter { bits([$0: a[$0]!]) != bits([$0: c[$0]!]) }
        #expect(differing.count == a.count, "only \(differing.count) of \(a.count) tensors depend on the seed")
    }
}
