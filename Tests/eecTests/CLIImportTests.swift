import Foundation
import Testing
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
