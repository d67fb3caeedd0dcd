import Foundation
import Testing
import IR
import Passes
import Codegen

/// The harness's dump mode (`CHarness.dump`), which fills the feature cache of `eec train`:
/// chosen tensors of every sample, against the reference interpreter run on the same compiled
/// graph (BatchNorm folded, ReLUs fused, so every dumped name exists there), each within 1e-4
/// of its largest |value|; samples in order whatever the batching; ordinary programs unchanged.
struct FeatureDumpTests {
    let temporary = TemporaryFolders()

    /// ResNet-20 with three exits, and the every-op graph (odd, non-square shapes) with two.
    func networks() throws -> [CompiledNetwork] {
        let graph = try allOpsGraph()
        return [try CompiledNetwork("resnet20", branches: 3),
                try CompiledNetwork(graph, weights: WeightBinder.seeded(graph, seed: 3), branches: 2)]
    }

    /// What training reads: each exit's attach tensor (`[1,C,H,W]`) and its classifier's input
    /// (the flatten output, `[1,F]`).
    func trainingTensors(_ graph: Graph) -> (attach: [String], classifierInputs: [String]) {
        let index = graph.nodeIndex()
        let attach = graph.exits.indices.map { graph.segments[$0].output }
        let inputs = graph.exits.compactMap { exit in index[exit.classifier].flatMap { graph.nodes[$0].inputs.first } }
        return (attach, inputs)
    }

    /// Tensors whose last reader comes before the end of the step writing them, and whose memory
    /// the ordinary plan hands to a later node of that same step: without keepAlive the harness
    /// would copy another tensor's values. At most `limit`, the earliest first.
    func overwrittenInTheirStep(_ program: CProgram, _ g: VerifiedGraph, limit: Int) throws -> [String] {
        let graph = g.graph
        let index = graph.nodeIndex()
        let plan = MemoryPlan(g, alignment: program.alignment)
        var found: [String] = []
        for buffer in plan.buffers where found.count < limit {
            let step = try program.location(of: buffer.name).step
            let calls: [CProgram.Call]
            switch step {
            case .segment(let k): calls = program.segments[k].calls
            case .head(let k): calls = program.exits[k].head.calls
            }
            guard let last = calls.last.flatMap({ index[$0.node] }) else { continue }
            let end = last + 1
            let reused = plan.buffers.contains { other in
                other.firstStep > buffer.lastStep && other.firstStep <= end
                    && other.offset < buffer.offset + buffer.bytes && buffer.offset < other.offset + other.bytes
            }
            if buffer.lastStep < end && reused { found.append(buffer.name) }
        }
        return found
    }

    /// Attach tensors, classifier inputs, tensors overwritten within their step, and the final
    /// logits, each sample against the interpreter within 1e-4 of the tensor's largest |value|.
    @Test(.needsCCompiler)
    func dumpMatchesTheInterpreter() throws {
        for network in try networks() { try checkDump(network, flags: testFlags, samples: 3) }
    }

    /// The every-op graph under AddressSanitizer and UBSan: the copies stay inside the arena
    /// (the harness allocates exactly ARENA_BYTES) and the record.
    @Test(.needsCCompiler, .needsSanitizers)
    func dumpUnderSanitizers() throws {
        try checkDump(try networks()[1], flags: sanitizerFlags, samples: 2)
    }

    func checkDump(_ network: CompiledNetwork, flags: [String], samples: Int, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let tools = try toolchain()
        let g = network.compiled.graph
        let (attach, classifierInputs) = trainingTensors(g.graph)
        let plain = try CProgram(network.compiled)
        let dying = try overwrittenInTheirStep(plain, g, limit: 4)
        #expect(!dying.isEmpty, "\(g.graph.model): no tensor is overwritten within its step; the test would not need keepAlive", sourceLocation: sourceLocation)
        let names = attach + classifierInputs + dying
        let harness = try CHarness(dumping: names, of: network.compiled, toolchain: tools, cacheRoot: testCache, flags: flags)
        #expect(harness.dumped.map { $0.shape.count } == attach.map { _ in 4 } + classifierInputs.map { _ in 2 } + dying.map { g.shape($0).count }, sourceLocation: sourceLocation)
        if flags == testFlags {
            // A dump build has its own cache folder.
            let normal = try CHarness(CSource(plain), toolchain: tools, cacheRoot: testCache, flags: flags)
            #expect(harness.directory != normal.directory, sourceLocation: sourceLocation)
        }

        let inputs = seededInputs(g.graph.input.shape, count: samples)
        let interpreter = Interpreter(g, weights: try WeightBinder.bind(g, tensors: network.compiled.weights, source: "test"), keep: Set(names))
        var seen: [Int] = []
        try harness.dump(inputs, tensors: names) { tensors, logits, s in
            seen.append(s)
            let expected = interpreter.run(inputs[s])
            for (name, values) in zip(names, tensors) {
                assertClose(values, expected.kept[name]?.data ?? [], "\(g.graph.model), sample \(s), \(name)", sourceLocation: sourceLocation)
            }
            assertClose(logits, expected.logits.data, "\(g.graph.model), sample \(s), final logits", sourceLocation: sourceLocation)
        }
        #expect(seen == Array(inputs.indices), sourceLocation: sourceLocation)
    }

