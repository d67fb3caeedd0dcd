import Foundation
import IR
import Runtime

/// Trains the exit heads of a graph on cached backbone features, PTEE-style: the backbone is
/// frozen, labels are the backbone's own predictions, the loss is the cumulative cost-aware loss
/// (`CumulativeLoss`) averaged over each batch, and Adam updates every head.
public struct ExitTrainer {
    public struct Options: Sendable {
        public var epochs = 20
        public var batchSize = 128
        public var learningRate = 1e-3
        public var lambda = 1.0
        public var loss = LossVersion.v2
        /// Epochs of v0 (each classifier alone) before `loss`: the cost term pushes confidences
        /// down from the start, and a classifier's gradient in v1/v2 is scaled by its confidence,
        /// so without a warm-up the classifiers of early exits barely learn.
        public var warmupEpochs = 0
        public var seed: UInt64 = 0

        public init() {}
    }

    /// One epoch's summary.
    public struct EpochStats: Sendable {
        public var epoch: Int
        public var loss: Double
        /// Fraction of samples whose first confident exit (h ≥ 0.5) is each exit; the last entry
        /// is the backbone.
        public var exitMix: [Double]
        /// Fraction of samples whose exit (at h ≥ 0.5) agrees with the backbone.
        public var agreement: Double
        /// Per exit: fraction of samples whose classifier alone agrees with the backbone,
        /// whatever its confidence (what the classifiers have learnt, apart from the confidences).
        public var classifierAgreement: [Double]
    }

    var heads: [ExitHead]
    var optimizers: [Adam]
    public let costRates: [Double]
    let graph: VerifiedGraph

    /// `graph` has the exits; `weights` hold their initial tensors (seeded or from a file).
    public init(graph: VerifiedGraph, weights: [String: Tensor], costRates: [Double], learningRate: Double) throws(TrainingError) {
        var heads: [ExitHead] = []
        for exit in graph.graph.exits {
            do {
                heads.append(try ExitHead(graph, exit: exit, weights: weights))
            } catch {
                throw TrainingError(message: error.message)
            }
        }
        self.heads = heads
        self.optimizers = heads.map { _ in Adam(learningRate: learningRate) }
        self.costRates = costRates
        self.graph = graph
    }

    /// Runs the epochs; `report` is called after every batch (epoch, batch, batches, running stats).
    public mutating func train(_ data: FeatureCache, options: Options,
                               report: (_ epoch: Int, _ batch: Int, _ batches: Int, _ stats: EpochStats) -> Void = { _, _, _, _ in })
        -> [EpochStats]
    {
        let mainLoss = CumulativeLoss(version: options.loss, lambda: options.lambda, costRates: costRates)
        let warmupLoss = CumulativeLoss(version: .v0, lambda: options.lambda, costRates: costRates)
        var rng = SplitMix64(seed: options.seed ^ 0x7472_6169_6E)
        var history: [EpochStats] = []
        let n = data.count
        let batches = (n + options.batchSize - 1) / max(1, options.batchSize)
        for epoch in 1...max(1, options.epochs) {
            var order = Array(0..<n)
            for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            var stats = Accumulator(exits: heads.count)
            let loss = epoch <= options.warmupEpochs ? warmupLoss : mainLoss
            for b in 0..<batches {
                let samples = Array(order[(b * options.batchSize)..<min(n, (b + 1) * options.batchSize)])
                step(samples, data, loss, &stats)
                report(epoch, b + 1, batches, stats.summary(epoch: epoch))
            }
            history.append(stats.summary(epoch: epoch))
        }
        return history
    }

    /// Forward every head on one batch, the loss and its gradients, backward, Adam.
    mutating func step(_ samples: [Int], _ data: FeatureCache, _ loss: CumulativeLoss, _ stats: inout Accumulator) {
        var outputs: [(logits: Batch, confidence: Batch)] = []
        for e in heads.indices {
            outputs.append(heads[e].forward(data.batch(exit: e, samples: samples), training: true))
        }
        let exits = heads.count
        let (_, dLogits, dConfidence) = ExitTrainer.objective(
            outputs, labels: samples.map { data.labels[$0] }, backbone: samples.map { data.backboneProbability[$0] }, loss: loss
        ) { result, h, probabilities, y in
            let agreeing = probabilities.map { argmax($0.map(Float.init)) == y }
            stats.add(result.loss, firstExit: h.firstIndex { $0 >= 0.5 } ?? exits, classifiersAgreeing: agreeing)
        }
        for e in heads.indices {
            let grads = heads[e].backward(logits: dLogits[e], confidence: dConfidence[e])
            var flat = heads[e].allParameters.flatMap { $0 }
            optimizers[e].update(&flat, grads.flatMap { $0 })
            var offset = 0
            let grouped = heads[e].allParameters.map { layer -> [[Float]] in
                defer { offset += layer.count }
                return Array(flat[offset..<(offset + layer.count)])
            }
            heads[e].setParameters(grouped)
        }
    }

