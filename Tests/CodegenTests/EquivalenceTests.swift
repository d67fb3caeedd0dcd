import XCTest
import IR
import Passes
import Codegen
import Runtime

/// The C backend against the reference interpreter: logits at every exit within 1e-4 of the
/// largest |logit|, and the same exit decisions except within 1e-5 of a threshold.
final class EquivalenceTests: XCTestCase {
    func testResNet20ThreeExits() throws {
        try check(try CompiledNetwork("resnet20", branches: 3), samples: 2)
    }

    func check(_ network: CompiledNetwork, samples: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let tools = try toolchain()
        let program = try CProgram(network.compiled)
        let start = Date()
        let harness = try CHarness(CSource(program), toolchain: tools, cacheRoot: testCache, flags: testFlags)
        let built = Date()
        let inputs = seededInputs(network.reference.graph.graph.input.shape, count: samples)
        let all = try harness.runAll(inputs)
        let ran = Date()
        let interpreter = try network.interpreter()
        for (s, input) in inputs.enumerated() {
            let expected = interpreter.run(input)
            let expectedLogits = expected.exits.map(\.logits.data) + [expected.logits.data]
            for (k, logits) in expectedLogits.enumerated() {
                let scale = max(1e-6, logits.map { abs($0) }.max() ?? 0)
                XCTAssertEqual(logits.count, all[s].logits[k].count, file: file, line: line)
                let error = zip(logits, all[s].logits[k]).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(error / scale, 1e-4, "sample \(s) exit \(k): error \(error), scale \(scale)", file: file, line: line)
            }
            for (k, exit) in expected.exits.enumerated() {
                let scale = max(1e-6, abs(exit.confidence))
                XCTAssertLessThanOrEqual(abs(exit.confidence - all[s].confidenceLogits[k]) / max(scale, 1), 1e-4, "sample \(s) confidence \(k)", file: file, line: line)
            }
        }
        print("\(program.model): built in \(String(format: "%.1f", built.timeIntervalSince(start))) s, ran in \(String(format: "%.2f", ran.timeIntervalSince(built))) s, interpreter \(String(format: "%.1f", Date().timeIntervalSince(ran))) s")
    }
}
