import Foundation
import Testing
import IR
import Passes
import Codegen
import Runtime

/// Exits whose confidence is `max_softmax_logit` of their own classifier, compiled to C and run
/// through the harness against the reference interpreter.
///
/// Tolerance: each confidence logit z within 1e-4 relative of the interpreter's, |z| below 1
/// counted as 1 (z = x_m − x_r − ln Σ: near z = 0 its error is the absolute rounding of the
/// classifier's logits, ~1e-6, not a fraction of z). NaN and the largest finite float (p = 1)
/// must match exactly.
struct MaxSoftmaxLogitCodegenTests {
    let temporary = TemporaryFolders()

    /// Two exits on a small conv net, each reading the max-softmax of its linear classifier.
    static let networkSource = """
        model msl
        input x: f32[1,3,8,8]
        c0 = conv2d(x, out=8, kernel=3, pad=1)
        b0 = batchnorm(c0)
        r0 = relu(b0)
        e0.pool = global_avg_pool(r0)
        e0.flat = flatten(e0.pool)
        e0.classifier = linear(e0.flat, out=10)
        e0.confidence = max_softmax_logit(e0.classifier)
        exit e0(classifier=e0.classifier, confidence=e0.confidence)
        c1 = conv2d(r0, out=16, kernel=3, stride=2, pad=1)
        r1 = relu(c1)
        e1.pool = global_avg_pool(r1)
        e1.flat = flatten(e1.pool)
        e1.classifier = linear(e1.flat, out=10)
        e1.confidence = max_softmax_logit(e1.classifier)
        exit e1(classifier=e1.classifier, confidence=e1.confidence)
        c2 = conv2d(r1, out=16, kernel=3, pad=1)
        r2 = relu(c2)
        p = global_avg_pool(r2)
        f = flatten(p)
        fc = linear(f, out=10)
        output fc

        """

    /// One exit whose classifier is a copy of the input's `classes` values, so a test sets the
    /// logits the kernel sees.
    static func copySource(classes: Int) -> String {
        """
        model msl\(classes)
        input x: f32[1,\(classes),1,1]
        f = flatten(x)
        k = flatten(f)
        h = max_softmax_logit(k)
        exit e(classifier=k, confidence=h)
        fc = linear(f, out=\(classes))
        output fc

        """
    }

    static func network(_ text: String) throws -> CompiledNetwork {
        let graph = try parseGraph(text, name: "msl.eeir")
        // Branches 0: the exits written in the text are kept.
        return try CompiledNetwork(graph, weights: WeightBinder.seeded(graph, seed: 5), branches: 0)
    }

