import Foundation
import Testing
import IR
import Passes
import Codegen

/// The generated files as C: warning-free under strict flags, built for a Cortex-M4 with no
/// allocator or libm symbol, byte-identical from run to run, clean under the sanitizers.
struct BuildTests {
    let temporary = TemporaryFolders()

    /// ResNet-20 with three exits and the every-op graph with two.
    func sources() throws -> [CSource] {
        let graph = try allOpsGraph()
        return [
            CSource(try CProgram(try CompiledNetwork("resnet20", branches: 3).compiled, thresholds: [0.9, 0.8, 0.7])),
            CSource(try CProgram(try CompiledNetwork(graph, weights: WeightBinder.seeded(graph), branches: 2).compiled)),
        ]
    }

    @Test(.needsCCompiler)
    func strictHostBuild() throws {
        let tools = try toolchain()
        for source in try sources() {
            let dir = try temporary.folder()
            try source.write(to: dir)
            for file in [source.sourceName, source.weightsName, "eec_runtime.c"] {
                try tools.compile(CToolchain.strictFlags + ["-O2", "-c", file], in: dir)
            }
        }
    }

    /// The header's ten-line example, as a program: strict flags, the compiled-in weights, the
    /// static arena option; it must answer like the harness.
    @Test(.needsCCompiler)
    func headerExampleRuns() throws {
        let tools = try toolchain()
        let source = try sources()[0]
        let dir = try temporary.folder()
        try source.write(to: dir)
        let p = source.program.prefix, m = p.uppercased()
        let example = source.exampleLines().joined(separator: "\n")
        let main = """
            #define \(m)_STATIC_ARENA
            \(example)

            int main(void)
            {
                static float image[\(m)_INPUT_SIZE];
                eec_result r;
                int i;
                for (i = 0; i < \(m)_INPUT_SIZE; ++i) image[i] = (float)(i % 17) / 8.0f - 1.0f;
                if (\(p)_run(\(p)_weights, image, \(p)_arena, \(p)_thresholds, NULL, &r) != EEC_OK) return 1;
                return classify(image) == r.class_index ? 0 : 2;
            }

            """
        try main.write(toFile: (dir as NSString).appendingPathComponent("main.c"), atomically: true, encoding: .utf8)
        try tools.compile(CToolchain.strictFlags + ["-O1", "-o", "example", "main.c", source.sourceName, source.weightsName, "eec_runtime.c"], in: dir)
        let result = try CToolchain.run((dir as NSString).appendingPathComponent("example"), [], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test(.needsCCompiler, .needsLLVMNM, .needsCortexM4Target)
    func cortexM4Build() throws {
        let tools = try toolchain()
        let nm = try #require(tools.tool("llvm-nm"))
        let forbidden: Set<String> = ["malloc", "calloc", "realloc", "free", "aligned_alloc", "posix_memalign",
                                      "exp", "expf", "log", "logf", "sqrt", "sqrtf", "pow", "powf", "floor", "floorf",
                                      "ceil", "ceilf", "fabs", "fabsf", "tanh", "tanhf", "printf", "fprintf", "puts"]
        for source in try sources() {
            let dir = try temporary.folder()
            try source.write(to: dir)
            var defined = Set<String>(), undefined = Set<String>()
            for file in [source.sourceName, source.weightsName, "eec_runtime.c"] {
                let object = try tools.compileCortexM4(file, in: dir)
                undefined.formUnion(try tools.undefinedSymbols(ofObject: object))
                let out = try CToolchain.run(nm, ["--defined-only", object], in: dir)
                defined.formUnion(out.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) })
                if file != source.weightsName { #expect(try tools.textBytes(ofObject: object) > 0, "\(file)") }
            }
            let external = undefined.subtracting(defined)
            #expect(external.isDisjoint(with: forbidden), "\(source.program.model) needs \(external.intersection(forbidden).sorted())")
            // At most the memory functions compilers may call even in freestanding code.
            let allowed = external.filter { !["memcpy", "memset", "memmove"].contains($0) && !$0.hasPrefix("__aeabi_mem") }
            #expect(allowed == [], "\(source.program.model) needs \(allowed.sorted())")
        }
    }

    /// Two compilations give the same bytes, and nothing machine-specific is written.
    @Test func deterministic() throws {
        let first = try sources(), second = try sources()
        for (a, b) in zip(first, second) {
            let filesA = try a.files(), filesB = try b.files()
            #expect(filesA.map(\.name) == filesB.map(\.name))
            for (x, y) in zip(filesA, filesB) {
                let same = x.bytes == y.bytes  // a Bool, so a failure does not print both files
                #expect(same, "\(x.name) differs between two compilations")
                let text = String(decoding: x.bytes, as: UTF8.self)
                for needle in [packageRoot.path, NSTemporaryDirectory(), "__DATE__", "__TIME__", "generated on", "version"] {
                    #expect(!text.contains(needle), "\(x.name) contains '\(needle)'")
                }
            }
        }
    }

    /// `<model>_weights.c` compiled in gives bit-identical results to the binary weights file.
    @Test(.needsCCompiler)
    func compiledWeightsMatchTheBinaryFile() throws {
        let tools = try toolchain()
        let network = try CompiledNetwork("resnet20a", branches: 3)
        let source = CSource(try CProgram(network.compiled))
        let inputs = seededInputs(network.compiled.graph.graph.input.shape, count: 2)
        let binary = try CHarness(source, toolchain: tools, cacheRoot: testCache, flags: testFlags).runAll(inputs)
        let compiled = try CHarness(source, toolchain: tools, cacheRoot: testCache, flags: testFlags, compiledWeights: true).runAll(inputs)
        for (a, b) in zip(binary, compiled) {
            #expect(a.logits == b.logits)
            #expect(a.confidenceLogits == b.confidenceLogits)
        }
    }

    /// The harness under AddressSanitizer and UndefinedBehaviorSanitizer, the arena filled with
    /// NaNs before every sample: no report, and still the interpreter's answers.
    @Test(.needsCCompiler, .needsSanitizers)
    func sanitizers() throws {
        let graph = try allOpsGraph()
        let networks = [try CompiledNetwork(graph, weights: WeightBinder.seeded(graph), branches: 2),
                        try CompiledNetwork("resnet20a", branches: 3)]
        for network in networks {
            try checkAgainstInterpreter(network, inputs: seededInputs(network.compiled.graph.graph.input.shape, count: 2), flags: sanitizerFlags)
        }
    }
}
