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
        /// `--distill τ`: the classifiers learn the backbone's softened softmax, τ²·CE(softmax(z/τ),
        /// softmax(backbone/τ)) (Hinton et al.), instead of its argmax. Applies to the losses that
        /// train each classifier alone: v0, the warm-up, and max-softmax exits.
        public var distillTemperature: Double?
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

    /// True when no exit has a learnt confidence (max-softmax exits): each classifier then
    /// learns alone (v0, or distillation), since the cumulative loss has no confidence to train.
    public var classifiersOnly: Bool { heads.allSatisfy { $0.confidence == nil } }

    /// For each exit of `graph`, the tensor its training reads from the feature cache: the
    /// classifier's input where the head before it has nothing to learn, else the attach tensor.
    public static func featureTensors(_ graph: VerifiedGraph) -> [String] {
        let index = graph.graph.nodeIndex()
        let backbone = graph.graph.backbone(index: index)
        return graph.graph.exits.map { exit in
            if let node = ExitHead.featureNode(graph, exit: exit) { return node }
            let members = graph.graph.ancestors(of: [exit.classifier, exit.confidence], index: index)
            let attach = graph.graph.nodes.indices.last { members[$0] && backbone[$0] }
            return attach.map { graph.graph.nodes[$0].name } ?? graph.graph.input.name
        }
    }

    /// `graph` has the exits; `weights` hold their initial tensors (seeded or from a file).
    /// `features` names the cached tensor of each exit (`featureTensors`; default: the attach tensors).
    public init(graph: VerifiedGraph, weights: [String: Tensor], costRates: [Double], learningRate: Double,
                features: [String]? = nil) throws(TrainingError) {
        var heads: [ExitHead] = []
        let index = graph.graph.nodeIndex()
        let backbone = graph.graph.backbone(index: index)
        for (e, exit) in graph.graph.exits.enumerated() {
            // A cached tensor inside the head means the head starts after it.
            let node = features.flatMap { e < $0.count ? $0[e] : nil }.flatMap { name in index[name].map { backbone[$0] ? nil : name } ?? nil }
            do {
                heads.append(try ExitHead(graph, exit: exit, weights: weights, featureNode: node))
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
            let loss = epoch <= options.warmupEpochs || classifiersOnly ? warmupLoss : mainLoss
            let distill = loss.version == .v0 ? options.distillTemperature : nil
            for b in 0..<batches {
                let samples = Array(order[(b * options.batchSize)..<min(n, (b + 1) * options.batchSize)])
                step(samples, data, loss, distill: distill, &stats)
                report(epoch, b + 1, batches, stats.summary(epoch: epoch))
            }
            history.append(stats.summary(epoch: epoch))
        }
        return history
    }

    /// Forward every head on one batch, the loss and its gradients, backward, Adam. The heads are
    /// independent but for the loss, so their forward and backward passes run on every core.
    mutating func step(_ samples: [Int], _ data: FeatureCache, _ loss: CumulativeLoss, distill: Double?, _ stats: inout Accumulator) {
        let exits = heads.count
        let outputs = SlotArray<(logits: Batch, confidence: Batch)>(count: exits)
        heads.withUnsafeMutableBufferPointer { buffer in
            let heads = SharedHeads(base: buffer.baseAddress)
            DispatchQueue.concurrentPerform(iterations: exits) { e in
                outputs[e] = heads[e].forward(data.batch(exit: e, samples: samples), training: true)
            }
        }
        let all = (0..<exits).map { outputs[$0] ?? (Batch(zeros: [samples.count, 1]), Batch(zeros: [samples.count, 1])) }
        var (_, dLogits, dConfidence) = ExitTrainer.objective(
            all, labels: samples.map { data.labels[$0] }, backbone: samples.map { data.backboneProbability[$0] }, loss: loss
        ) { result, h, probabilities, y in
            let agreeing = probabilities.map { argmax($0.map(Float.init)) == y }
            stats.add(result.loss, firstExit: h.firstIndex { $0 >= 0.5 } ?? exits, classifiersAgreeing: agreeing)
        }
        if let distill {
            dLogits = ExitTrainer.distillationGradients(all.map(\.logits), teacher: samples.map { data.backboneLogits[$0] }, temperature: distill)
        }
        optimizers.withUnsafeMutableBufferPointer { adams in
            heads.withUnsafeMutableBufferPointer { buffer in
                let heads = SharedHeads(base: buffer.baseAddress), optimizers = SharedAdams(base: adams.baseAddress)
                let (dLogits, dConfidence) = (dLogits, dConfidence)
                DispatchQueue.concurrentPerform(iterations: exits) { e in
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
        }
    }

    /// Gradients of the batch-mean distillation loss τ²·CE(softmax(z/τ), softmax(t/τ)) with respect
    /// to every exit's logits z: τ·(softmax(z/τ) − softmax(t/τ)) / batch.
    static func distillationGradients(_ logits: [Batch], teacher: [[Float]], temperature tau: Double) -> [Batch] {
        let count = teacher.count
        let targets = teacher.map { row in softmax(row.map { Float(Double($0) / tau) }) }
        return logits.map { batch in
            let classes = batch.shape[1]
            var grad = Batch(zeros: batch.shape)
            for j in 0..<count {
                let row = (0..<classes).map { Float(Double(batch.data[j * classes + $0]) / tau) }
                let p = softmax(row)
                for k in 0..<classes { grad.data[j * classes + k] = Float(tau * (p[k] - targets[j][k]) / Double(count)) }
            }
            return grad
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

/// Heads that workers update at distinct indices (valid only inside the buffer call that made it).
private struct SharedHeads: @unchecked Sendable {
    let base: UnsafeMutablePointer<ExitHead>?
    subscript(i: Int) -> ExitHead {
        get { base.unsafelyUnwrapped[i] }
        nonmutating _modify { yield &base.unsafelyUnwrapped[i] }
    }
}

/// Optimizers, likewise.
private struct SharedAdams: @unchecked Sendable {
    let base: UnsafeMutablePointer<Adam>?
    subscript(i: Int) -> Adam {
        get { base.unsafelyUnwrapped[i] }
        nonmutating _modify { yield &base.unsafelyUnwrapped[i] }
    }
}
