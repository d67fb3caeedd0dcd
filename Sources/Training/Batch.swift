import Foundation

/// A batch of NCHW (or [N, features]) activations in one flat float32 array.
public struct Batch: Sendable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(data.count == shape.reduce(1, *), "\(data.count) values for shape \(shape)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public var count: Int { shape[0] }
    /// Values per sample.
    public var stride: Int { shape.dropFirst().reduce(1, *) }
}

/// Runs `body` over `0..<count` split into a fixed number of contiguous chunks, on as many
/// threads as the machine has. Reductions keep one partial result per chunk and combine them in
/// chunk order, so results are identical bit for bit on every machine and every run.
func parallelChunks(_ count: Int, _ body: @Sendable (_ range: Range<Int>, _ chunk: Int) -> Void) {
    let chunks = chunkCount(count)
    let size = (count + chunks - 1) / max(1, chunks)
    DispatchQueue.concurrentPerform(iterations: chunks) { k in
        // With count not a multiple of the chunk count the last chunks may start past the end
        // (12 items in 8 chunks of 2): clamp both bounds, so they come out empty.
        let range = min(count, k * size)..<min(count, (k + 1) * size)
        if !range.isEmpty { body(range, k) }
    }
}

/// The number of chunks `parallelChunks` uses for `count` items (at most 8).
func chunkCount(_ count: Int) -> Int { max(1, min(8, count)) }

/// A raw view of an array that workers write at disjoint indices. Valid only inside the
/// `withUnsafeMutableBufferPointer` call that made it.
struct SharedPointer: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    subscript(i: Int) -> Float {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}

/// Runs `body` with a shareable pointer to `array`'s storage.
func withShared<R>(_ array: inout [Float], _ body: (SharedPointer) -> R) -> R {
    if array.isEmpty { return body(SharedPointer(base: placeholder)) }
    return array.withUnsafeMutableBufferPointer { buffer in body(SharedPointer(base: buffer.baseAddress ?? placeholder)) }
}

/// A read-only shareable view.
struct SharedInput: @unchecked Sendable {
    let base: UnsafePointer<Float>
    subscript(i: Int) -> Float { base[i] }
}

func withShared<R>(_ array: [Float], _ body: (SharedInput) -> R) -> R {
    if array.isEmpty { return body(SharedInput(base: UnsafePointer(placeholder))) }
    return array.withUnsafeBufferPointer { buffer in body(SharedInput(base: buffer.baseAddress ?? UnsafePointer(placeholder))) }
}

/// Stands in for the storage of an empty array (never read or written).
nonisolated(unsafe) private let placeholder = UnsafeMutablePointer<Float>.allocate(capacity: 1)
