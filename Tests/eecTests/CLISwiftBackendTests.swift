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
            exits.append(try NPYArray.read(path: dir.path("e-\(backend).npy")))
        }
        #expect(exits[0] == exits[1])
    }
}
