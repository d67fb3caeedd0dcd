import Foundation
import Testing
@testable import Training

@Suite("parallelChunks")
struct ParallelChunksTests {
    /// Counts that are not multiples of the chunk count once made the last chunks start past the
    /// end (`Range requires lowerBound <= upperBound`, seen as `eec train --samples 0:12`).
    @Test("Every index is visited exactly once", arguments: [0, 1, 7, 8, 9, 12, 44, 63, 300, 1001])
    func everyIndexOnce(count: Int) {
        let visits = SlotArray<Int>(count: count)
        parallelChunks(count) { range, _ in
            for i in range { visits[i] = (visits[i] ?? 0) + 1 }
        }
        for i in 0..<count { #expect(visits[i] == 1, "index \(i) of \(count)") }
    }
}
