import Foundation
import IR

/// What training needs from the frozen backbone, computed once per sample: per exit, the tensor
/// its trainable layers read (they never change, since the backbone is frozen), the label
/// y = argmax of the backbone's output, the backbone's probability of that label (ŷ_N[y]) and
/// its logits (for distillation).
///
/// Which tensor: for a head whose layers before its classifier have no parameters (`pool`,
/// `sdn`), the classifier's input, a few hundred floats; otherwise the attach tensor, which may
/// be kept as float16 when float32 would not fit (`half`: half the memory; the heads still train
/// in float32 from it). See `ExitHead.featureNode`.
public struct FeatureCache: Sendable {
    /// One exit's tensors, every sample's one after the other.
    public enum Column: Sendable {
        case float32([Float])
        case float16([Float16])

        var bytesPerValue: Int {
            switch self {
            case .float32: return 4
            case .float16: return 2
            }
        }
    }

    public var columns: [Column]
    /// Per exit: the cached tensor's shape without the batch axis.
    public var featureShapes: [[Int]]
    public var labels: [Int]
    public var backboneProbability: [Double]
    public var backboneLogits: [[Float]]

    public var count: Int { labels.count }

    /// Every exit's cached values as float32 (for tests).
    public var features: [[Float]] {
        columns.map { column in
            switch column {
            case .float32(let values): return values
            case .float16(let values): return values.map(Float.init)
            }
        }
    }

    /// Whether a tensor of this shape is cached as float16 in a `half` cache: feature maps (rank
    /// 3 without the batch axis) are, vectors not (they are small, and their precision matters most).
    public static func storesHalf(_ shape: [Int], half: Bool) -> Bool { half && shape.count >= 3 }

    /// Bytes the cache takes for `samples` samples of tensors of these shapes (batch axis dropped).
    public static func bytes(shapes: [[Int]], samples: Int, half: Bool = false) -> Int {
        shapes.reduce(0) { $0.saturatingAdd(elementCount($1).saturatingMul(storesHalf($1, half: half) ? 2 : 4)) }.saturatingMul(samples)
    }

    /// Bytes the cache takes for `samples` samples of the attach tensors of `backbone`.
    public static func bytes(_ backbone: VerifiedGraph, attach: [String], samples: Int) -> Int {
        bytes(shapes: attach.map { Array(backbone.shape($0).dropFirst()) }, samples: samples)
    }

    /// An empty cache for `samples` samples, filled by `set` (from the generated C's dump).
    public init(shapes: [[Int]], samples: Int, classes: Int, half: Bool = false) {
        featureShapes = shapes
        columns = shapes.map { shape in
            let count = elementCount(shape) * samples
            return FeatureCache.storesHalf(shape, half: half) ? .float16([Float16](repeating: 0, count: count)) : .float32([Float](repeating: 0, count: count))
        }
        labels = [Int](repeating: 0, count: samples)
        backboneProbability = [Double](repeating: 0, count: samples)
        backboneLogits = [[Float]](repeating: [], count: samples)
    }

    /// Stores sample `n`: its tensor per exit (NCHW order, `featureShapes`) and the backbone's logits.
    public mutating func set(sample n: Int, features values: [[Float]], backboneLogits logits: [Float]) {
        for e in columns.indices {
            let size = elementCount(featureShapes[e])
            let range = (n * size)..<((n + 1) * size)
            switch columns[e] {
            case .float32(var data):
                columns[e] = .float32([])
                data.replaceSubrange(range, with: values[e])
                columns[e] = .float32(data)
            case .float16(var data):
                columns[e] = .float16([])
                data.replaceSubrange(range, with: values[e].map { Float16($0) })
                columns[e] = .float16(data)
            }
        }
        let y = argmax(logits)
        labels[n] = y
        backboneProbability[n] = softmax(logits)[y]
        backboneLogits[n] = logits
    }

    /// Runs `graph` (the reference interpreter, on every core) over `inputs`, keeping the tensors
    /// named `features` (one per exit; the graph may hold the exits or be the backbone alone).
    public init(graph: VerifiedGraph, weights: BoundWeights, features names: [String], inputs: [Tensor], half: Bool = false,
                progress: (Int) -> Void = { _ in }) {
        let interpreter = Interpreter(graph, weights: weights, keep: Set(names))
        self.init(shapes: names.map { Array(graph.shape($0).dropFirst()) }, samples: inputs.count, classes: graph.classes, half: half)
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
                set(sample: start + i, features: names.map { result.kept[$0]?.data ?? [] }, backboneLogits: result.logits.data)
            }
            progress(end)
        }
    }

    /// The attach tensors of `backbone` (the exits' whole heads are then trained).
    public init(backbone: VerifiedGraph, weights: BoundWeights, attach: [String], inputs: [Tensor],
                progress: (Int) -> Void = { _ in }) {
        self.init(graph: backbone, weights: weights, features: attach, inputs: inputs, progress: progress)
    }

    /// The cached tensors of `samples` for exit `e`, as a float32 batch.
    func batch(exit e: Int, samples: [Int]) -> Batch {
        let size = featureShapes[e].reduce(1, *)
        var data = [Float]()
        data.reserveCapacity(size * samples.count)
        switch columns[e] {
        case .float32(let values):
            for s in samples { data += values[(s * size)..<((s + 1) * size)] }
        case .float16(let values):
            for s in samples { data += values[(s * size)..<((s + 1) * size)].map(Float.init) }
        }
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