    /// C's confidence logits against the interpreter's, at the tolerance above.
    func compare(_ network: CompiledNetwork, _ inputs: [Tensor], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let harness = try CHarness(CSource(try CProgram(network.compiled)), toolchain: try toolchain(), cacheRoot: testCache, flags: testFlags)
        let all = try harness.runAll(inputs)
        let interpreter = try network.interpreter()
        for (s, input) in inputs.enumerated() {
            let expected = interpreter.run(input).exits.map(\.confidence)
            #expect(all[s].confidenceLogits.count == expected.count, sourceLocation: sourceLocation)
            for (k, (c, z)) in zip(all[s].confidenceLogits, expected).enumerated() {
                let what = "sample \(s), exit \(k): C \(c), interpreter \(z)"
                if z.isNaN || abs(z) == .greatestFiniteMagnitude {
                    #expect(c.bitPattern == z.bitPattern || (c.isNaN && z.isNaN), "\(what)", sourceLocation: sourceLocation)
                } else {
                    #expect(abs(c - z) <= 1e-4 * max(1, abs(z)), "\(what)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    @Test(.needsCCompiler)
    func exitsOnAConvNet() throws {
        let network = try Self.network(Self.networkSource)
        #expect(network.compiled.graph.graph.exits.count == 2)
        let inputs = seededInputs([1, 3, 8, 8], count: 4)
        try compare(network, inputs)
        // Logits, confidences and the early-exit decisions at several thresholds, as for every network.
        try checkAgainstInterpreter(network, inputs: inputs, flags: testFlags)
    }

    /// Hand-picked logits: ties, large spreads, infinities and NaNs; the runtime's rule on them.
    @Test(.needsCCompiler)
    func edgeCases() throws {
        let rows: [[Float]] = [
            [0, 0, 0, 0],                             // z = −ln 3
            [Float(log(3.0)), 0, -1, 2],              // an ordinary row
            [1, 3, 3, 0],                             // a tie for the top
            [0, -200, -200, -200],                    // z = 200 − ln 3, though e^−200 is 0 in float32
            [1000, 0, 0, 0],                          // z = 1000 − ln 3
            [3e38, 0, 0, -3e38],                      // z = 3e38 − ln 2
            [3e38, -3e38, -3e38, -3e38],              // a spread past the float range: the largest float
            [0, -.infinity, -.infinity, -.infinity],  // the sum is exactly 0: the largest float
            [.infinity, 0, 0, 0],                     // p = 1: the largest float
            [0, .nan, 1, 2],                          // NaN
            [.infinity, .infinity, 0, 0],             // softmax undefined: NaN
        ]
        let network = try Self.network(Self.copySource(classes: 4))
        let inputs = rows.map { Tensor(shape: [1, 4, 1, 1], data: $0) }
        try compare(network, inputs)
        // At T = 1/2 (z ≥ 0): p = 1 exits, a NaN confidence never does, −ln 3 does not; the
        // ordinary row has p = e² / (3 + 1 + e⁻¹ + e²) = 0.63 and exits.
        let harness = try CHarness(CSource(try CProgram(network.compiled)), toolchain: try toolchain(), cacheRoot: testCache, flags: testFlags)
        let (answers, _) = try harness.run(inputs, thresholdLogits: [0])
        #expect(answers.map(\.exitIndex) == [1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1])
    }

    /// One class: p = 1 whatever the logit, NaN stays NaN.
    @Test(.needsCCompiler)
    func oneClass() throws {
        let network = try Self.network(Self.copySource(classes: 1))
        try compare(network, [5, -1e30, .nan].map { Tensor(shape: [1, 1, 1, 1], data: [$0]) })
    }

    /// The generated C of both networks: warning-free under the strict flags.
    @Test(.needsCCompiler)
    func strictBuild() throws {
        let tools = try toolchain()
        for text in [Self.networkSource, Self.copySource(classes: 4), Self.copySource(classes: 1)] {
            let source = CSource(try CProgram(try Self.network(text).compiled))
            let dir = try temporary.folder()
            try source.write(to: dir)
            for file in [source.sourceName, source.weightsName, "eec_runtime.c"] {
                try tools.compile(CToolchain.strictFlags + ["-O2", "-c", file], in: dir)
            }
            #expect(try String(contentsOfFile: (dir as NSString).appendingPathComponent(source.sourceName), encoding: .utf8).contains("k_max_softmax_logit_"))
        }
    }

    /// The kernels need no libm: built for the Cortex-M4, the model's code calls nothing but the
    /// runtime (eec_expf, eec_logf, the drivers) and the memory functions compilers may emit.
    @Test(.needsCCompiler, .needsLLVMNM, .needsCortexM4Target)
    func needsNoLibm() throws {
        let tools = try toolchain()
        let source = CSource(try CProgram(try Self.network(Self.networkSource).compiled))
        let dir = try temporary.folder()
        try source.write(to: dir)
        let object = try tools.compileCortexM4(source.sourceName, in: dir)
        let needed = Set(try tools.undefinedSymbols(ofObject: object))
            .filter { !["memcpy", "memset", "memmove"].contains($0) && !$0.hasPrefix("__aeabi_mem") }
        #expect(needed.contains("eec_logf"), "\(needed.sorted())")
        #expect(needed.allSatisfy { $0.hasPrefix("eec_") }, "\(needed.sorted())")
    }

    /// The libm-free eec_logf the kernel uses: within 3 float ulps of Foundation's log on floats
    /// spread over every exponent (subnormals included) and densely around 1, where z ≈ 0.
    @Test(.needsCCompiler)
    func logMatchesFoundation() throws {
        let tools = try toolchain()
        let dir = try temporary.folder()
        for (name, text) in try CRuntime.files() {
            try text.write(toFile: (dir as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try """
            #include <stdio.h>
            #include <string.h>
            #include "eec_runtime.h"

            static void show(float x)
            {
                printf("%a %a\\n", (double)x, (double)eec_logf(x));
            }

            int main(void)
            {
                uint32_t i;
                for (i = 0; i < 4000; ++i) {
                    const uint32_t bits = 1u + i * (0x7f7fffffu / 4000u);
                    float x;
                    memcpy(&x, &bits, sizeof x);
                    show(x);
                }
                for (i = 0; i <= 4000; ++i) show(1.0f + ((float)i - 2000.0f) * 0x1p-20f);
                return 0;
            }

            """.write(toFile: (dir as NSString).appendingPathComponent("main.c"), atomically: true, encoding: .utf8)
        try tools.compile(CToolchain.strictFlags + ["-O2", "-o", "main", "main.c", "eec_runtime.c"], in: dir)
        let result = try CToolchain.run((dir as NSString).appendingPathComponent("main"), [], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        var count = 0
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ").compactMap { Double($0) }
            guard fields.count == 2 else { Issue.record("unexpected line \(line)"); continue }
            let want = Foundation.log(fields[0])
            #expect(abs(fields[1] - want) <= 3 * Double(Float(want).ulp), "logf(\(fields[0])) = \(fields[1]), want \(want)")
            count += 1
        }
        #expect(count == 8001)
    }
}
