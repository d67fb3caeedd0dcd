import Foundation
import Testing
import IR
import Passes
import Codegen
import Runtime

/// The C backend against the reference interpreter (run on the graph before BatchNorm folding
/// and ReLU fusion, so the passes are checked too): the logits of every exit and of the final
/// classifier within 1e-4 of the largest |logit|, confidence logits likewise, and the early-exit
/// decisions of `<model>_run` equal to the exit rule applied to the interpreter's confidences,
/// except where |h − T| < 1e-5 (counted and printed apart: float rounding may go either way).
@Suite(.needsCCompiler)
struct EquivalenceTests {
    @Test func resNet20() throws { try checkExample("resnet20", samples: 3) }
    @Test func resNet20OptionA() throws { try checkExample("resnet20a", samples: 3) }
    @Test func resNet32() throws { try checkExample("resnet32", samples: 2) }
    @Test func resNet44OptionA() throws { try checkExample("resnet44a", samples: 2) }
    @Test func resNet110() throws { try checkExample("resnet110", samples: 1) }
    @Test func vgg19() throws { try checkExample("vgg19", samples: 1, exitAfter: [.maxpool]) }
    @Test func denseNet121() throws { try checkExample("densenet121", samples: 1, exitAfter: [.concat]) }

    /// Every op and kernel variant, with two exits on odd shapes.
    @Test func everyOp() throws {
        let graph = try allOpsGraph()
        for branches in [0, 2] {
            let network = try CompiledNetwork(graph, weights: WeightBinder.seeded(graph, seed: 3), branches: branches)
            #expect(network.compiled.graph.graph.exits.count == branches)
            try check(network, inputs: seededInputs(graph.graph.input.shape, count: 3))
        }
    }

    /// The pre-trained ResNet-44 on real CIFAR-10 images, without and with (seeded) exits; the
    /// final logits also match those of an independent runtime.
    @Test(.needsSharedData)
    func realResNet44() throws {
        let weightsPath = sharedData.appendingPathComponent("resnet44a.safetensors").path
        let graph = try example("resnet44a")
        let file = try SafetensorsFile.read(path: weightsPath)
        let images = try ImageBatch.readInputs(path: sharedData.appendingPathComponent("test_x_0_2999.npy").path,
                                               sampleShape: [3, 32, 32], normalization: .imageNet)
        let inputs = Array(images.prefix(8))
        let reference = try NPYArray.read(path: sharedData.appendingPathComponent("resnet44a_logits_0_2999.npy").path)
        guard case .float32(let referenceLogits) = reference.storage else { throw TestFailure("reference logits are not float32") }
        for branches in [0, 3] {
            let network = try CompiledNetwork(graph, weights: file.tensors, branches: branches)
            let all = try check(network, inputs: inputs)
            for (s, sample) in all.enumerated() {
                let expected = Array(referenceLogits[(s * 10)..<((s + 1) * 10)])
                let scale = expected.map { abs($0) }.max() ?? 1
                let error = zip(expected, sample.logits[branches]).map { abs($0 - $1) }.max() ?? 0
                #expect(error / scale <= 1e-4, "sample \(s): C logits vs the independent runtime's")
            }
        }
    }

    func checkExample(_ name: String, samples: Int, exitAfter: Set<OpKind>? = nil) throws {
        for branches in [0, 3] {
            let network = try CompiledNetwork(name, branches: branches, exitAfter: exitAfter)
            #expect(network.compiled.graph.graph.exits.count == branches, "\(name): exits placed")
            try check(network, inputs: seededInputs(network.reference.graph.graph.input.shape, count: samples))
        }
    }

    @discardableResult
    func check(_ network: CompiledNetwork, inputs: [Tensor], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> [CHarness.AllExits] {
        try checkAgainstInterpreter(network, inputs: inputs, flags: testFlags, sourceLocation: sourceLocation)
    }
}
