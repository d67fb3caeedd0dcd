import Foundation
import IR
import Passes
import Codegen
import Quantize

enum BenchCOptions {
    static let runs = Option<Int>.int("--runs", in: 1...1_000_000, default: 200, help: "timed runs of each network, after 10 warm-up runs (not with --target)")
    static let target = Option<String?>.choice("--target", nil, [(DeviceBench.target, Optional(DeviceBench.target))], default: nil, defaultName: nil,
                                      help: "instead of timing on this host, count the instructions of each path on an emulated Cortex-M4F (QEMU)")
    static let branches = ExitOptions.branches.help("exits per network with --target", defaultText: "3")
    /// The exit options: only with --target (the host timing runs the backbone alone).
    static let exits: [any DeclaredOption] = [branches] + ExitOptions.all.dropFirst()
}

let benchCCommand = Command(
    name: "bench-c", summary: "time the generated C (latency, GFLOP/s, % of peak, Cortex-M4 code size)",
    positionals: .any("FILE"),
    options: [BenchCOptions.runs, seedOption, BenchCOptions.target] + BenchCOptions.exits,
    rules: [.conflict(BenchCOptions.runs, BenchCOptions.target, "--runs times the host build; --target counts instructions, which need one run")]
        + ExitOptions.rules
        + BenchCOptions.exits.map { .requires($0, BenchCOptions.target, "the host timing runs the backbone alone") },
    details: """
        Times the generated C at batch 1 on one thread (the backbone, no exits): compiles each
        FILE (default: examples/resnet20.eeir, resnet32.eeir and resnet110.eeir) with seeded
        weights and clang -O3 -march=native, runs one input N times (after 10 warm-up runs) and
        prints the median latency, the effective GFLOP/s (2 x backbone MACs / median time) and its
        share of this core's FP32 peak, measured in the same run by an FMA-throughput loop (best
        of 15 trials, before and after the networks). Also prints the Cortex-M4 .text bytes of
        the runtime and of each network's kernels (its weights are in another file). Builds are
        cached in .eec-cache/ under the current folder ($EEC_CACHE_DIR overrides).

        With --target cortex-m4, builds each FILE (default: examples/resnet20.eeir and
        resnet44a.eeir) with --branches exits as firmware for a Cortex-M4F, runs it in
        qemu-system-arm (mps2-an386) and prints the instructions of one inference per path: the
        backbone with every exit off, each exit taken, the final classifier after every head
        (QEMU -icount: deterministic, not cycles); then flash (.text, .rodata with the weights)
        and RAM (arena, other static data, the stack's high-water mark, measured by painting the
        stack).
        """
) { args, console in
    if args.has(BenchCOptions.target) { return try DeviceBench.run(args, &console) } // issue 13: DeviceBench.swift
    let runs = args[BenchCOptions.runs]
    let seed = args[seedOption]
    let files = args.positionals.isEmpty ? ["resnet20", "resnet32", "resnet110"].map { "examples/\($0).eeir" } : args.positionals
    let cache = try cacheRoot()
    do {
        let tools = try CToolchain.find()
        var peak = try tools.measurePeak(cacheRoot: cache)
        var table = TextTable(columns: ["network", "MACs", "median us", "GFLOP/s", "% of peak", "int8 us", "int8 speed", "M4 .text", "int8 M4 .text"],
                              rightAligned: [false, true, true, true, true, true, true, true, true])
        var rows: [(String, Int, Double, Double, Int, Int)] = []
        var runtimeText = 0
        for path in files {
            let (graph, model, input) = try benchNetwork(path, seed: seed, &console)
            let harness = try CHarness(CSource(try CProgram(model)), toolchain: tools, cacheRoot: cache)
            let int8 = try CHarness(CSource(try CProgram(try LoweredProgram(model, integer: try benchInt8(model, path: path)))),
                                    toolchain: tools, cacheRoot: cache)
            // float32 and int8 in turns, so both see the same load.
            var (times, int8Times): ([Double], [Double]) = ([], [])
            let rounds = min(5, runs)
            for r in 0..<rounds {
                let n = runs / rounds + (r < runs % rounds ? 1 : 0)
                times += try harness.bench(input, thresholdLogits: nil, repeats: n)
                int8Times += try int8.bench(input, thresholdLogits: nil, repeats: n)
            }
            let m4 = try tools.compileCortexM4(harness.source.sourceName, in: harness.directory)
            let int8M4 = try tools.compileCortexM4(int8.source.sourceName, in: int8.directory)
            if runtimeText == 0 { runtimeText = try tools.textBytes(ofObject: try tools.compileCortexM4("eec_runtime.c", in: harness.directory)) }
            rows.append((graph.graph.model, CostReport(graph, convention: .macs).total.macs, median(times), median(int8Times),
                         try tools.textBytes(ofObject: m4), try tools.textBytes(ofObject: int8M4)))
        }
        peak = max(peak, try tools.measurePeak(cacheRoot: cache))
        for (name, macs, ns, int8ns, text, int8Text) in rows {
            let gflops = 2 * Double(macs) / ns
            table.add([name, grouped(macs), String(format: "%.1f", ns / 1000), String(format: "%.1f", gflops),
                       String(format: "%.1f%%", 100 * gflops / peak), String(format: "%.1f", int8ns / 1000),
                       String(format: "%.2fx", ns / int8ns), grouped(text), grouped(int8Text)])
        }
        console.write(table.render())
        console.print("median of \(runs) runs at batch 1, one thread, float32 and int8 in turns; FP32 peak of this core: \(String(format: "%.1f", peak)) GFLOP/s (FMA loop)")
        console.print("int8: eec quantize's network (ranges from 8 seeded inputs); int8 speed = float32 time / int8 time")
        console.print("Cortex-M4 .text (clang -Os, thumbv7em hard-float): runtime \(grouped(runtimeText)) bytes; network kernels as above, weights apart")
    } catch let error as CodegenError {
        throw InputError(message: "eec bench-c: \(error)")
    } catch let error as PassError {
        throw InputError(message: "eec bench-c: \(error)")
    }
    return ExitStatus.ok
}

