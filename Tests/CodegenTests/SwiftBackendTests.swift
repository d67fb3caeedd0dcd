import Foundation
import Synchronization
import Testing
import IR
import Passes
import Codegen
import Runtime

/// The Swift backend (`--emit swift`): the generated package built with `swift build -c release`
/// beside a harness, its logits against the reference interpreter (as EquivalenceTests holds the
/// C: 1e-4 of the largest |logit|), its early-exit decisions and MACs against the C backend's at
/// the same thresholds, and byte-identical generation. Swift builds are slow: each network is
/// built once, cached in the process's test folder.
struct SwiftBackendTests {
    let temporary = TemporaryFolders()

    @Test(.needsSwift, .needsCCompiler)
    func resNet20() throws {
        for branches in [0, 3] {
            let network = try CompiledNetwork("resnet20", branches: branches)
            try check(network, inputs: seededInputs(network.reference.graph.graph.input.shape, count: 3))
        }
    }

    /// Every op and kernel variant, with two exits on odd shapes (block remainders, scalar lanes).
    @Test(.needsSwift, .needsCCompiler)
    func everyOp() throws {
        let graph = try allOpsGraph()
        for branches in [0, 2] {
            try check(try CompiledNetwork(graph, weights: WeightBinder.seeded(graph, seed: 3), branches: branches),
                      inputs: seededInputs(graph.graph.input.shape, count: 3))
        }
    }

    /// The pre-trained ResNet-44 on real CIFAR-10 images, without and with (seeded) exits: the
    /// final logits also match those of an independent runtime.
    @Test(.needsSharedData, .needsSwift, .needsCCompiler)
    func realResNet44() throws {
        let weightsPath = sharedData.appendingPathComponent("resnet44a.safetensors").path
        let graph = try example("resnet44a")
        let file = try SafetensorsFile.read(path: weightsPath)
        let images = try ImageBatch.readInputs(path: sharedData.appendingPathComponent("test_x_0_2999.npy").path,
                                               sampleShape: [3, 32, 32], normalization: .imageNet)
        let inputs = Array(images.prefix(4))
        let reference = try NPYArray.read(path: sharedData.appendingPathComponent("resnet44a_logits_0_2999.npy").path)
        guard case .float32(let referenceLogits) = reference.storage else { throw TestFailure("reference logits are not float32") }
        for branches in [0, 3] {
            let all = try check(try CompiledNetwork(graph, weights: file.tensors, branches: branches), inputs: inputs)
            for (s, sample) in all.enumerated() {
                let expected = Array(referenceLogits[(s * 10)..<((s + 1) * 10)])
                let scale = expected.map { abs($0) }.max() ?? 1
                let error = zip(expected, sample.logits[branches]).map { abs($0 - $1) }.max() ?? 0
                #expect(error / scale <= 1e-4, "sample \(s): Swift logits vs the independent runtime's")
            }
        }
    }

    /// Every example with 0 and 3 exits, as EquivalenceTests holds the C. Opt-in (two Swift
    /// builds per example, VGG-19's 160 MB of weights among them): EEC_SWIFT_ALL_EXAMPLES=1.
    @Test(.optIn("EEC_SWIFT_ALL_EXAMPLES"), .needsSwift, .needsCCompiler)
    func everyExample() throws {
        let cases: [(String, Set<OpKind>?)] = [("resnet20a", nil), ("resnet32", nil), ("resnet44a", nil), ("resnet110", nil),
                                               ("vgg19", [.maxpool]), ("densenet121", [.concat])]
        for (name, exitAfter) in cases {
            for branches in [0, 3] {
                let network = try CompiledNetwork(name, branches: branches, exitAfter: exitAfter)
                try check(network, inputs: seededInputs(network.reference.graph.graph.input.shape, count: 1))
            }
        }
    }