    /// Two processes on batches of two: samples come back in order, progress after each batch,
    /// and the values are those of one process on one batch, bit for bit; `tensors` may pick and
    /// reorder what the harness dumps.
    @Test(.needsCCompiler)
    func samplesComeBackInOrder() throws {
        let tools = try toolchain()
        let network = try CompiledNetwork("resnet20", branches: 3)
        let g = network.compiled.graph
        let (attach, classifierInputs) = trainingTensors(g.graph)
        let names = attach + classifierInputs
        let harness = try CHarness(dumping: names, of: network.compiled, toolchain: tools, cacheRoot: testCache, flags: testFlags)
        let inputs = seededInputs(g.graph.input.shape, count: 5, seed: 19)
        var single: [([[Float]], [Float])] = []
        try harness.dump(inputs, tensors: names, processes: 1, batch: 5) { tensors, logits, _ in single.append((tensors, logits)) }
        var order: [Int] = [], progress: [Int] = []
        var split: [([[Float]], [Float])] = []
        try harness.dump(inputs, tensors: names.reversed(), processes: 2, batch: 2, progress: { progress.append($0) }) { tensors, logits, s in
            order.append(s)
            split.append((tensors.reversed(), logits))
        }
        #expect(order == [0, 1, 2, 3, 4])
        #expect(progress == [2, 4, 5])
        #expect(split.count == single.count)
        for (a, b) in zip(split, single) {
            #expect(a.0 == b.0)
            #expect(a.1 == b.1)
        }
        var none = 0
        try harness.dump([], tensors: names) { _, _, _ in none += 1 }
        #expect(none == 0)
    }

    /// An ordinary compile is unchanged: no keepAlive is the default, and keeping alive tensors
    /// that already outlive their step (attach tensors, which the next segment reads; logits)
    /// moves no offset, so not one byte of the generated C changes.
    @Test func ordinaryProgramsAreUnchanged() throws {
        for network in try networks() {
            let graph = network.compiled.graph.graph
            let plain = CSource(try CProgram(network.compiled))
            let outliving = Set(trainingTensors(graph).attach + graph.exits.map(\.classifier) + [graph.output.name])
            for other in [CSource(try CProgram(network.compiled, keepAlive: [])), CSource(try CProgram(network.compiled, keepAlive: outliving))] {
                #expect(plain.source() == other.source())
                #expect(plain.header() == other.header())
            }
        }
    }

