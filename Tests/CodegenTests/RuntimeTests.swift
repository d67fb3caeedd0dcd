import Foundation
import Testing
import IR
import Passes
import Codegen
import Runtime

/// The C runtime on its own: the libm-free exponential and threshold logit against Foundation's,
/// and the status codes of the entry points.
@Suite(.needsCCompiler)
struct RuntimeTests {
    let temporary = TemporaryFolders()

    /// Compiles `main` with the runtime (and `extra` sources) in `dir` and returns its output.
    func run(_ main: String, in dir: String, extra: [String] = []) throws -> String {
        let tools = try toolchain()
        for (name, text) in try CRuntime.files() {
            try text.write(toFile: (dir as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try main.write(toFile: (dir as NSString).appendingPathComponent("main.c"), atomically: true, encoding: .utf8)
        try tools.compile(CToolchain.strictFlags + ["-O2", "-o", "main", "main.c", "eec_runtime.c"] + extra, in: dir)
        let result = try CToolchain.run((dir as NSString).appendingPathComponent("main"), [], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    @Test func expAndThresholdLogitMatchLibm() throws {
        let dir = try temporary.folder()
        let out = try run("""
            #include <stdio.h>
            #include "eec_runtime.h"

            int main(void)
            {
                int i;
                for (i = -1100; i <= 1000; ++i) {
                    float x = (float)i * 0.0937f;
                    printf("e %a %a\\n", (double)x, (double)eec_expf(x));
                }
                for (i = 1; i < 2000; ++i) {
                    float t = (float)i / 2000.0f;
                    printf("l %a %a\\n", (double)t, (double)eec_threshold_logit(t));
                }
                printf("l %a %a\\n", 1e-30, (double)eec_threshold_logit(1e-30f));
                printf("l %a %a\\n", 1e-42, (double)eec_threshold_logit(1e-42f));
                printf("z %a %a %a\\n", (double)eec_threshold_logit(0.0f), (double)eec_threshold_logit(1.0f), (double)eec_expf(-200.0f));
                return 0;
            }

            """, in: dir)
        var exps = 0, logits = 0
        for line in out.split(separator: "\n") {
            let f = line.split(separator: " ")
            switch f.first {
            case "e":
                let x = Double(f[1])!, y = Double(f[2])!
                let want = Foundation.exp(x)
                if Float(want).isInfinite {
                    #expect(y == .infinity, "expf(\(x)) overflows")
                } else {
                    // Within 3 float ulps where the result is normal; tiny results absolutely.
                    #expect(abs(y - want) <= max(want * 3 * 0x1p-24, 0x1p-148), "expf(\(x)) = \(y), want \(want)")
                }
                exps += 1
            case "l":
                let t = Double(f[1])!, y = Double(f[2])!
                let want = Foundation.log(Double(Float(t) / (1 - Float(t))))
                #expect(abs(y - want) <= 4e-7 * max(1, abs(want)), "logit(\(t)) = \(y), want \(want)")
                logits += 1
            case "z":
                #expect(Float(Double(f[1])!) == -Float.greatestFiniteMagnitude)
                #expect(Float(Double(f[2])!) == Float.greatestFiniteMagnitude)
                #expect(Double(f[3])! == 0)
            default:
                Issue.record("unexpected line \(line)")
            }
        }
        #expect(exps == 2101)
        #expect(logits == 2001)
    }

    /// NULL pointers and a misaligned arena are refused before anything runs.
    @Test func statusCodes() throws {
        let dir = try temporary.folder()
        let source = CSource(try CProgram(try CompiledNetwork("resnet20", branches: 1).compiled))
        try source.write(to: dir)
        let p = source.program.prefix, m = p.uppercased()
        let out = try run("""
            #include <stdio.h>
            #include <stdlib.h>
            #include "\(p).h"

            int main(void)
            {
                static float input[\(m)_INPUT_SIZE], logits[(\(m)_EXITS + 1) * \(m)_CLASSES], confidences[\(m)_EXITS];
                float *arena = (float *)malloc(\(m)_ARENA_BYTES + 4);
                eec_result r;
                printf("%d %d %d %d %d %d %d\\n",
                       \(p)_run(\(p)_weights, input, NULL, \(p)_thresholds, NULL, &r),
                       \(p)_run(\(p)_weights, input, arena, NULL, NULL, &r),
                       \(p)_run(NULL, input, arena, \(p)_thresholds, NULL, &r),
                       \(p)_run(\(p)_weights, input, (char *)arena + 1, \(p)_thresholds, NULL, &r),
                       \(p)_run_all(\(p)_weights, input, arena, logits, NULL),
                       \(p)_run(\(p)_weights, input, arena + 1, \(p)_thresholds, NULL, &r),
                       \(p)_run_all(\(p)_weights, input, arena, logits, confidences));
                free(arena);
                return 0;
            }

            """, in: dir, extra: [source.sourceName, source.weightsName])
        #expect(out == "1 1 1 2 1 0 0\n")
    }
}
