import Foundation
import Testing
import IR
@testable import eec

/// `eec import`: usage, bad input, and the shared ResNet-44 from ONNX to C.
struct CLIImportTests {
    static let models = CLI.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/models")
    static let hasModel = FileManager.default.isReadableFile(atPath: models.appendingPathComponent("resnet44a.onnx").path)

    @Test func helpAndBadUsage() throws {
        let help = CLI.run("import", "--help")
        #expect(help.status == 0 && help.out.contains("usage: eec import MODEL.onnx -o NAME.eeir"), "\(help.transcript)")
        #expect(help.out.contains("Conv") && help.out.contains("11 to 21"))
        let noOutput = CLI.run("import", "model.onnx")
        #expect(noOutput.status == 2 && noOutput.err.contains("missing -o NAME.eeir"), "\(noOutput.transcript)")
        #expect(CLI.run("--help").out.contains("import MODEL"))
    }

    @Test func badInput() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let missing = CLI.run("import", dir.path("absent.onnx"), "-o", dir.path("x.eeir"))
        #expect(missing.status == 1 && missing.err.contains("absent.onnx: error: no such file"), "\(missing.transcript)")
        // A text file is not protobuf: the first byte is already a bad field key.
        let notONNX = CLI.run("import", CLI.example("resnet20"), "-o", dir.path("x.eeir"))
        #expect(notONNX.status == 1 && notONNX.err.contains("resnet20.eeir: error: malformed ONNX protobuf at byte"), "\(notONNX.transcript)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("x.eeir")))
    }

    /// An imported model goes through train, calibrate and compile --emit c as a hand-written one:
    /// the FuzzONNX seed with the option-A shortcut (Slice/Slice/Pad), a Shape/Gather/Concat/Reshape
    /// flatten and a Gemm, with exits at its two candidates.
    @Test func importedModelTakesTheEarlyExitPath() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let model = CLI.packageRoot.appendingPathComponent("Fuzz/corpus/FuzzONNX/shortcut-reshape-gemm.onnx").path
        let net = dir.path("tiny.eeir")
        #expect(CLI.run("import", model, "-o", net).status == 0)
        var rng = SplitMix64(seed: 3)
        let data = dir.path("x.npy"), labels = dir.path("y.npy")
        try NPYArray(shape: [48, 2, 4, 4], storage: .float32((0..<(48 * 32)).map { _ in rng.uniform(-1, 1) })).write(to: data)
        try NPYArray(shape: [48], storage: .int64((0..<48).map { Int64($0 % 3) })).write(to: labels)
        let train = CLI.run("train", net, "--weights", dir.path("tiny.safetensors"), "--data", data, "--branches", "all",
                            "--epochs", "2", "-o", dir.path("trained.safetensors"))
        #expect(train.status == 0 && train.out.contains("trained 2 exits"), "\(train.transcript)")
        let withExits = CLI.run("compile", net, "--weights", dir.path("trained.safetensors"), "--emit", "c", "-o", dir.path("c2"))
        #expect(withExits.status == 0 && withExits.out.contains("2 exits"), "\(withExits.transcript)")
        let calibrate = CLI.run("calibrate", net, "--weights", dir.path("trained.safetensors"), "--data", data, "--labels", labels,
                                "-o", dir.path("calibrated.safetensors"))
        #expect(calibrate.status == 0, "\(calibrate.transcript)")
        let c = CLI.run("compile", net, "--weights", dir.path("calibrated.safetensors"), "--emit", "c", "-o", dir.path("c"))
        #expect(c.status == 0 && FileManager.default.fileExists(atPath: dir.path("c/tiny.c")), "\(c.transcript)")
    }

    @Test(.enabled(if: hasModel, "needs ../shared/models"))
    func resnet44aFromONNXToC() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let out = dir.path("net.eeir")
        let r = CLI.run("import", Self.models.appendingPathComponent("resnet44a.onnx").path, "-o", out)
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.out.contains("wrote \(out) (114 nodes) and \(dir.path("net.safetensors")) (88 tensors"), "\(r.transcript)")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.contains("model net\n") && text.contains("layer1.0.conv1 = conv2d("))
        #expect(CLI.run("fmt", out).out == text, "canonical")
        let c = CLI.run("compile", out, "--weights", dir.path("net.safetensors"), "--emit", "c", "-o", dir.path("c"))
        #expect(c.status == 0, "\(c.transcript)")
        let exits = CLI.run("compile", out, "--branches", "3")
        #expect(exits.status == 0 && exits.out.contains("layer1.2.relu_1"), "\(exits.transcript)")
    }
}
