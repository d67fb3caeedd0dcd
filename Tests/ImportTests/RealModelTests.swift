import Foundation
import Testing
import IR
import Passes
import Codegen
@testable import Import

/// The shared ResNet-44 as PyTorch's two exporters write it (../shared/models), imported and run
/// against the reference logits of ../shared/data/cifar10. Skipped when ../shared is absent.
@Suite(.enabled(if: Shared.hasModels, "needs ../shared/models and ../shared/data/cifar10 beside the package"))
struct RealModelTests {
    /// Images checked in `swift test`; all 3,000 are measured by command (see the README).
    static let samples = 16

    @Test func classicExportImportsWithModuleNames() throws {
        let model = try ONNXImporter.importModel(path: Shared.model("resnet44a.onnx"))
        let text = Printer.print(model.graph)
        let names = model.graph.nodes.map(\.name)
        #expect(names.contains("layer1.0.conv1"))
        #expect(names.contains("linear"))
        #expect(!names.contains { $0.contains("onnx") || $0.contains("Conv_") }, "\(names)")
        #expect(model.graph.nodes.filter { $0.op == .conv2d }.count == 43)
        #expect(model.graph.nodes.filter { $0.op == .subsample }.count == 2)
        let pads = model.graph.nodes.filter { $0.op == .channelPad }.map { [$0.attributes.int("before"), $0.attributes.int("after")] }
        #expect(pads == [[8, 8], [16, 16]])
        #expect(model.weights["layer1.0.conv1.weight"]?.shape == [16, 16, 3, 3])
        #expect(model.weights["linear.weight"]?.shape == [10, 64])
        // Canonical and deterministic: printing parses back to the same text.
        let reparsed = try #require(try? VerifiedGraph.load(SourceFile(name: "x.eeir", text: text)).get().0)
        #expect(Printer.print(reparsed.graph) == text)
        #expect(Printer.print(try ONNXImporter.importModel(path: Shared.model("resnet44a.onnx")).graph) == text)
    }

    /// Both PyTorch exporters give the same graph and names, but for the classifier's pool and flatten.
    @Test func bothExportersGiveTheSameGraph() throws {
        let classic = try ONNXImporter.importModel(path: Shared.model("resnet44a.onnx"), modelName: "r").graph
        let dynamo = try ONNXImporter.importModel(path: Shared.model("resnet44a_dynamo.onnx"), modelName: "r").graph
        let rename = ["avg_pool2d": "averagepool", "view": "reshape"]
        let renamed = dynamo.nodes.map { node in
            var n = node
            n.name = rename[n.name] ?? n.name
            n.inputs = n.inputs.map { rename[$0] ?? $0 }
            return n
        }
        #expect(renamed == classic.nodes)
    }

    @Test(arguments: ["resnet44a.onnx", "resnet44a_dynamo.onnx"])
    func logitsMatchTheReference(file: String) throws {
        let model = try ONNXImporter.importModel(path: Shared.model(file))
        let graph = try VerifiedGraph(model.graph)
        let interpreter = Interpreter(graph, weights: try WeightBinder.bind(graph, tensors: model.weights, source: file))
        let (images, reference) = try Shared.testImages(Self.samples)
        var worst: Float = 0
        for (s, image) in images.enumerated() {
            let logits = interpreter.run(image).logits.data
            worst = max(worst, zip(logits, reference[s]).map { abs($0 - $1) }.max() ?? .infinity)
        }
        #expect(worst <= 1e-4, "\(file): max abs diff \(worst) on \(Self.samples) images")
    }

    /// The imported network takes the early-exit path as a hand-written one: the same exit
    /// candidates as examples/resnet44a.eeir (the stem and the 21 blocks), three exits placed,
    /// and the generated C's final logits equal the reference on real images.
    @Test(.enabled(if: (try? CToolchain.find()) != nil, "needs a C compiler"))
    func earlyExitPathAndTheCBackend() throws {
        let model = try ONNXImporter.importModel(path: Shared.model("resnet44a.onnx"))
        let graph = try VerifiedGraph(model.graph)
        let candidates = ExitCandidates.find(graph).map { graph.graph.nodes[$0].name }
        #expect(candidates.count == 22, "\(candidates)")
        #expect(candidates.first == "relu" && candidates.contains("layer2.0.relu_1") && candidates.last == "layer3.6.relu_1")
        let reference = try InsertExits(branches: 3).run(Passes.Model(graph: graph, weights: model.weights))
        #expect(reference.graph.graph.exits.count == 3)
        let compiled = try PassPipeline.afterExits.run(reference)
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("eec-import-c-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let harness = try CHarness(CSource(CProgram(compiled)), toolchain: CToolchain.find(), cacheRoot: cache)
        let (images, logits) = try Shared.testImages(Self.samples)
        let all = try harness.runAll(images)
        let interpreter = Interpreter(reference.graph, weights: try WeightBinder.bind(reference.graph, tensors: reference.weights, source: "imported"))
        var worst: Float = 0, worstExit: Float = 0
        for (s, image) in images.enumerated() {
            worst = max(worst, zip(all[s].logits[3], logits[s]).map { abs($0 - $1) }.max() ?? .infinity)
            // The exits' logits, as the interpreter computes them on the imported graph.
            for (k, exit) in interpreter.run(image).exits.enumerated() {
                worstExit = max(worstExit, zip(all[s].logits[k], exit.logits.data).map { abs($0 - $1) }.max() ?? .infinity)
            }
        }
        #expect(worst <= 1e-4, "C final logits vs the reference: \(worst)")
        #expect(worstExit <= 1e-4, "C exit logits vs the interpreter: \(worstExit)")
    }
}

enum Shared {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared")
    static let hasModels = FileManager.default.fileExists(atPath: model("resnet44a.onnx"))
        && FileManager.default.fileExists(atPath: data("test_x_0_2999.npy"))

    static func model(_ name: String) -> String { root.appendingPathComponent("models/\(name)").path }
    static func data(_ name: String) -> String { root.appendingPathComponent("data/cifar10/\(name)").path }

    /// The first `count` test images, normalized, and their reference logits.
    static func testImages(_ count: Int) throws -> ([Tensor], [[Float]]) {
        let images = try ImageBatch.readInputs(path: data("test_x_0_2999.npy"), sampleShape: [3, 32, 32], normalization: .imageNet)
        let reference = try NPYArray.read(path: data("resnet44a_logits_0_2999.npy"))
        guard case .float32(let logits) = reference.storage else { throw ImportError("reference logits are not float32") }
        return (Array(images.prefix(count)), (0..<count).map { Array(logits[($0 * 10)..<($0 * 10 + 10)]) })
    }
}
