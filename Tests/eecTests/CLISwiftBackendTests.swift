import Foundation
import Testing
import IR
@testable import eec

/// `eec compile --emit swift` and `eec run --backend swift` (issue 9) from the command line.
@Suite struct CLISwiftBackendTests {
    static var hasSwift: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/swift")
        }
    }

    @Test func emitSwiftWritesThePackageDeterministically() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let a = CLI.run("compile", CLI.example("resnet20"), "--branches", "3", "--thresholds", "0.9,0.8,0.7", "--emit", "swift", "-o", dir.path("a"))
        let b = CLI.run("compile", CLI.example("resnet20"), "--branches", "3", "--thresholds", "0.9,0.8,0.7", "--emit", "swift", "-o", dir.path("b"))
        #expect(a.status == 0 && b.status == 0, "\(a.transcript)\n\(b.transcript)")
        #expect(a.out.contains("resnet20: wrote Package.swift and Sources/Resnet20/"), "\(a.transcript)")
        for name in ["Package.swift", "Sources/Resnet20/Resnet20.swift", "Sources/Resnet20/Weights.swift", "Sources/Resnet20/Runtime.swift"] {
            let x = FileManager.default.contents(atPath: dir.path("a/\(name)"))
            #expect(x != nil && x == FileManager.default.contents(atPath: dir.path("b/\(name)")), "\(name)")
        }
        let noDir = CLI.run("compile", CLI.example("resnet20"), "--emit", "swift")
        #expect(noDir.status == 2 && noDir.err.contains("--emit swift needs -o DIR"), "\(noDir.transcript)")
    }

    /// The Swift package takes the exits the C takes, at the same thresholds.
    @Test(.enabled(if: hasSwift && CLICBackendTests.hasCompiler, "needs swift and clang"))
    func runSwiftAgreesWithC() throws {
        _ = CLICBackendTests.cache
        let dir = try CLITempDir()
        defer { dir.remove() }
        var rng = SplitMix64(seed: 5)
        let input = dir.path("x.npy")
        try NPYArray(shape: [4, 3, 32, 32], storage: .float32((0..<(4 * 3 * 1024)).map { _ in rng.uniform(-2, 2) })).write(to: input)
        var exits: [NPYArray] = []
        for backend in ["c", "swift"] {
            let r = CLI.run("run", CLI.example("resnet20"), "--input", input, "--branches", "3", "--thresholds", "0.5,0.45,0.4",
                            "--backend", backend, "--exits", dir.path("e-\(backend).npy"))
            #expect(r.status == 0, "\(r.transcript)")
            if backend == "swift" { #expect(r.out.contains("generated Swift, swift build -c release"), "\(r.transcript)") }
            #expect(r.out.contains("MACs spent in \(backend == "c" ? "C" : "Swift"): "), "\(r.transcript)")
            exits.append(try NPYArray.read(path: dir.path("e-\(backend).npy")))
        }
        #expect(exits[0] == exits[1])
        // --json names the backend that ran (the same build, from the cache).
        let json = CLI.run("run", CLI.example("resnet20"), "--input", input, "--branches", "3", "--thresholds", "0.5,0.45,0.4",
                           "--backend", "swift", "--json")
        #expect(json.status == 0, "\(json.transcript)")
        #expect(try CLI.jsonObject(json.out)["backend"] as? String == "swift", "\(json.transcript)")
    }

    /// `eec bench-swift` on a tiny network: both backends timed, the ratio and both code sizes printed.
    @Test(.enabled(if: hasSwift && CLICBackendTests.hasCompiler, "needs swift and clang"))
    func benchSwiftPrintsBothBackends() throws {
        _ = CLICBackendTests.cache
        let dir = try CLITempDir()
        defer { dir.remove() }
        let tiny = try dir.write("tiny.eeir", """
            model tiny
            input x: f32[1,3,8,8]
            conv = conv2d(x, out=8, kernel=3, pad=1, bias=false)
            bn = batchnorm(conv)
            act = relu(bn)
            pool = global_avg_pool(act)
            flat = flatten(pool)
            linear = linear(flat, out=4)
            output linear

            """)
        let r = CLI.run("bench-swift", tiny, "--runs", "5")
        #expect(r.status == 0, "\(r.transcript)")
        let row = r.out.split(separator: "\n").first { $0.hasPrefix("tiny ") }.map { $0.split(separator: " ") } ?? []
        // network, MACs, C us, Swift us, C GFLOP/s, Swift GFLOP/s, Swift/C speed, C M4 .text, Swift M4 .text
        #expect(row.count == 9, "\(r.transcript)")
        if row.count == 9 {
            #expect(row[6].hasSuffix("x") && (Double(row[6].dropLast()) ?? 0) > 0, "\(r.transcript)")
            #expect((Int(row[7].filter(\.isNumber)) ?? 0) > 0 && (Int(row[8].filter(\.isNumber)) ?? 0) > 0, "\(r.transcript)")
        }
        #expect(r.out.contains("median of 5 runs each"), "\(r.transcript)")
    }

    @Test func benchSwiftRejectsBadUsage() {
        for bad in [["--runs", "0"], ["--seed", "-1"], ["--no-such-option"]] {
            let r = CLI.run(["bench-swift", CLI.example("resnet20")] + bad)
            #expect(r.status == 2 && r.err.contains("usage: eec bench-swift"), "\(r.transcript)")
        }
    }
}
