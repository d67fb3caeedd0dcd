import IR
import Testing
@testable import Passes

/// `MemoryPlan(_:keepUntil:)`: chosen tensors live longer, everything else as before.
struct MemoryPlanKeepTests {
    /// Keeping `a` (1–2) and `e.pool` (4–5) of the hand-checked plan until steps 3 and 7 moves
    /// them apart from what would reuse their memory; the plan stays valid.
    @Test func keptTensorsLiveUntilTheirStep() throws {
        let g = try parse(MemoryPlanTests.tiny)
        let plan = MemoryPlan(g, keepUntil: ["a": 3, "e.pool": 7, "not-a-tensor": 5])
        MemoryPlanTests.check(plan, g)
        let buffers = Dictionary(uniqueKeysWithValues: plan.buffers.map { ($0.name, $0) })
        #expect(buffers["a"]?.lastStep == 3)
        #expect(buffers["e.pool"]?.lastStep == 7)
        // Ranges already longer are not shortened; the output keeps the last step.
        let longer = MemoryPlan(g, keepUntil: ["c": 4, "fc": 2])
        #expect(MemoryPlanTests.same(longer, MemoryPlan(g)))
    }

    /// No keepUntil is the default plan, on every example.
    @Test(arguments: CompiledExamples.names)
    func emptyIsTheDefault(_ name: String) throws {
        let g = try CompiledExamples.compile(name, branches: 3).graph
        #expect(MemoryPlanTests.same(MemoryPlan(g, keepUntil: [:]), MemoryPlan(g)))
    }
}
