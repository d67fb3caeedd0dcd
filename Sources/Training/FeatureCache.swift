import Foundation
import IR

/// What training needs from the frozen backbone, computed once per sample: the tensors at the
/// exits' attach points (they never change, since the backbone is frozen), the label y = argmax
/// of the backbone's output, and the backbone's probability of that label (ŷ_N[y]).
public struct FeatureCache: Sendable {
    /// Per exit: every sample's attach tensor, one after the other.
    public var features: [[Float]]
    /// Per exit: the attach tensor's shape without the batch axis.
    public var featureShapes: [[Int]]
    public var labels: [Int]
    public var backboneProbability: [Double]
    public var backboneLogits: [[Float]]

    public var count: Int { labels.count }

    /// Bytes the cache takes for `samples` samples.
    public static func bytes(_ backbone: VerifiedGraph, attach: [String], samples: Int) -> Int {
        attach.reduce(0) { $0 + elementCount(backbone.shape($1)) } * 4 * samples
    }

    /// Runs the backbone (the reference interpreter, on every core) over `inputs`.
    public init(backbone: VerifiedGraph, weights: BoundWeights, attach: [String], inputs: [Tensor],
                progress: (Int) -> Void = { _ in }) {
        let interpreter = Interpreter(backbone, weights: weights, keep: Set(attach))
        let shapes = attach.map { Array(backbone.shape($0).dropFirst()) }
        let sizes = shapes.map { $0.reduce(1, *) }
        let classes = backbone.classes
        var features = sizes.map { [Float](repeating: 0, count: $0 * inputs.count) }
        var logits = [Float](repeating: 0, count: classes * inputs.count)
        // Chunks of 32 samples keep progress reports coming; each sample writes its own slots.
        let block = 32
        for start in stride(from: 0, to: inputs.count, by: block) {
            let end = min(inputs.count, start + block)
            let results = SlotArray<Interpreter.Result>(count: end - start)
            parallelChunks(end - start) { range, _ in
                for i in range { results[i] = interpreter.run(inputs[start + i]) }
            }
            for i in 0..<(end - start) {
                guard let result = results[i] else { continue }
                for (e, name) in attach.enumerated() {
                    let data = result.kept[name]?.data ?? []
                    features[e].replaceSubrange(((start + i) * sizes[e])..<((start + i + 1) * sizes[e]), with: data)
                }
                logits.replaceSubrange(((start + i) * classes)..<((start + i + 1) * classes), with: result.logits.data)
            }
            progress(end)
        }
        self.features = features
        self.featureShapes = shapes
        var labels: [Int] = [], probability: [Double] = [], rows: [[Float]] = []
        for n in 0..<inputs.count {
            let row = Array(logits[(n * classes)..<((n + 1) * classes)])
            let y = argmax(row)
            labels.append(y)
            probability.append(softmax(row)[y])
            rows.append(row)
        }
        self.labels = labels
        self.backboneProbability = probability
        self.backboneLogits = rows
    }

    /// The attach tensors of `samples` for exit `e`, as a batch.
    func batch(exit e: Int, samples: [Int]) -> Batch {
        let size = featureShapes[e].reduce(1, *)
        var data = [Float]()
        data.reserveCapacity(size * samples.count)
        for s in samples { data += features[e][(s * size)..<((s + 1) * size)] }
        return Batch(shape: [samples.count] + featureShapes[e], data: data)
    }
}

/// Fixed slots that workers fill at distinct indices.
final class SlotArray<T>: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<T?>
    let count: Int

    init(count: Int) {
        self.count = count
        storage = .allocate(capacity: max(1, count))
        storage.initialize(repeating: nil, count: max(1, count))
    }

    deinit {
        storage.deinitialize(count: max(1, count))
        storage.deallocate()
    }

    subscript(i: Int) -> T? {
        get { storage[i] }
        set { storage[i] = newValue }
    }
}

/// Index of the largest value (the first on ties, as torch.argmax).
public func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}

/// Softmax in float64, max subtracted first.
public func softmax(_ logits: [Float]) -> [Double] {
    let top = Double(logits.max() ?? 0)
    let e = logits.map { exp(Double($0) - top) }
    let sum = e.reduce(0, +)
    return e.map { $0 / sum }
}
