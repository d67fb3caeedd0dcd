import Foundation
import Testing
import IR
import Passes
import Codegen
import Runtime

/// The generated C as firmware on an emulated Cortex-M4F (QEMU's mps2-an386): the same answers
/// as the host build, a deterministic instruction count, the footprint. Skipped, visibly, when
/// qemu-system-arm is not installed (`.ci/run` installs it). Serialized: the QEMU runs are long,
/// and several tests build the same firmware, which concurrent builds would replace under a
/// running emulator.
@Suite(.serialized)
struct CortexM4DeviceTests {
    /// A threshold logit that switches an exit off, and one that always takes it.
    static let off = Float.greatestFiniteMagnitude
    static let always = -Float.greatestFiniteMagnitude

    /// Every kernel variant of the backend, compiled for the M4 and run there.
    @Test(.needsQEMU, .needsCCompiler)
    func everyOpMatchesTheHost() throws {
        let qemu = try emulator()
        let graph = try allOpsGraph()
        let model = try PassPipeline.afterExits.run(Model(graph: graph, weights: WeightBinder.seeded(graph)))
        let inputs = seededInputs(graph.graph.input.shape, count: 3)
        try compare(model, inputs: inputs, thresholdSets: [[]], qemu: qemu)
    }

    /// ResNet-20 with 3 exits: a threshold set that sends each sample to a given exit (every exit
    /// and the final classifier), and the usual shared threshold.
    @Test(.needsQEMU, .needsCCompiler)
    func resNet20WithExitsMatchesTheHost() throws {
        let qemu = try emulator()
        let network = try CompiledNetwork("resnet20", branches: 3)
        let inputs = seededInputs([1, 3, 32, 32], count: 5)
        let forced = (0...3).map { k in (0..<3).map { $0 < k ? Self.off : $0 == k ? Self.always : Self.off } }
        let shared = [Float](repeating: CSource.thresholdLogit(0.6), count: 3)
        let answers = try compare(network.compiled, inputs: inputs, thresholdSets: forced + [shared], qemu: qemu)
        #expect(answers.prefix(4).map(\.exitIndex) == [0, 1, 2, 3], "each sample leaves at the exit it was sent to")
    }

    /// The count is the same on every run, and a path that stops earlier runs fewer instructions.
    @Test(.needsQEMU, .needsCCompiler)
    func instructionCountsAreDeterministic() throws {
        let qemu = try emulator()
        let network = try CompiledNetwork("resnet20", branches: 3)
        let firmware = try CortexM4Firmware(CSource(try CProgram(network.compiled)), toolchain: try toolchain(), cacheRoot: testCache)
        let input = seededInputs([1, 3, 32, 32], count: 1)[0]
        let paths = (0...3).map { k in (0..<3).map { $0 == k ? Self.always : Self.off } }
        let first = try firmware.run(Array(repeating: input, count: 4), thresholdLogits: paths, qemu: qemu)
        let second = try firmware.run(Array(repeating: input, count: 4), thresholdLogits: paths, qemu: qemu)
        #expect(first.answers.map(\.instructions) == second.answers.map(\.instructions))
        let counts = first.answers.map(\.instructions)
        #expect(counts == counts.sorted(), "a later exit costs more instructions: \(counts)")
        #expect(counts[0] > 1_000_000)
        #expect(first.stackBytesUsed > 0)
        #expect(first.stackBytesUsed < first.stackBytes)
        let footprint = try firmware.footprint()
        #expect(try footprint.weights == CProgram(network.compiled).weightCount * 4)
        #expect(footprint.networkText > 1000)
        #expect(footprint.bss >= footprint.arena)
    }

