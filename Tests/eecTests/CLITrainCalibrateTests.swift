import Foundation
import IR
import Testing
import Training
@testable import eec

/// A short version of the ResNet-44 walk-through on the real data: train 3 conv2 exits
/// on a few images without labels, calibrate on others with labels. Skips without ../shared.
@Suite(.enabled(if: CLI.hasCIFAR))
struct CLITrainCalibrateTests {
    @Test func trainThenCalibrateOnRealData() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        func cifar(_ name: String) -> String { CLI.cifarDirectory.appendingPathComponent(name).path }
        let weights = cifar("resnet44a.safetensors"), images = cifar("test_x_0_2999.npy")
        let trained = dir.path("r44.safetensors")
        let normalize = ["--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225"]
        let train = CLI.run(["train", CLI.example("resnet44a"), "--weights", weights, "--data", images, "--samples", "0:48",
                             "--augment", "1", "--branches", "3", "--exit-block", "conv2", "--epochs", "2", "--batch", "16",
                             "-o", trained] + normalize)
        #expect(train.status == 0, "\(train.transcript)")
        #expect(train.out.contains("trained 3 exits on 96 samples"), "\(train.transcript)")

        // The backbone is copied unchanged; the exits and their configuration are added.
        let original = try SafetensorsFile.read(path: weights), output = try SafetensorsFile.read(path: trained)
        for (name, tensor) in original.tensors { #expect(output.tensors[name] == tensor, "\(name) changed") }
        #expect(output.tensors["exits.0.conv1.weight"]?.shape == [16, 16, 3, 3])
        #expect(output.tensors["exits.2.bn2.running_var"]?.shape == [16])
        #expect(output.metadata["eec.branches"] == "3")
        #expect(output.metadata["eec.exit_block"] == "conv2")
        #expect(output.metadata["eec.distribution"] == "fine")
        #expect(output.metadata["eec.augment"] == "1")

        let calibrate = CLI.run(["calibrate", CLI.example("resnet44a"), "--weights", trained, "--data", images,
                                 "--labels", cifar("test_y_0_2999.npy"), "--samples", "2000:2040", "--json", "--backend", "interp",
                                 "--plot", dir.path("plot.svg"),
                                 "--csv", dir.path("sweep.csv")] + normalize)
        #expect(calibrate.status == 0, "\(calibrate.transcript)")
        let json = try CLI.jsonObject(calibrate.out)
        let chosen = try #require(json["chosen"] as? [String: Any])
        let base = try #require(json["backbone_accuracy"] as? Double)
        let accuracy = try #require(chosen["accuracy"] as? Double)
        #expect(json["backbone_agreement"] as? Double == 1.0)
        #expect(base - accuracy <= 0.01 + 1e-12)
        #expect((chosen["cost_rate"] as? Double ?? 2) <= 1.0)
        #expect((json["sweep"] as? [Any])?.count == ThresholdSweep.grid.count)
        let svg = try String(contentsOfFile: dir.path("plot.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("T = "))
        let csv = try String(contentsOfFile: dir.path("sweep.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == ThresholdSweep.grid.count + 1)

        // The generated C evaluates the exits as the interpreter does: the same sweep, to the sample.
        if CLICBackendTests.hasCompiler {
            _ = CLICBackendTests.cache
            let inC = CLI.run(["calibrate", CLI.example("resnet44a"), "--weights", trained, "--data", images,
                               "--labels", cifar("test_y_0_2999.npy"), "--samples", "2000:2040", "--backend", "c",
                               "--csv", dir.path("sweep-c.csv")] + normalize)
            #expect(inC.status == 0, "\(inC.transcript)")
            #expect(try String(contentsOfFile: dir.path("sweep-c.csv"), encoding: .utf8) == csv)
        }

        // Flags repeating the recorded configuration are fine; contradicting it is an error.
        let conflict = CLI.run(["calibrate", CLI.example("resnet44a"), "--weights", trained, "--data", images,
                                "--samples", "0:4", "--exit-block", "pool"] + normalize)
        #expect(conflict.status == 1)
        #expect(conflict.err.contains("trained with conv2"), "\(conflict.transcript)")
    }
}