/// A benchmarked network: FILE with seeded weights, BatchNorm folded, ReLU fused, segmented
/// (no exits), and one seeded input in [-2, 2).
func benchNetwork(_ path: String, seed: UInt64, _ console: inout Console) throws -> (VerifiedGraph, Model, Tensor) {
    let graph = try loadGraph(path, &console)
    let model = try PassPipeline.afterExits
        .run(Model(graph: graph, weights: WeightBinder.seeded(graph, seed: seed)))
    var rng = SplitMix64(seed: 1)
    let input = Tensor(shape: graph.graph.input.shape, data: (0..<elementCount(graph.graph.input.shape)).map { _ in rng.uniform(-2, 2) })
    return (graph, model, input)
}

/// The int8 program of a benchmarked network: ranges from 8 seeded inputs in [-2, 2), in the generated C.
func benchInt8(_ model: Model, path: String) throws -> IntegerProgram {
    var rng = SplitMix64(seed: 2)
    let shape = model.graph.graph.input.shape
    let inputs = (0..<8).map { _ in Tensor(shape: shape, data: (0..<elementCount(shape)).map { _ in rng.uniform(-2, 2) }) }
    let bound = try bind(model.graph, model.weights, source: "seeded weights")
    return try QuantizedWeights.quantize(model, bound: bound, inputs: inputs, method: .minmax, backend: .c, path: path)
}

/// Where generated C and its builds are kept: `$EEC_CACHE_DIR`, else `.eec-cache` in the
/// current folder.
func cacheRoot() throws(InputError) -> String {
    let path = ProcessInfo.processInfo.environment["EEC_CACHE_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        ?? (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(".eec-cache")
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        throw InputError(message: "\(path): error: cannot create the build cache (\(error.localizedDescription))")
    }
    return path
}