    /// The batch loss `step` minimizes, from every head's outputs: the mean over the batch of
    /// `loss` with p_n = softmax(logits_n)[y] and h_n = sigmoid(confidence_n); and its gradients
    /// with respect to each head's class logits and confidence logits. `record` sees each sample's
    /// result, confidences, class probabilities and label (for the epoch statistics).
    static func objective(_ outputs: [(logits: Batch, confidence: Batch)], labels: [Int], backbone: [Double],
                          loss: CumulativeLoss,
                          record: (_ result: CumulativeLoss.Result, _ h: [Double], _ probabilities: [[Double]], _ label: Int) -> Void
                              = { _, _, _, _ in })
        -> (loss: Double, dLogits: [Batch], dConfidence: [Batch])
    {
        let count = labels.count
        let classes = outputs.first?.logits.shape[1] ?? 0
        var dLogits = outputs.indices.map { _ in Batch(zeros: [count, classes]) }
        var dConfidence = outputs.indices.map { _ in Batch(zeros: [count, 1]) }
        var total = 0.0
        for j in 0..<count {
            let y = labels[j]
            var probabilities: [[Double]] = [], p: [Double] = [], h: [Double] = []
            for e in outputs.indices {
                let row = Array(outputs[e].logits.data[(j * classes)..<((j + 1) * classes)])
                let soft = softmax(row)
                probabilities.append(soft)
                p.append(soft[y])
                h.append(ExitRule.sigmoid(Double(outputs[e].confidence.data[j])))
            }
            let result = loss.evaluate(p: p, h: h, backbone: backbone[j])
            total += result.loss
            record(result, h, probabilities, y)
            // Averaged over the batch: every gradient is divided by its size.
            let scale = 1 / Double(count)
            for e in outputs.indices {
                // d p_y / d z_k = p_y (δ_ky − p_k);  d h / d q = h (1 − h).
                for k in 0..<classes {
                    let delta = (k == y ? 1.0 : 0.0) - probabilities[e][k]
                    dLogits[e].data[j * classes + k] = Float(scale * result.gradP[e] * p[e] * delta)
                }
                dConfidence[e].data[j] = Float(scale * result.gradH[e] * h[e] * (1 - h[e]))
            }
        }
        return (total / Double(max(1, count)), dLogits, dConfidence)
    }

    /// The trained exit tensors by name (BatchNorm running statistics included).
    public func trainedTensors() -> [String: Tensor] {
        let index = graph.graph.nodeIndex()
        var out: [String: Tensor] = [:]
        for head in heads {
            out.merge(head.tensors(shapes: { name in
                let dot = name.lastIndex(of: ".") ?? name.endIndex
                let node = String(name[..<dot]), param = String(name[name.index(after: dot)...])
                guard let i = index[node] else { return [] }
                return graph.parameters(graph.graph.nodes[i]).first { $0.name == param }?.shape ?? []
            })) { a, _ in a }
        }
        return out
    }

    /// Running sums over an epoch.
    struct Accumulator {
        var loss = 0.0
        var samples = 0
        var exits: [Int]
        var agreeing = 0
        var classifiersAgreeing: [Int]

        init(exits: Int) {
            self.exits = [Int](repeating: 0, count: exits + 1)
            classifiersAgreeing = [Int](repeating: 0, count: exits)
        }

        /// `classifiersAgreeing[e]`: whether exit e's classifier agrees with the backbone; the
        /// backbone (firstExit == count) always agrees with itself.
        mutating func add(_ loss: Double, firstExit: Int, classifiersAgreeing agreeing: [Bool]) {
            self.loss += loss
            samples += 1
            exits[firstExit] += 1
            if firstExit == agreeing.count || agreeing[firstExit] { self.agreeing += 1 }
            for e in agreeing.indices where agreeing[e] { classifiersAgreeing[e] += 1 }
        }

        func summary(epoch: Int) -> EpochStats {
            let n = Double(max(1, samples))
            return EpochStats(epoch: epoch, loss: loss / n, exitMix: exits.map { Double($0) / n }, agreement: Double(agreeing) / n,
                              classifierAgreement: classifiersAgreeing.map { Double($0) / n })
        }
    }
}

public struct TrainingError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
