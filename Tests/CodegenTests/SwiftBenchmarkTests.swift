import Foundation
import Testing
import IR
import Passes
import Codegen

/// Swift against C on this machine, batch 1, one thread, in one run (the machine is shared:
/// figures from different runs do not compare). Opt-in, it takes minutes:
/// `EEC_BENCH_SWIFT=1 swift test --filter SwiftBenchmarkTests`.
struct SwiftBenchmarkTests {
    @Test(.optIn("EEC_BENCH_SWIFT"), .needsCCompiler)
    func swiftAgainstC() throws {
        let swift = try SwiftHarness.findSwift()
        for name in ["resnet20", "resnet110"] {
            let network = try CompiledNetwork(name, branches: 0)
            let lowered = try LoweredProgram(network.compiled)
            let c = try CHarness(CSource(CProgram(lowered)), toolchain: try toolchain(), cacheRoot: testCache)
            let s = try SwiftHarness(SwiftSource(lowered), swift: swift, cacheRoot: testCache)
            // As a client's plain `swift build -c release` builds it: baseline x86-64, no FMA unit assumed.
            let plain = try SwiftHarness(SwiftSource(lowered), swift: swift, cacheRoot: testCache, flags: [])
            let input = seededInputs(network.reference.graph.graph.input.shape, count: 1)[0]
            func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
            // Alternate rounds, so both see the same machine load.
            var cTimes: [Double] = [], sTimes: [Double] = [], pTimes: [Double] = []
            for _ in 0..<5 {
                cTimes += try c.bench(input, thresholdLogits: nil, repeats: 20)
                sTimes += try s.bench(input, thresholdLogits: nil, repeats: 20)
                pTimes += try plain.bench(input, thresholdLogits: nil, repeats: 4)
            }
            let (cm, sm, pm) = (median(cTimes), median(sTimes), median(pTimes))
            print(String(format: "%@: %d MACs, C %.0f µs, Swift %.0f µs, Swift speed %.2fx the C's (Swift build %.1f s); without -target-cpu native %.0f µs, %.2fx",
                         name, lowered.backboneMacs, cm / 1000, sm / 1000, cm / sm, s.buildSeconds, pm / 1000, cm / pm))
        }
    }
}
