import Foundation
import IR
import Testing
@testable import eec

/// A NaN or infinite input is reported, and its answer is "no class", not a silent class 0: in the
/// interpreter, and in the generated C (whose runtime returns EEC_NO_CLASS for NaN logits).
@Suite struct CLINonFiniteTests {
    static func inputs(_ dir: CLITempDir) throws -> String {
        var values = [Float](repeating: 0.25, count: 3 * 3 * 32 * 32)
        values[5] = .nan                     // sample 0
        values[2 * 3 * 1024 + 7] = .infinity // sample 2
        let path = dir.path("x.npy")
        try NPYArray(shape: [3, 3, 32, 32], storage: .float32(values)).write(to: path)
        return path
    }

    @Test func interpreterReportsNoClass() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let r = CLI.run(["run", CLI.example("resnet20"), "--input", try Self.inputs(dir)])
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.err.contains("2 of 3 samples hold NaN or infinite values (samples 0, 2)"), "\(r.transcript)")
        #expect(r.out.contains("0: no class (NaN logits"), "\(r.transcript)")
        #expect(r.out.contains("1: class "), "\(r.transcript)")
    }

    /// The Swift runtime follows the C's rule (eecNoClass).
    @Test func generatedSwiftReportsNoClass() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        _ = CLICBackendTests.cache
        let r = CLI.run(["run", CLI.example("resnet20"), "--input", try Self.inputs(dir), "--backend", "swift", "--branches", "2"])
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.out.contains("0: no class (NaN logits"), "\(r.transcript)")
        #expect(r.out.contains("1: class "), "\(r.transcript)")
    }

    @Test(.enabled(if: CLICBackendTests.hasCompiler, "needs clang (or $CC)"))
    func generatedCReportsNoClass() throws {
        _ = CLICBackendTests.cache
        let dir = try CLITempDir()
        defer { dir.remove() }
        let r = CLI.run(["run", CLI.example("resnet20"), "--input", try Self.inputs(dir), "--backend", "c", "--branches", "2", "--json"])
        #expect(r.status == 0, "\(r.transcript)")
        let json = try CLI.jsonObject(r.out)
        #expect(json["non_finite_samples"] as? Int == 2)
        let out = CLI.run(["run", CLI.example("resnet20"), "--input", try Self.inputs(dir), "--backend", "c", "--branches", "2"])
        #expect(out.out.contains("0: no class (NaN logits"), "\(out.transcript)")
        #expect(out.out.contains("2: no class (NaN logits"), "\(out.transcript)")
        #expect(out.out.contains("1: class "), "\(out.transcript)")
    }
}

@Suite struct CLIVersionTests {
    @Test func versionIsPrinted() {
        for flag in ["--version", "version"] {
            let r = CLI.run([flag])
            #expect(r.status == 0 && r.out == Driver.version + "\n", "\(r.transcript)")
        }
        #expect(CLI.run(["--help"]).out.contains("eec --version"))
    }
}
