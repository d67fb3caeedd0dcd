import Foundation
import Testing
import IR
import Passes
import Codegen
import Quantize

/// An int8 network made the way `eec quantize` makes it: exits inserted, BatchNorm folded, ReLUs
/// fused, segments cut, min/max ranges from the float interpreter on `calibration` inputs.
struct Int8Network {
    var compiled: Model
    var program: IntegerProgram

    init(_ graph: VerifiedGraph, weights: [String: Tensor], branches: Int, block: ExitBlock = .pool,
         confidence: ExitConfidence = .softmax, calibration: [Tensor]) throws {
        let withExits = try InsertExits(branches: branches, block: block, confidence: confidence).run(Model(graph: graph, weights: weights))
        compiled = try PassPipeline.afterExits.run(withExits)
        let bound = try WeightBinder.bind(compiled.graph, tensors: compiled.weights, source: "test")
        let ranges = Calibration.interpret(compiled.graph, weights: bound, inputs: calibration, method: .minmax)
        program = try IntegerProgram(try Quantizer.quantize(compiled.graph, weights: bound, ranges: { ranges.range($0, method: .minmax) }))
    }

    func harness(flags: [String] = testFlags) throws -> CHarness {
        let source = CSource(try CProgram(try LoweredProgram(compiled, integer: program)))
        return try CHarness(source, toolchain: try CToolchain.find(), cacheRoot: testCache, flags: flags)
    }
}

let haveCompiler = (try? CToolchain.find()) != nil

/// The generated int8 C against the int8 interpreter: equal, not close — every logit, every
/// confidence, every exit decision.
struct Int8CodegenTests {
    static let tiny = """
    model tiny
    input x: f32[1,3,8,8]
    conv1 = conv2d(x, out=8, kernel=3, pad=1, bias=false)
    bn1 = batchnorm(conv1)
    relu1 = relu(bn1)
    c2 = conv2d(relu1, out=16, kernel=3, stride=2, pad=1)
    s = subsample(relu1, stride=2)
    p = channel_pad(s, before=4, after=4)
    sum = add(c2, p)
    r = relu(sum)
    mp = maxpool(r, kernel=2)
    ap = avgpool(r, kernel=3, stride=2, pad=1)
    cat = concat(mp, ap)
    c3 = conv2d(cat, out=8, kernel=1)
    g = global_avg_pool(c3)
    f = flatten(g)
    fc = linear(f, out=5)
    output fc

    """

    /// `-DEEC_NO_VNNI` checks the portable tiles where the host has AVX-512 VNNI (the default
    /// build then uses vpdpbusd), and changes nothing elsewhere.
    static func check(_ network: Int8Network, inputs: [Tensor], flags: [String] = testFlags) throws {
        let harness = try network.harness(flags: flags)
        let all = try harness.runAll(inputs)
        let interpreter = Int8Interpreter(network.program)
        let expected = inputs.map { interpreter.run($0) }
        let exits = network.compiled.graph.graph.exits.count
        #expect(all.count == inputs.count && exits > 0)
        for (s, (c, e)) in zip(all, expected).enumerated() {
            for k in 0..<exits {
                #expect(c.logits[k] == e.exits[k].logits.data, "sample \(s) exit \(k) logits")
                #expect(c.confidenceLogits[k].bitPattern == e.exits[k].confidence.bitPattern, "sample \(s) exit \(k) confidence")
            }
            #expect(c.logits[exits] == e.logits.data, "sample \(s) final logits")
        }
        guard exits > 0 else { return }
        // Early exits at thresholds between the samples' confidences: the same decisions.
        let confidences = expected.flatMap { $0.exits.map(\.confidence) }.sorted()
        for z in [confidences[confidences.count / 4], confidences[confidences.count / 2], -Float.greatestFiniteMagnitude] {
            let thresholds = [Float](repeating: z, count: exits)
            let (answers, _) = try harness.run(inputs, thresholdLogits: thresholds)
            #expect(answers.count == inputs.count)
            for (s, (answer, e)) in zip(answers, expected).enumerated() {
                let exit = e.exits.firstIndex { $0.confidence >= z } ?? exits
                let logits = exit < exits ? e.exits[exit].logits.data : e.logits.data
                #expect(answer.exitIndex == exit, "sample \(s) at \(z)")
                #expect(answer.logits == logits, "sample \(s) at \(z)")
                #expect(answer.classIndex == logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) })
            }
        }
    }