    /// Counts past the 32-bit timer: a build whose timer wraps every million ticks (about 330,000
    /// instructions) counts what the usual build counts, plus the wrap interrupts' few instructions.
    @Test(.needsQEMU, .needsCCompiler)
    func timerWrapsAreCounted() throws {
        let qemu = try emulator()
        let network = try CompiledNetwork("resnet20", branches: 3)
        let source = CSource(try CProgram(network.compiled))
        let input = seededInputs([1, 3, 32, 32], count: 1)
        let exitZero = [[Self.always, Self.off, Self.off]]
        let usual = try CortexM4Firmware(source, toolchain: try toolchain(), cacheRoot: testCache).run(input, thresholdLogits: exitZero, qemu: qemu)
        let wrapping = try CortexM4Firmware(source, toolchain: try toolchain(), cacheRoot: testCache,
                                            flags: CortexM4Firmware.defaultFlags + ["-DEEC_TIMER_RELOAD=0xFFFFFu"])
            .run(input, thresholdLogits: exitZero, qemu: qemu)
        let (a, b) = (usual.answers[0].instructions, wrapping.answers[0].instructions)
        #expect(b > a, "the wrap interrupts ran")
        #expect(b - a < a / 1000, "\(a) instructions, \(b) with the timer wrapping every 2^20 ticks")
    }

    /// ResNet-110's 7 MB of weights cannot fit the board's 4 MB: said before anything compiles.
    @Test(.needsCCompiler)
    func weightsTooLargeForTheBoard() throws {
        let graph = try example("resnet110")
        let model = try PassPipeline.afterExits.run(Model(graph: graph, weights: WeightBinder.seeded(graph)))
        if let error = #expect(throws: (any Error).self, performing: { try CortexM4Firmware(CSource(try CProgram(model)), toolchain: try toolchain(), cacheRoot: testCache) }) {
            #expect("\(error)".contains("bytes of weights do not fit the 4 MB of code memory"), "\(error)")
        }
    }

    /// A missing emulator is an error that says how to install it, not a crash.
    @Test func missingEmulatorSaysHowToInstallIt() {
        if let error = #expect(throws: (any Error).self, performing: { try QEMU.find(environment: ["PATH": "/nonexistent"]) }) {
            #expect("\(error)".contains("apt-get install qemu-system-arm"), "\(error)")
        }
        if let error = #expect(throws: (any Error).self, performing: { try QEMU.find(environment: ["EEC_QEMU": "/nonexistent/qemu"]) }) {
            #expect("\(error)".contains("apt-get install qemu-system-arm"), "\(error)")
        }
    }

    /// Runs `inputs` on the device (sample s with threshold set s, or the one set for all) and on
    /// the host, one set at a time there; every class, exit and MAC count equal, logits within
    /// 1e-4 of the largest (the two compilers may contract multiply-adds differently).
    @discardableResult
    func compare(_ model: Model, inputs: [Tensor], thresholdSets: [[Float]], qemu: QEMU,
                 sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> [CortexM4Firmware.Answer] {
        let tools = try toolchain()
        let source = CSource(try CProgram(model))
        let device = try CortexM4Firmware(source, toolchain: tools, cacheRoot: testCache).run(inputs, thresholdLogits: thresholdSets, qemu: qemu)
        let host = try CHarness(source, toolchain: tools, cacheRoot: testCache, flags: testFlags)
        #expect(device.answers.count == inputs.count, sourceLocation: sourceLocation)
        for (s, answer) in device.answers.enumerated() {
            let set = thresholdSets.count == 1 ? thresholdSets[0] : thresholdSets[s]
            let expected = try host.run([inputs[s]], thresholdLogits: set).answers[0]
            #expect(answer.classIndex == expected.classIndex, "sample \(s): class", sourceLocation: sourceLocation)
            #expect(answer.exitIndex == expected.exitIndex, "sample \(s): exit", sourceLocation: sourceLocation)
            #expect(answer.macs == expected.macs, "sample \(s): MACs", sourceLocation: sourceLocation)
            let scale = max(1, expected.logits.map(abs).max() ?? 0)
            for (a, b) in zip(answer.logits, expected.logits) {
                #expect(abs(a - b) <= 1e-4 * scale, "sample \(s): logits \(answer.logits) against the host's \(expected.logits)", sourceLocation: sourceLocation)
            }
            #expect(answer.instructions > 0, sourceLocation: sourceLocation)
        }
        return device.answers
    }
}
