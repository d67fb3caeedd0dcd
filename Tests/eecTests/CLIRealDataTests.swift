import Foundation
import Testing
import IR
@testable import eec

/// `eec run` with the pre-trained ResNet-44 (option A) on real CIFAR-10 test images, against logits
/// from an independent runtime. Skipped when `../shared/data/cifar10` is absent.
@Suite(.enabled(if: CLI.hasCIFAR, "needs ../shared/data/cifar10 beside the package"))
struct CLIRealDataTests {
    static let count = 20
    static let classes = 10

    @Test func resnet44aMatchesReferenceLogits() throws {
        let data = CLI.cifarDirectory
        let images = try NPYArray.read(path: data.appendingPathComponent("test_x_0_2999.npy").path)
        try #require(images.shape == [3000, 32, 32, 3])
        guard case .uint8(let pixels) = images.storage else {
            Issue.record("test_x is \(images.storage.dtypeName), expected uint8")
            return
        }
        let dir = try CLITempDir()
        defer { dir.remove() }
        let input = dir.path("tmp.npy")
        let sampleSize = 32 * 32 * 3
        try NPYArray(shape: [Self.count, 32, 32, 3], storage: .uint8(Array(pixels[0..<Self.count * sampleSize]))).write(to: input)

        let out = dir.path("out.npy")
        let r = CLI.run("run", CLI.example("resnet44a"),
                        "--weights", data.appendingPathComponent("resnet44a.safetensors").path,
                        "--input", input,
                        "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225",
                        "--output", out)
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.err.isEmpty, "\(r.transcript)")
        #expect(r.out.hasPrefix("\(Self.count) samples, "), "\(r.transcript)")

        let logits = try NPYArray.read(path: out)
        #expect(logits.shape == [Self.count, Self.classes])
        guard case .float32(let got) = logits.storage else {
            Issue.record("output is \(logits.storage.dtypeName), expected float32")
            return
        }
        let reference = try NPYArray.read(path: data.appendingPathComponent("resnet44a_logits_0_2999.npy").path)
        try #require(reference.shape == [3000, Self.classes])
        guard case .float32(let all) = reference.storage else {
            Issue.record("reference logits are \(reference.storage.dtypeName), expected float32")
            return
        }
        let want = Array(all[0..<Self.count * Self.classes])
        try #require(got.count == want.count)

        var worst: Float = 0
        for i in got.indices {
            let diff = abs(got[i] - want[i])
            worst = max(worst, diff)
            #expect(diff <= 1e-4, "sample \(i / Self.classes) class \(i % Self.classes): \(got[i]) vs \(want[i])")
        }
        for n in 0..<Self.count {
            let row = n * Self.classes..<(n + 1) * Self.classes
            #expect(argmax(Array(got[row])) == argmax(Array(want[row])), "sample \(n)")
        }
        #expect(worst <= 1e-4)
    }
}
