import Foundation
import IR
import Testing
@testable import eec

/// The exits' whole road from the command line, on the ResNet-20 example with seeded weights and
/// random images (no ../shared needed): `train --branches all --exit-block sdn --confidence
/// softmax`, `calibrate -o` selecting exits, then `compile` and `run --json` reading the
/// calibrated file with no other flag. Sample counts that once crashed (12, 44) are used on purpose.
@Suite struct CLIExitPipelineTests {
    /// Seeded ResNet-20 weights and 44 random images with labels, in `dir`.
    static func fixture(_ dir: CLITempDir) throws -> (weights: String, images: String, labels: String) {
        var console = Console()
        let graph = try loadGraph(CLI.example("resnet20"), &console)
        let weights = dir.path("r20.safetensors")
        try SafetensorsFile.write(tensors: WeightBinder.seeded(graph, seed: 5), metadata: [:], to: weights)
        var rng = SplitMix64(seed: 9)
        let images = dir.path("x.npy"), labels = dir.path("y.npy")
        try NPYArray(shape: [44, 3, 32, 32], storage: .float32((0..<(44 * 3 * 1024)).map { _ in rng.uniform(-2, 2) })).write(to: images)
        try NPYArray(shape: [44], storage: .int64((0..<44).map { _ in Int64(rng.next() % 10) })).write(to: labels)
        return (weights, images, labels)
    }

    @Test func trainCalibrateCompileRunInterp() throws { try trainCalibrateCompileRun(backend: "interp") }

    @Test(.enabled(if: CLICBackendTests.hasCompiler, "needs clang (or $CC)"))
    func trainCalibrateCompileRunC() throws {
        _ = CLICBackendTests.cache
        try trainCalibrateCompileRun(backend: "c")
    }

    func trainCalibrateCompileRun(backend: String) throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let (weights, images, labels) = try Self.fixture(dir)
        let trained = dir.path("trained.safetensors"), calibrated = dir.path("cal.safetensors")
        let train = CLI.run(["train", CLI.example("resnet20"), "--weights", weights, "--data", images, "--samples", "0:12",
                             "--branches", "all", "--exit-block", "sdn", "--confidence", "softmax", "--epochs", "2",
                             "--batch", "8", "--backend", backend, "-o", trained])
        #expect(train.status == 0, "\(train.transcript)")
        let file = try SafetensorsFile.read(path: trained)
        // ResNet-20: the stem and 9 blocks are the exit candidates; the file names them.
        #expect(file.metadata["eec.branches"] == "10")
        #expect(file.metadata["eec.exit_at"]?.split(separator: ",").count == 10)
        #expect(file.metadata["eec.confidence"] == "softmax")
        #expect(file.tensors["exits.0.classifier.weight"]?.shape == [10, 16 * 4 * 4 * 2])
        #expect(file.tensors["exits.9.classifier.weight"]?.shape == [10, 64 * 4 * 4 * 2])
        #expect(file.tensors.keys.allSatisfy { !$0.hasSuffix("confidence.weight") }, "a max-softmax exit has no confidence layer")

        // A trained file compiles with no exit flags, and its exit tensors are all used.
        let plan = CLI.run(["compile", CLI.example("resnet20"), "--weights", trained])
        #expect(plan.status == 0 && plan.out.contains("resnet20: 10 exits"), "\(plan.transcript)")
        #expect(!plan.err.contains("not used"), "\(plan.transcript)")

        // Any drop allowed: the cheapest choice answers everything at an early exit.
        let calibrate = CLI.run(["calibrate", CLI.example("resnet20"), "--weights", trained, "--data", images, "--labels", labels,
                                 "--samples", "0:44", "--max-drop", "1", "--backend", backend, "--json", "-o", calibrated])
        #expect(calibrate.status == 0, "\(calibrate.transcript)")
        let json = try CLI.jsonObject(calibrate.out)
        let selection = try #require(json["selection"] as? [String: Any])
        let kept = try #require(selection["exits"] as? [Int])
        #expect(!kept.isEmpty)
        #expect(selection["cross_validation"] is [String: Any], "calibrate cross-validates its choice by default")

        let cal = try SafetensorsFile.read(path: calibrated)
        #expect(cal.metadata["eec.branches"] == String(kept.count))
        #expect(cal.metadata["eec.thresholds"]?.split(separator: ",").count == kept.count)
        #expect(cal.tensors["exits.\(kept.count).classifier.weight"] == nil, "dropped exits are removed")
        #expect(cal.tensors["exits.0.classifier.weight"] == file.tensors["exits.\(kept[0]).classifier.weight"])

        // compile and run take the calibrated exits and thresholds with no other flag.
        let out = dir.path("c")
        let compile = CLI.run(["compile", CLI.example("resnet20"), "--weights", calibrated, "--emit", "c", "-o", out])
        #expect(compile.status == 0, "\(compile.transcript)")
        #expect(!compile.err.contains("not used"), "\(compile.transcript)")
        let header = try dir.read("c/resnet20.h")
        #expect(header.contains("#define RESNET20_EXITS          \(kept.count)"), "\(header.prefix(600))")
        let run = CLI.run(["run", CLI.example("resnet20"), "--weights", calibrated, "--input", images, "--labels", labels,
                           "--samples", "12:44", "--backend", backend, "--json"])
        #expect(run.status == 0, "\(run.transcript)")
        let figures = try CLI.jsonObject(run.out)
        for key in ["samples", "accuracy", "backbone_accuracy", "agreement", "macs_ratio", "ms_per_sample", "backbone_ms_per_sample", "exits"] {
            #expect(figures[key] != nil, "run --json lacks \(key)")
        }
        #expect(figures["samples"] as? Int == 32)
        #expect((figures["exits"] as? [Int])?.reduce(0, +) == 32)
        #expect((figures["macs_ratio"] as? Double ?? 2) < 1, "\(run.out)")
    }

    @Test func exitAtNamesCandidates() throws {
        let ok = CLI.run(["compile", CLI.example("resnet20"), "--exit-at", "layer1.2,layer2.2", "--exit-block", "sdn"])
        #expect(ok.status == 0 && ok.out.contains("2 exits"), "\(ok.transcript)")
        let wrong = CLI.run(["compile", CLI.example("resnet20"), "--exit-at", "layer1.2.conv1"])
        #expect(wrong.status == 1)
        #expect(wrong.err.contains("not an exit candidate") && wrong.err.contains("layer1.0"), "\(wrong.transcript)")
        let missing = CLI.run(["compile", CLI.example("resnet20"), "--exit-at", "nowhere"])
        #expect(missing.status == 1 && missing.err.contains("no node is named 'nowhere'"), "\(missing.transcript)")
        let both = CLI.run(["compile", CLI.example("resnet20"), "--exit-at", "layer1.2", "--branches", "2"])
        #expect(both.status == 2, "\(both.transcript)")
    }
}
