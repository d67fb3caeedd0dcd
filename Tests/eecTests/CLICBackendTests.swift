import Foundation
import Testing
import IR
@testable import eec

/// `eec compile --emit c`, `eec run --backend c` and `eec bench-c` from the command line.
@Suite struct CLICBackendTests {
    /// Builds go to one temporary cache for the whole test process, not to the package's .eec-cache.
    static let cache: Bool = {
        setenv("EEC_CACHE_DIR", cachePath, 1)
        atexit { try? FileManager.default.removeItem(atPath: cachePath) }
        return true
    }()

    static let cachePath = FileManager.default.temporaryDirectory.appendingPathComponent("eecTests-cache-\(getpid())").path

    static var hasCompiler: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/clang")
        } || ProcessInfo.processInfo.environment["CC"] != nil
    }

    @Test func emitCWritesTheLibraryDeterministically() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let a = CLI.run("compile", CLI.example("resnet20"), "--branches", "3", "--thresholds", "0.9,0.8,0.7", "--emit", "c", "-o", dir.path("a"))
        let b = CLI.run("compile", CLI.example("resnet20"), "--branches", "3", "--thresholds", "0.9,0.8,0.7", "--emit", "c", "-o", dir.path("b"))
        #expect(a.status == 0 && b.status == 0, "\(a.transcript)\n\(b.transcript)")
        #expect(a.out.contains("resnet20: wrote resnet20.h, resnet20.c, resnet20_weights.c, eec_runtime.h, eec_runtime.c"), "\(a.transcript)")
        for name in ["resnet20.h", "resnet20.c", "resnet20_weights.c", "eec_runtime.h", "eec_runtime.c"] {
            let x = FileManager.default.contents(atPath: dir.path("a/\(name)"))
            #expect(x != nil && x == FileManager.default.contents(atPath: dir.path("b/\(name)")), "\(name)")
        }
        let header = try dir.read("a/resnet20.h")
        #expect(header.contains("#define RESNET20_EXITS          3"))
        #expect(header.contains("compiled-in thresholds T = 0.9, 0.8, 0.7"))
    }

    @Test func emitCUsageErrors() {
        let noDir = CLI.run("compile", CLI.example("resnet20"), "--emit", "c")
        #expect(noDir.status == 2)
        #expect(noDir.err.contains("--emit c needs -o DIR"), "\(noDir.transcript)")
        let count = CLI.run("compile", CLI.example("resnet20"), "--branches", "3", "--thresholds", "0.5,0.5", "--emit", "c", "-o", "/tmp/unused")
        #expect(count.status == 2)
        #expect(count.err.contains("--thresholds gives 2 values for 3 exits"), "\(count.transcript)")
        let both = CLI.run("compile", CLI.example("resnet20"), "--threshold", "0.5", "--thresholds", "0.5", "--emit", "c", "-o", "/tmp/unused")
        #expect(both.status == 2)
        #expect(both.err.contains("give --threshold T or --thresholds t0,t1,.., not both"), "\(both.transcript)")
        let range = CLI.run("compile", CLI.example("resnet20"), "--threshold", "1.5", "--emit", "c", "-o", "/tmp/unused")
        #expect(range.status == 2)
        #expect(range.err.contains("option '--threshold' expects thresholds from 0 to 1, found '1.5'"), "\(range.transcript)")
    }

    /// The two backends agree on every sample's exit and class; the report has every figure.
    @Test(.enabled(if: hasCompiler, "needs clang (or $CC)"))
    func runBackendsAgree() throws {
        _ = Self.cache
        let dir = try CLITempDir()
        defer { dir.remove() }
        var rng = SplitMix64(seed: 3)
        let input = dir.path("x.npy")
        try NPYArray(shape: [6, 3, 32, 32], storage: .float32((0..<(6 * 3 * 1024)).map { _ in rng.uniform(-2, 2) })).write(to: input)
        let labels = dir.path("y.npy")
        try NPYArray(shape: [6], storage: .int64([0, 1, 2, 3, 4, 5])).write(to: labels)
        var exits: [NPYArray] = []
        for backend in ["interp", "c"] {
            let r = CLI.run("run", CLI.example("resnet20"), "--input", input, "--labels", labels, "--branches", "3",
                            "--thresholds", "0.5,0.45,0.4", "--backend", backend, "--exits", dir.path("e-\(backend).npy"),
                            "--output", dir.path("o-\(backend).npy"))
            #expect(r.status == 0, "\(r.transcript)")
            for needle in ["6 samples, ", "exit   after", "agreement with the backbone: ", "accuracy: ", "mean cost rate: "] {
                #expect(r.out.contains(needle), "\(backend): \(needle)\n\(r.transcript)")
            }
            if backend == "c" { #expect(r.out.contains("MACs spent in C: "), "\(r.transcript)") }
            exits.append(try NPYArray.read(path: dir.path("e-\(backend).npy")))
        }
        #expect(exits[0] == exits[1])
        #expect(exits[0].shape == [6])
    }
}
