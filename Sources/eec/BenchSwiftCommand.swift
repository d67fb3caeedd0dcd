import Foundation
import IR
import Passes
import Codegen

enum BenchSwiftOptions {
    static let runs = Option<Int>.int("--runs", in: 1...1_000_000, default: 100, help: "timed runs of each network and language, in 5 alternating rounds")
}

let benchSwiftCommand = Command(
    name: "bench-swift", summary: "time the generated Swift beside the C (latency, GFLOP/s, speed ratio, code size)",
    positionals: .any("FILE"), options: [BenchSwiftOptions.runs, seedOption],
    details: """
        Times the generated Swift beside the generated C, in one run, at batch 1 on one thread (the
        backbone, no exits): lowers each FILE (default: examples/resnet20.eeir and resnet110.eeir)
        with seeded weights once, builds the C with clang -O3 -march=native and the Swift package
        with swift build -c release -Xswiftc -target-cpu -Xswiftc native -Xswiftc -DEEC_FMA (as
        eec run --backend swift does), and runs one input N times on each, in 5 alternating
        rounds (10 warm-up runs each) so both see the same machine load. Prints the median latency
        of each, their GFLOP/s (2 x backbone MACs / median time), the Swift's speed over the C's,
        and the Cortex-M4 .text of network kernels + runtime: the C with clang -Os for thumbv7em
        hard-float, the Swift as Embedded Swift for armv7em-none-none-eabi -Osize -no-allocations
        (weights apart in both). Builds are cached in .eec-cache/ under the current folder
        ($EEC_CACHE_DIR overrides).
        """
) { args, console in
    let runs = args[BenchSwiftOptions.runs]
    let seed = args[seedOption]
    let files = args.positionals.isEmpty ? ["resnet20", "resnet110"].map { "examples/\($0).eeir" } : args.positionals
    let cache = try cacheRoot()
    let rounds = 5, perRound = (runs + 4) / 5
    do {
        let tools = try CToolchain.find()
        let swift = try SwiftHarness.findSwift()
        let swiftc = SwiftEmbedded.swiftc(besides: swift)
        let work = (NSTemporaryDirectory() as NSString).appendingPathComponent("eec-bench-swift-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(atPath: work) }
        var table = TextTable(columns: ["network", "MACs", "C us", "Swift us", "C GFLOP/s", "Swift GFLOP/s", "Swift/C speed", "C M4 .text", "Swift M4 .text"],
                              rightAligned: [false] + Array(repeating: true, count: 8))
        var runtimes = (c: 0, swift: 0)
        for (n, path) in files.enumerated() {
            let (graph, model, input) = try benchNetwork(path, seed: seed, &console)
            let lowered = try LoweredProgram(model)
            let c = try CHarness(CSource(CProgram(lowered)), toolchain: tools, cacheRoot: cache)
            let s = try SwiftHarness(SwiftSource(lowered), swift: swift, cacheRoot: cache)
            var cTimes: [Double] = [], sTimes: [Double] = []
            for _ in 0..<rounds {
                cTimes += try c.bench(input, thresholdLogits: nil, repeats: perRound)
                sTimes += try s.bench(input, thresholdLogits: nil, repeats: perRound)
            }
            // Code size: network kernels + runtime, weights apart, for both.
            if runtimes.c == 0 { runtimes.c = try tools.textBytes(ofObject: try tools.compileCortexM4("eec_runtime.c", in: c.directory)) }
            let cText = try tools.textBytes(ofObject: try tools.compileCortexM4(c.source.sourceName, in: c.directory)) + runtimes.c
            let folder = (work as NSString).appendingPathComponent(String(n))
            let swiftObject = try SwiftEmbedded.compile(s.source, files: ["\(s.source.program.typeName).swift", "Runtime.swift"], swiftc: swiftc, in: folder)
            if runtimes.swift == 0 {
                runtimes.swift = try tools.textBytes(ofObject: try SwiftEmbedded.compile(s.source, files: ["Runtime.swift"], swiftc: swiftc, in: folder + "-runtime"))
            }
            let (cm, sm) = (median(cTimes), median(sTimes))
            let macs = lowered.backboneMacs
            table.add([graph.graph.model, grouped(macs), String(format: "%.1f", cm / 1000), String(format: "%.1f", sm / 1000),
                       String(format: "%.1f", 2 * Double(macs) / cm), String(format: "%.1f", 2 * Double(macs) / sm),
                       String(format: "%.2fx", cm / sm), grouped(cText), grouped(try tools.textBytes(ofObject: swiftObject))])
        }
        console.write(table.render())
        console.print("median of \(rounds * perRound) runs each at batch 1, one thread, C and Swift alternating in \(rounds) rounds; Swift/C speed = C time / Swift time")
        console.print("Cortex-M4 .text of network kernels + runtime, weights apart: C clang -Os thumbv7em hard-float (runtime \(grouped(runtimes.c)) bytes); Swift Embedded armv7em -Osize -no-allocations (runtime alone \(grouped(runtimes.swift)) bytes)")
    } catch let error as CodegenError {
        throw InputError(message: "eec bench-swift: \(error)")
    } catch let error as PassError {
        throw InputError(message: "eec bench-swift: \(error)")
    }
    return ExitStatus.ok
}
