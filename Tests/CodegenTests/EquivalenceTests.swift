import Foundation
import XCTest
import IR
import Passes
import Codegen
import Runtime

/// The C backend against the reference interpreter (run on the graph before BatchNorm folding
/// and ReLU fusion, so the passes are checked too): the logits of every exit and of the final
/// classifier within 1e-4 of the largest |logit|, confidence logits likewise, and the early-exit
/// decisions of `<model>_run` equal to the exit rule applied to the interpreter's confidences,
/// except where |h − T| < 1e-5 (counted and printed apart: float rounding may go either way).
final class EquivalenceTests: XCTestCase {
    func testResNet20() throws { try checkExample("resnet20", samples: 3) }
    func testResNet20OptionA() throws { try checkExample("resnet20a", samples: 3) }
    func testResNet32() throws { try checkExample("resnet32", samples: 2) }
    func testResNet44OptionA() throws { try checkExample("resnet44a", samples: 2) }
    func testResNet110() throws { try checkExample("resnet110", samples: 1) }
    func testVGG19() throws { try checkExample("vgg19", samples: 1, exitAfter: [.maxpool]) }
    func testDenseNet121() throws { try checkExample("densenet121", samples: 1, exitAfter: [.concat]) }

    /// Every op and kernel variant, with two exits on odd shapes.
    func testEveryOp() throws {
        let graph = try allOpsGraph()
        for branches in [0, 2] {
            let network = try CompiledNetwork(graph, weights: WeightBinder.seeded(graph, seed: 3), branches: branches)
            XCTAssertEqual(network.compiled.graph.graph.exits.count, branches)
            try check(network, inputs: seededInputs(graph.graph.input.shape, count: 3))
        }
    }

    /// The pre-trained ResNet-44 on real CIFAR-10 images, without and with (seeded) exits; the
    /// final logits also match those of an independent runtime.
    func testRealResNet44() throws {
        let weightsPath = sharedData.appendingPathComponent("resnet44a.safetensors").path
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            throw XCTSkip("\(sharedData.path) is absent")
        }
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
                XCTAssertLessThanOrEqual(error / scale, 1e-4, "sample \(s): C logits vs the independent runtime's")
            }
        }
    }

    func checkExample(_ name: String, samples: Int, exitAfter: Set<OpKind>? = nil) throws {
        for branches in [0, 3] {
            let network = try CompiledNetwork(name, branches: branches, exitAfter: exitAfter)
            XCTAssertEqual(network.compiled.graph.graph.exits.count, branches, "\(name): exits placed")
            try check(network, inputs: seededInputs(network.reference.graph.graph.input.shape, count: samples))
        }
    }

    /// Compares run_all with the interpreter, then run's decisions at several threshold sets.
    @discardableResult
    func check(_ network: CompiledNetwork, inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line) throws -> [CHarness.AllExits] {
        let program = try CProgram(network.compiled)
        let harness = try CHarness(CSource(program), toolchain: try toolchain(), cacheRoot: testCache, flags: testFlags)
        let all = try harness.runAll(inputs)
        let interpreter = try network.interpreter()
        let expected = inputs.map { interpreter.run($0) }
        let exits = program.exits.count
        let name = "\(program.model) with \(exits) exits"
        for (s, reference) in expected.enumerated() {
            let referenceLogits = reference.exits.map(\.logits.data) + [reference.logits.data]
            XCTAssertEqual(all[s].logits.count, exits + 1, file: file, line: line)
            for (k, logits) in referenceLogits.enumerated() where k < all[s].logits.count {
                XCTAssertEqual(logits.count, all[s].logits[k].count, file: file, line: line)
                let scale = max(Float.leastNormalMagnitude, logits.map { abs($0) }.max() ?? 0)
                let error = zip(logits, all[s].logits[k]).map { abs($0 - $1) }.max() ?? .infinity
                XCTAssertLessThanOrEqual(error / scale, 1e-4, "\(name), sample \(s), \(k < exits ? "exit \(k)" : "final") logits: error \(error) of \(scale)", file: file, line: line)
            }
            for (k, exit) in reference.exits.enumerated() {
                let error = abs(exit.confidence - all[s].confidenceLogits[k])
                XCTAssertLessThanOrEqual(error / max(1, abs(exit.confidence)), 1e-4, "\(name), sample \(s), exit \(k) confidence logit", file: file, line: line)
            }
        }
        guard exits > 0 else {
            // Without exits, run answers with the final classifier, as run_all computed it.
            let (answers, _) = try harness.run(inputs, thresholdLogits: [])
            for (s, answer) in answers.enumerated() {
                XCTAssertEqual(answer.exitIndex, 0, file: file, line: line)
                XCTAssertEqual(answer.logits, all[s].logits[0], file: file, line: line)
                XCTAssertEqual(answer.macs, program.backboneMacs, file: file, line: line)
            }
            return all
        }
        var rng = SplitMix64(seed: 11)
        var sets: [[Double]] = [Array(repeating: 0, count: exits), Array(repeating: 1, count: exits), Array(repeating: 0.5, count: exits)]
        for _ in 0..<3 { sets.append((0..<exits).map { _ in Double(rng.uniform(0, 1)) }) }
        // Thresholds at the interpreter's own confidences, nudged down: the first sample takes exit k
        // at the k-th set when it gets there, by a margin far above float rounding.
        for k in 0..<exits {
            var t = Array(repeating: 1.0, count: exits)
            t[k] = max(0, ExitRule.sigmoid(Double(expected[0].exits[k].confidence)) - 1e-3)
            sets.append(t)
        }
        var near = 0
        for thresholds in sets {
            let (answers, _) = try harness.run(inputs, thresholdLogits: thresholds.map(CSource.thresholdLogit))
            for (s, answer) in answers.enumerated() {
                let z = expected[s].exits.map(\.confidence)
                let want = ExitRule.firstExit(confidenceLogits: z, thresholdLogits: thresholds.map(ExitRule.logitThreshold))
                if answer.exitIndex != want {
                    let last = min(exits - 1, max(want, answer.exitIndex))
                    let close = (0...last).contains { abs(ExitRule.sigmoid(Double(z[$0])) - thresholds[$0]) < 1e-5 }
                    if close {
                        near += 1
                    } else {
                        XCTFail("\(name), sample \(s), T = \(thresholds): C took exit \(answer.exitIndex), the rule on the interpreter's confidences says \(want)", file: file, line: line)
                    }
                }
                // The answer is the answering classifier of run_all, bit for bit, and its cost.
                XCTAssertEqual(answer.logits, all[s].logits[answer.exitIndex], file: file, line: line)
                XCTAssertEqual(answer.classIndex, argmax(answer.logits), file: file, line: line)
                let e = answer.exitIndex
                let macs = program.segments[0...e].reduce(0) { $0 + $1.macs } + program.exits[0..<min(e + 1, exits)].reduce(0) { $0 + $1.head.macs }
                XCTAssertEqual(answer.macs, macs, file: file, line: line)
                XCTAssertEqual(answer.confidenceLogit, e < exits ? all[s].confidenceLogits[e] : .greatestFiniteMagnitude, file: file, line: line)
            }
        }
        if near > 0 { print("\(name): \(near) decision\(near == 1 ? "" : "s") within 1e-5 of a threshold differ (allowed)") }
        return all
    }
}
