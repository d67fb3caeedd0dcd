import Foundation
import Testing
import IR
@testable import eec

/// `eec quantize`, then `compile` and `run` with the int8 file.
struct CLIQuantizeTests {
    /// Seeded images [N,3,32,32] in [-2, 2), as float32 .npy.
    static func images(_ dir: CLITempDir, count: Int, seed: UInt64) throws -> String {
        var rng = SplitMix64(seed: seed)
        let t = Tensor(shape: [count, 3, 32, 32], data: (0..<(count * 3072)).map { _ in rng.uniform(-2, 2) })
        let path = dir.url.appendingPathComponent("x\(seed).npy").path
        try NPYArray(t).write(to: path)
        return path
    }

    @Test(.enabled(if: CLICBackendTests.hasCompiler, "needs clang (or $CC)"))
    func quantizeCompileAndRunAgree() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let calibration = try Self.images(dir, count: 8, seed: 1), test = try Self.images(dir, count: 6, seed: 2)
        let q = dir.url.appendingPathComponent("q.safetensors").path
        let made = CLI.run("quantize", CLI.example("resnet20"), "--branches", "2", "--exit-block", "pool", "--confidence", "softmax",
                           "--data", calibration, "-o", q)
        #expect(made.status == 0, "\(made.transcript)")
        #expect(made.out.contains("24 layers quantized, 2 exits"), "\(made.transcript)") // 22 backbone layers, 2 exit classifiers

        // The C and the int8 interpreter: the same exits and the same logits, bit for bit.
        var outputs: [String: [UInt8]] = [:]
        for backend in ["c", "interp"] {
            let logits = dir.url.appendingPathComponent("y-\(backend).npy").path, exits = dir.url.appendingPathComponent("e-\(backend).npy").path
            let r = CLI.run("run", CLI.example("resnet20"), "--weights", q, "--input", test, "--backend", backend, "--threshold", "0.6",
                            "--output", logits, "--exits", exits)
            #expect(r.status == 0, "\(r.transcript)")
            outputs[backend] = Array(try Data(contentsOf: URL(fileURLWithPath: logits))) + Array(try Data(contentsOf: URL(fileURLWithPath: exits)))
        }
        #expect(outputs["c"] == outputs["interp"] && outputs["c"]?.isEmpty == false)

        let out = dir.url.appendingPathComponent("c").path
        let compiled = CLI.run("compile", CLI.example("resnet20"), "--weights", q, "--emit", "c", "-o", out)
        #expect(compiled.status == 0, "\(compiled.transcript)")
        let weights = try String(contentsOfFile: out + "/resnet20_weights.c", encoding: .utf8)
        #expect(weights.contains("const int8_t resnet20_weights[RESNET20_WEIGHT_COUNT]"))
        let swift = CLI.run("compile", CLI.example("resnet20"), "--weights", q, "--emit", "swift", "-o", dir.url.appendingPathComponent("s").path)
        #expect(swift.status == 1 && swift.err.contains("compiles to C only"), "\(swift.transcript)")
    }

    @Test func badUsage() throws {
        let noOut = CLI.run("quantize", CLI.example("resnet20"), "--data", "x.npy")
        #expect(noOut.status == 2 && noOut.err.contains("-o"), "\(noOut.transcript)")
        let ranges = CLI.run("quantize", CLI.example("resnet20"), "--data", "x.npy", "-o", "q", "--ranges", "best")
        #expect(ranges.status == 2 && ranges.err.contains("minmax, percentile, mse"), "\(ranges.transcript)")
    }
}