    /// Two generations of the same network give the same bytes, file for file.
    @Test func byteIdenticalGeneration() throws {
        let network = try CompiledNetwork("resnet20", branches: 3)
        let first = SwiftSource(try LoweredProgram(network.compiled, thresholds: [0.9, 0.8, 0.7])).files()
        let second = SwiftSource(try LoweredProgram(network.compiled, thresholds: [0.9, 0.8, 0.7])).files()
        #expect(first.map(\.path) == ["Package.swift", "Sources/Resnet20/Resnet20.swift", "Sources/Resnet20/Weights.swift",
                                          "Sources/Resnet20/Runtime.swift"])
        for (a, b) in zip(first, second) {
            let same = a.bytes == b.bytes  // a Bool, so a failure does not print both files
            #expect(same, "\(a.path)")
        }
        let model = String(decoding: first[1].bytes, as: UTF8.self)
        // Offsets are named once; calls use the names.
        #expect(model.contains("static let a_conv1 = "), "arena slots are named")
        #expect(!model.contains("Foundation"), "the package imports nothing")
    }

    /// Weights.swift holds each float's exact bit pattern.
    @Test func weightsAreExactBitPatterns() throws {
        let network = try CompiledNetwork("resnet20", branches: 0)
        let lowered = try LoweredProgram(network.compiled)
        let text = String(decoding: SwiftSource(lowered).weightsSource(), as: UTF8.self)
        guard let entry = lowered.weights.entries.first, let start = text.range(of: "eecDecodeHex(\"") else {
            throw TestFailure("no weights in Weights.swift")
        }
        let hex = text[start.upperBound...].prefix(8 * 4)
        let expected = lowered.weights.values[entry.offset..<(entry.offset + 4)].map { String(format: "%08x", $0.bitPattern) }.joined()
        #expect(String(hex) == expected)
    }

    /// Two builds of the same package at once (as two processes would start them) each build in
    /// a private folder and move it into place: both succeed, both run, and the cache holds the
    /// one folder, no staging leftovers.
    @Test(.needsSwift)
    func concurrentBuildsOfOnePackageDoNotCollide() throws {
        let swift = try swiftExecutable()
        let text = """
            model tiny
            input x: f32[1,3,6,6]
            conv = conv2d(x, out=8, kernel=3, pad=1)
            act = relu(conv)
            pool = global_avg_pool(act)
            flat = flatten(pool)
            linear = linear(flat, out=4)
            output linear

            """
        let graph = try parseGraph(text, name: "tiny.eeir")
        let network = try CompiledNetwork(graph, weights: WeightBinder.seeded(graph), branches: 0)
        let source = SwiftSource(try LoweredProgram(network.compiled))
        let cache = try temporary.folder()
        let results = Mutex<[Result<SwiftHarness, CodegenError>]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let built = Result { () throws(CodegenError) in try SwiftHarness(source, swift: swift, cacheRoot: cache) }
            results.withLock { $0.append(built) }
        }
        let input = seededInputs(graph.graph.input.shape, count: 1)
        let logits = try results.withLock { $0 }.map { try $0.get().runAll(input)[0].logits }
        #expect(logits.count == 2)
        #expect(logits.first == logits.last)
        let folders = try FileManager.default.contentsOfDirectory(atPath: cache)
        #expect(folders.count == 1, "\(folders)")
        #expect(!folders.contains { $0.contains(".tmp-") }, "\(folders)")
    }

    @discardableResult
    func check(_ network: CompiledNetwork, inputs: [Tensor], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> [CHarness.AllExits] {
        let swift = try swiftExecutable()
        let lowered = try LoweredProgram(network.compiled)
        let harness = try SwiftHarness(SwiftSource(lowered), swift: swift, cacheRoot: testCache)
        let all = try harness.runAll(inputs)
        let interpreter = try network.interpreter()
        let expected = inputs.map { interpreter.run($0) }
        let exits = lowered.exits.count
        let name = "\(lowered.model) with \(exits) exits (Swift)"
        assertRunAllMatches(all, expected, exits: exits, name: name, sourceLocation: sourceLocation)
        // The decisions at the same thresholds as the C backend's.
        let c = try CHarness(CSource(CProgram(lowered)), toolchain: try toolchain(), cacheRoot: testCache)
        var sets: [[Double]] = [Array(repeating: 0, count: exits), Array(repeating: 1, count: exits), Array(repeating: 0.5, count: exits)]
        for k in 0..<exits {
            var t = Array(repeating: 1.0, count: exits)
            t[k] = max(0, ExitRule.sigmoid(Double(expected[0].exits[k].confidence)) - 1e-3)
            sets.append(t)
        }
        for thresholds in exits == 0 ? [[]] : sets {
            let logits = thresholds.map(CSource.thresholdLogit)
            let (answers, _) = try harness.run(inputs, thresholdLogits: logits)
            let (cAnswers, _) = try c.run(inputs, thresholdLogits: logits)
            for (s, (answer, cAnswer)) in zip(answers, cAnswers).enumerated() {
                let z = expected[s].exits.map(\.confidence)
                let near = (0..<exits).contains { abs(ExitRule.sigmoid(Double(z[$0])) - thresholds[$0]) < 1e-5 }
                if !near {
                    #expect(answer.exitIndex == cAnswer.exitIndex, "\(name), sample \(s), T = \(thresholds): exit taken, Swift vs C", sourceLocation: sourceLocation)
                }
                if answer.exitIndex == cAnswer.exitIndex {
                    #expect(answer.macs == cAnswer.macs, "\(name), sample \(s): MACs, Swift vs C", sourceLocation: sourceLocation)
                    #expect(answer.classIndex == cAnswer.classIndex, "\(name), sample \(s): class, Swift vs C", sourceLocation: sourceLocation)
                }
                #expect(answer.logits == all[s].logits[answer.exitIndex], "\(name): run answers with run_all's classifier", sourceLocation: sourceLocation)
                #expect(answer.classIndex == argmax(answer.logits), sourceLocation: sourceLocation)
            }
        }
        return all
    }
}