    @Test(.enabled(if: haveCompiler, "needs clang"))
    func everyInt8OpEqualsTheInterpreter() throws {
        let graph = try parseGraph(Self.tiny)
        let weights = WeightBinder.seeded(graph, seed: 5)
        for (block, confidence) in [(ExitBlock.pool, ExitConfidence.softmax), (.sdn, .head), (.conv(1), .softmax)] {
            let network = try Int8Network(graph, weights: weights, branches: 2, block: block, confidence: confidence,
                                          calibration: seededInputs([1, 3, 8, 8], count: 8))
            try Self.check(network, inputs: seededInputs([1, 3, 8, 8], count: 12, seed: 21))
        }
    }

    @Test(.enabled(if: haveCompiler, "needs clang"))
    func resnet20WithExitsEqualsTheInterpreter() throws {
        let graph = try example("resnet20")
        let network = try Int8Network(graph, weights: WeightBinder.seeded(graph), branches: 3, block: .sdn,
                                      calibration: seededInputs([1, 3, 32, 32], count: 4))
        try Self.check(network, inputs: seededInputs([1, 3, 32, 32], count: 4, seed: 3))
        try Self.check(network, inputs: seededInputs([1, 3, 32, 32], count: 4, seed: 3), flags: testFlags + ["-DEEC_NO_VNNI"])
    }

    /// The real ResNet-44 of ../shared with 3 `sdn` exits (seeded heads), calibrated on 8
    /// training images: the C equals the int8 interpreter on real test images.
    @Test(.needsSharedData, .enabled(if: haveCompiler, "needs clang"))
    func realResNet44WithExitsEqualsTheInterpreter() throws {
        let graph = try example("resnet44a")
        let weights = try SafetensorsFile.read(path: sharedData.appendingPathComponent("resnet44a.safetensors").path).tensors
        let norm = ImageBatch.Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
        func images(_ name: String, _ n: Int) throws -> [Tensor] {
            Array(try ImageBatch.readInputs(path: sharedData.appendingPathComponent(name).path, sampleShape: [3, 32, 32], normalization: norm).prefix(n))
        }
        let network = try Int8Network(graph, weights: weights, branches: 3, block: .sdn, calibration: try images("train_x_0_24999.npy", 8))
        try Self.check(network, inputs: try images("test_x_0_2999.npy", 12))
    }

    /// On an emulated Cortex-M4F (the SMLAD tiles): the same logits, exits and classes as the
    /// int8 interpreter, bit for bit, at thresholds that take each exit.
    @Test(.needsQEMU, .enabled(if: haveCompiler, "needs clang"))
    func cortexM4EqualsTheInterpreter() throws {
        let graph = try example("resnet20")
        let network = try Int8Network(graph, weights: WeightBinder.seeded(graph), branches: 3, block: .pool,
                                      calibration: seededInputs([1, 3, 32, 32], count: 4))
        let inputs = seededInputs([1, 3, 32, 32], count: 3, seed: 9)
        let expected = inputs.map { Int8Interpreter(network.program).run($0) }
        let exits = 3
        var sets: [[Float]] = [Array(repeating: .greatestFiniteMagnitude, count: exits)]
        for k in 0..<exits { sets.append((0..<exits).map { $0 == k ? -.greatestFiniteMagnitude : .greatestFiniteMagnitude }) }
        let source = CSource(try CProgram(try LoweredProgram(network.compiled, integer: network.program)))
        let firmware = try CortexM4Firmware(source, toolchain: try CToolchain.find(), cacheRoot: testCache)
        for set in sets {
            let device = try firmware.run(inputs, thresholdLogits: [set], qemu: try emulator())
            #expect(device.answers.count == inputs.count)
            for (s, (answer, e)) in zip(device.answers, expected).enumerated() {
                let exit = set.firstIndex { $0 < 0 } ?? exits
                #expect(answer.exitIndex == exit, "sample \(s)")
                #expect(answer.logits == (exit < exits ? e.exits[exit].logits.data : e.logits.data), "sample \(s) at exit \(exit)")
            }
        }
    }

    /// The generated int8 C is warning-free C99 under the strictest flags, with and without VNNI.
    @Test(.enabled(if: haveCompiler, "needs clang"))
    func int8CIsWarningFree() throws {
        let graph = try example("resnet20")
        let network = try Int8Network(graph, weights: WeightBinder.seeded(graph), branches: 3, block: .sdn,
                                      calibration: seededInputs([1, 3, 32, 32], count: 2))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eec-int8-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CSource(try CProgram(try LoweredProgram(network.compiled, integer: network.program))).write(to: dir)
        let tools = try CToolchain.find()
        let m4 = ["--target=thumbv7em-none-eabi", "-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
        for extra in [["-march=native"], ["-march=x86-64"], ["-DEEC_NO_VNNI", "-march=native"], m4, m4 + ["-DEEC_NO_DSP"]] {
            try tools.compile(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-ffreestanding", "-O2", "-c"] + extra
                              + ["resnet20.c", "resnet20_weights.c", "eec_runtime.c"], in: dir)
        }
    }
}
