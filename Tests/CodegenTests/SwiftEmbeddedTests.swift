import Foundation
import Testing
import IR
import Passes
import Codegen

/// The generated Swift builds as Embedded Swift for a Cortex-M4 (armv7em) with -no-allocations:
/// no heap, no Foundation, no libm; its code size is printed beside the C's.
struct SwiftEmbeddedTests {
    let temporary = TemporaryFolders()

    @Test(.needsSwift, .needsCCompiler)
    func resNet20WithThreeExitsBuildsForArmv7em() throws {
        let swift = try swiftExecutable()
        let tools = try toolchain()
        let network = try CompiledNetwork("resnet20", branches: 3)
        let lowered = try LoweredProgram(network.compiled)
        let source = SwiftSource(lowered)
        let folder = try temporary.folder()
        let swiftc = SwiftEmbedded.swiftc(besides: swift)
        let model = "\(source.program.typeName).swift"
        let code = try SwiftEmbedded.compile(source, files: [model, "Runtime.swift"], swiftc: swiftc, in: folder)
        let runtime = try SwiftEmbedded.compile(source, files: ["Runtime.swift"], swiftc: swiftc, in: folder + "/runtime")
        let text = try tools.textBytes(ofObject: code), runtimeText = try tools.textBytes(ofObject: runtime)
        #expect(text > 0)
        // Nothing from a heap or libm: only memset/memcpy-like helpers may be called.
        let undefined = try tools.undefinedSymbols(ofObject: code)
        for symbol in undefined {
            #expect(!["malloc", "free", "swift_allocObject", "posix_memalign", "expf", "logf", "fmaf"].contains(symbol), "needs \(symbol)")
        }
        // The weights build too (their strings go to .rodata).
        _ = try SwiftEmbedded.compile(source, files: [model, "Runtime.swift", "Weights.swift"], swiftc: swiftc, in: folder + "/all")
        #expect(text < 20_000, "the compact tiles keep the code near the C's 10.7 KB")
        print("resnet20, 3 exits, Embedded Swift armv7em -Osize: .text \(text) B (runtime alone \(runtimeText) B); undefined: \(undefined.joined(separator: " "))")
    }

    /// The compact convolution tiles Embedded Swift builds (host build with -DEEC_COMPACT)
    /// against the reference interpreter.
    @Test(.needsSwift)
    func compactTilesMatchTheInterpreter() throws {
        let swift = try swiftExecutable()
        let network = try CompiledNetwork("resnet20", branches: 3)
        let harness = try SwiftHarness(SwiftSource(try LoweredProgram(network.compiled)), swift: swift, cacheRoot: testCache,
                                       flags: SwiftHarness.releaseFlags + ["-Xswiftc", "-DEEC_COMPACT"])
        let inputs = seededInputs(network.reference.graph.graph.input.shape, count: 2)
        let all = try harness.runAll(inputs)
        let interpreter = try network.interpreter()
        for (s, input) in inputs.enumerated() {
            let reference = interpreter.run(input)
            for (k, logits) in (reference.exits.map(\.logits.data) + [reference.logits.data]).enumerated() {
                let scale = max(Float.leastNormalMagnitude, logits.map { abs($0) }.max() ?? 0)
                let error = zip(logits, all[s].logits[k]).map { abs($0 - $1) }.max() ?? .infinity
                #expect(error / scale <= 1e-4, "sample \(s), classifier \(k)")
            }
        }
    }
}
