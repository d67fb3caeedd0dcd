import Foundation
import Testing
import IR
@testable import eec

/// Whether `qemu-system-arm` is on the PATH (or `$EEC_QEMU` names one).
private let hasQEMU: Bool = {
    let environment = ProcessInfo.processInfo.environment
    if let given = environment["EEC_QEMU"], !given.isEmpty { return FileManager.default.isExecutableFile(atPath: given) }
    return (environment["PATH"] ?? "").split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/qemu-system-arm") }
}()

/// `eec run --backend cortex-m4`: the generated C as firmware on an emulated Cortex-M4F gives the
/// host C's exits and classes, and reports instructions, flash and RAM. Skipped without QEMU
/// (`.ci/run` installs it with apt-get).
@Suite(.enabled(if: hasQEMU && CLICBackendTests.hasCompiler, "needs qemu-system-arm (apt-get install qemu-system-arm) and clang"))
struct CLIDeviceTests {
    static let normalization = ["--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225"]

    @Test func resnet20OnTheDeviceMatchesTheHost() throws {
        _ = CLICBackendTests.cache
        let dir = try CLITempDir()
        defer { dir.remove() }
        var rng = SplitMix64(seed: 5)
        let input = dir.path("x.npy")
        try NPYArray(shape: [6, 3, 32, 32], storage: .float32((0..<(6 * 3 * 1024)).map { _ in rng.uniform(-2, 2) })).write(to: input)
        let common = ["run", CLI.example("resnet20"), "--input", input, "--branches", "3", "--thresholds", "0.5,0.45,0.4"]
        let host = CLI.run(common + ["--backend", "c", "--exits", dir.path("e-c.npy"), "--output", dir.path("o-c.npy")])
        #expect(host.status == 0, "\(host.transcript)")
        let device = CLI.run(common + ["--backend", "cortex-m4", "--exits", dir.path("e-m4.npy"), "--output", dir.path("o-m4.npy"), "--json"])
        #expect(device.status == 0, "\(device.transcript)")
        try expectSameAnswers(dir, samples: 6)
        let json = try CLI.jsonObject(device.out)
        #expect(json["backend"] as? String == "cortex-m4")
        let counts = try #require(json["instructions_per_sample"] as? [Int], "\(device.out)")
        #expect(counts.count == 6 && counts.allSatisfy { $0 > 1_000_000 })
        let backbone = try #require(json["backbone_instructions"] as? Int)
        #expect(counts.allSatisfy { $0 < backbone * 2 })
        for key in ["instructions_mean", "instructions_per_exit", "instructions_ratio", "flash_bytes", "weights_bytes", "arena_bytes", "stack_bytes_used"] {
            #expect(json[key] != nil, "\(key) missing: \(device.out)")
        }

        let text = CLI.run(common + ["--backend", "cortex-m4"])
        #expect(text.status == 0, "\(text.transcript)")
        for needle in ["6 samples, ", "exit   after", "agreement with the backbone: ", "Cortex-M4 instructions per inference: ",
                       "mean per exit path: ", "flash ", "stack high-water mark "] {
            #expect(text.out.contains(needle), "\(needle)\n\(text.transcript)")
        }
    }

    @Test func anUnknownBackendIsAUsageError() {
        let r = CLI.run("run", CLI.example("resnet20"), "--input", "/nonexistent.npy", "--branches", "3", "--backend", "cortex-m7")
        #expect(r.status == 2, "\(r.transcript)")
        #expect(r.err.contains("option '--backend' expects one of"), "\(r.transcript)")
    }

    /// The real ResNet-44 of ../shared with 3 exits on 100 test images: the device's exits and
    /// classes are the host C's, its logits within 1e-4 (relative to the largest); at T = 0.9 and
    /// with thresholds that send samples to every exit (52, 20, 25 and 3 of them: the heads are
    /// untrained, seeded, and their confidences crowd around 0.5).
    @Test(.enabled(if: CLI.hasCIFAR, "needs ../shared/data/cifar10 beside the package"),
          arguments: ["0.9,0.9,0.9", "0.48,0.7,0.48"])
    func realResNet44OnTheDevice(thresholds: String) throws {
        _ = CLICBackendTests.cache
        let data = CLI.cifarDirectory
        let dir = try CLITempDir()
        defer { dir.remove() }
        let common = ["run", CLI.example("resnet44a"), "--weights", data.appendingPathComponent("resnet44a.safetensors").path,
                      "--input", data.appendingPathComponent("test_x_0_2999.npy").path, "--samples", "0:100",
                      "--branches", "3", "--thresholds", thresholds] + Self.normalization
        let host = CLI.run(common + ["--backend", "c", "--exits", dir.path("e-c.npy"), "--output", dir.path("o-c.npy")])
        #expect(host.status == 0, "\(host.transcript)")
        let device = CLI.run(common + ["--backend", "cortex-m4", "--exits", dir.path("e-m4.npy"), "--output", dir.path("o-m4.npy")])
        #expect(device.status == 0, "\(device.transcript)")
        let exits = try expectSameAnswers(dir, samples: 100)
        if thresholds != "0.9,0.9,0.9" {
            #expect(Set(exits).count == 4, "every exit and the final classifier answer some sample: \(exits)")
        }
    }

    /// The two runs' exits equal, classes equal, logits within 1e-4 of the sample's largest.
    @discardableResult
    func expectSameAnswers(_ dir: CLITempDir, samples: Int) throws -> [Int64] {
        let exitsC = try NPYArray.read(path: dir.path("e-c.npy")), exitsM4 = try NPYArray.read(path: dir.path("e-m4.npy"))
        #expect(exitsC == exitsM4)
        guard case .float32(let c) = try NPYArray.read(path: dir.path("o-c.npy")).storage,
              case .float32(let m4) = try NPYArray.read(path: dir.path("o-m4.npy")).storage,
              case .int64(let exits) = exitsM4.storage else {
            Issue.record("unexpected output types")
            return []
        }
        try #require(c.count == m4.count && c.count % samples == 0)
        let k = c.count / samples
        for s in 0..<samples {
            let (a, b) = (Array(c[(s * k)..<((s + 1) * k)]), Array(m4[(s * k)..<((s + 1) * k)]))
            #expect(argmax(a) == argmax(b), "sample \(s): class")
            let scale = max(1, a.map(abs).max() ?? 0)
            #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-4 * scale }, "sample \(s): \(a) against \(b)")
        }
        return exits
    }
}