    /// Names that are no tensor of the compiled graph, or not kept alive, or not dumped, are
    /// refused with the name in the message (before anything is compiled).
    @Test(.needsCCompiler)
    func badNamesAreRefused() throws {
        let network = try CompiledNetwork("resnet20", branches: 3)
        let graph = network.compiled.graph.graph
        // A ReLU of the reference graph, fused into its producer by the passes.
        let fused = try #require(network.reference.graph.graph.nodes.first { $0.op == .relu }?.name)
        if let error = #expect(throws: (any Error).self, performing: { try CProgram(network.compiled, keepAlive: [fused]) }) {
            #expect("\(error)".contains("'\(fused)'") && "\(error)".contains("fused"), "\(error)")
        }
        let plain = try CProgram(network.compiled)
        #expect(throws: (any Error).self) { try plain.location(of: fused) }
        let attach = graph.segments[0].output
        #expect(try plain.location(of: attach).step == .segment(0))
        #expect(try plain.location(of: graph.exits[1].classifier).step == .head(1))
        #expect(try plain.location(of: graph.input.name).step == .segment(0))
        let nowhere = CToolchain(compiler: "/nonexistent/cc")
        if let error = #expect(throws: (any Error).self, performing: { try CHarness(CSource(plain), toolchain: nowhere, cacheRoot: testCache, dumping: [attach]) }) {
            #expect("\(error)".contains("not kept alive"), "\(error)")
        }
        let harness = try CHarness(dumping: [attach], of: network.compiled, toolchain: try toolchain(), cacheRoot: testCache, flags: testFlags)
        let other = graph.segments[1].output
        if let error = #expect(throws: (any Error).self, performing: { try harness.dump(seededInputs(graph.input.shape, count: 1), tensors: [other]) { _, _, _ in } }) {
            #expect("\(error)".contains("'\(other)'"), "\(error)")
        }
    }

    /// A harness that dies is reported with its stderr, and the dump neither hangs nor leaves
    /// the others running (here every harness fails: its weights file is gone).
    @Test(.needsCCompiler)
    func aFailingHarnessIsReported() throws {
        let network = try networks()[1]
        let graph = network.compiled.graph.graph
        let names = trainingTensors(graph).attach
        let harness = try CHarness(dumping: names, of: network.compiled, toolchain: try toolchain(),
                                   cacheRoot: try temporary.folder(), flags: testFlags)
        try FileManager.default.removeItem(atPath: (harness.directory as NSString).appendingPathComponent("weights.bin"))
        var consumed = 0
        if let error = #expect(throws: (any Error).self, performing: { try harness.dump(seededInputs(graph.input.shape, count: 4), tensors: names, processes: 2) { _, _, _ in consumed += 1 } }) {
            #expect("\(error)".contains("cannot open"), "\(error)")
        }
        #expect(consumed == 0)
    }

    /// Not a check: the speed of dumping the 22 exit candidates of the real ResNet-44 (the stem
    /// and every block) for 1,000 training images, with `EEC_DUMP_BENCH=1`. 21 of them hold
    /// exits (the most that fit), whose heads run too, as `eec train` would run them.
    @Test(.optIn("EEC_DUMP_BENCH", value: "1"), .needsSharedData, .needsCCompiler)
    func realResNet44DumpSpeed() throws {
        let weightsPath = sharedData.appendingPathComponent("resnet44a.safetensors").path
        let graph = try example("resnet44a")
        let file = try SafetensorsFile.read(path: weightsPath)
        let network = try CompiledNetwork(graph, weights: file.tensors, branches: 21)
        let compiled = network.compiled.graph
        let names = ExitCandidates.find(compiled).map { compiled.graph.nodes[$0].name }
        #expect(names.count == 22)
        #expect(Set(trainingTensors(compiled.graph).attach).isSubset(of: names))
        let images = try ImageBatch.readInputs(path: sharedData.appendingPathComponent("train_x_0_24999.npy").path,
                                               sampleShape: [3, 32, 32], normalization: .imageNet)
        let inputs = Array(images.prefix(1000))
        let started = Date()
        let harness = try CHarness(dumping: names, of: network.compiled, toolchain: try toolchain(), cacheRoot: testCache)
        let built = Date()
        var floats = 0
        let ns = try harness.dump(inputs, tensors: names) { tensors, _, _ in floats += tensors.reduce(0) { $0 + $1.count } }
        let seconds = Date().timeIntervalSince(built)
        print(String(format: "dump: build %.1f s; %d samples in %.2f s = %.0f samples/s (%.2f ms/sample in the harness, 2 processes); %.1f MB per sample",
                     built.timeIntervalSince(started), inputs.count, seconds, Double(inputs.count) / seconds, ns / 1e6,
                     Double(floats) * 4 / Double(inputs.count) / 1e6))
    }
}

/// `got` within 1e-4 of `want`'s largest |value|, every value finite (a NaN means the harness
/// copied poisoned memory).
private func assertClose(_ got: [Float], _ want: [Float], _ what: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(got.count == want.count, "\(what): count", sourceLocation: sourceLocation)
    #expect(got.allSatisfy { $0.isFinite }, "\(what): not finite", sourceLocation: sourceLocation)
    let scale = max(Float.leastNormalMagnitude, want.map { abs($0) }.max() ?? 0)
    let error = zip(got, want).map { abs($0 - $1) }.max() ?? 0
    #expect(error / scale <= 1e-4, "\(what): error \(error) of \(scale)", sourceLocation: sourceLocation)
}
