import Foundation
import XCTest
import IR
import Passes
import Codegen

/// Swift against C on this machine, batch 1, one thread, in one run (the machine is shared:
/// figures from different runs do not compare). Opt-in, it takes minutes:
/// `EEC_BENCH_SWIFT=1 swift test --filter SwiftBenchmarkTests`.
final class SwiftBenchmarkTests: XCTestCase {
    func testSwiftAgainstC() throws {
        guard ProcessInfo.processInfo.environment["EEC_BENCH_SWIFT"] != nil else { throw XCTSkip("set EEC_BENCH_SWIFT=1 to run") }
        let swift = try SwiftHarness.findSwift()
        for name in ["resnet20", "resnet110"] {
            let network = try CompiledNetwork(name, branches: 0)
            let lowered = try LoweredProgram(network.compiled)
            let c = try CHarness(CSource(CProgram(lowered)), toolchain: try toolchain(), cacheRoot: testCache)
            let s = try SwiftHarness(SwiftSource(lowered), swift: swift, cacheRoot: testCache)
            let input = seededInputs(network.reference.graph.graph.input.shape, count: 1)[0]
            func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
            // Alternate rounds, so both see the same machine load.
            var cTimes: [Double] = [], sTimes: [Double] = []
            for _ in 0..<5 {
                cTimes += try c.bench(input, thresholdLogits: nil, repeats: 20)
                sTimes += try s.bench(input, thresholdLogits: nil, repeats: 20)
            }
            let (cm, sm) = (median(cTimes), median(sTimes))
            print(String(format: "%@: %d MACs, C %.0f µs, Swift %.0f µs, Swift speed %.2fx the C's (Swift build %.1f s)",
                         name, lowered.backboneMacs, cm / 1000, sm / 1000, cm / sm, s.buildSeconds))
        }
    }
}
