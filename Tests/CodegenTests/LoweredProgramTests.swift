import Testing
import IR
import Passes
import Codegen

/// The backend-neutral lowering: every example lowers, its arena slots, weight slices and MACs
/// are consistent, and the C backend prints exactly its decisions (offsets, MACs, kernels).
struct LoweredProgramTests {
    static let examples = ["resnet20", "resnet20a", "resnet32", "resnet44a", "resnet110", "vgg19", "densenet121"]

    func networks() throws -> [CompiledNetwork] {
        var networks: [CompiledNetwork] = []
        for name in Self.examples {
            for branches in [0, 3] { networks.append(try CompiledNetwork(name, branches: branches)) }
        }
        let graph = try allOpsGraph()
        networks.append(try CompiledNetwork(graph, weights: WeightBinder.seeded(graph), branches: 2))
        return networks
    }

    @Test func everyExampleLowers() throws {
        for network in try networks() {
            let g = network.compiled.graph
            let program = try LoweredProgram(network.compiled)
            let name = "\(program.model) with \(program.exits.count) exits"
            #expect(program.segments.count == g.graph.segments.count, "\(name)")
            #expect(program.exits.count == g.graph.exits.count, "\(name)")
            #expect(program.steps.map(\.id) == program.steps.indices.map { $0 % 2 == 0 ? .segment($0 / 2) : .head($0 / 2) }, "\(name)")
            // Each call's MACs are the cost model's, so each step's are the sum over its nodes.
            let index = g.graph.nodeIndex()
            for step in program.steps {
                for call in step.calls {
                    let node = try #require(index[call.node].map { g.graph.nodes[$0] }, "\(name)")
                    #expect(call.macs == g.cost(node).macs, "\(name): \(call.node)")
                    #expect(call.inputs == node.inputs, "\(name): \(call.node)")
                }
            }
            checkArena(program, name)
            checkWeights(program, name)
        }
    }

    /// Every slot a call reads or writes exists, lies inside the memory plan's bytes, and is
    /// written before it is read; the scratch window comes after the plan.
    func checkArena(_ program: LoweredProgram, _ name: String) {
        let arena = program.arena
        #expect(arena.slots.first?.name == program.input, "\(name)")
        var written: Set<String> = [program.input]
        for step in program.steps {
            for call in step.calls {
                for input in call.inputs { #expect(written.contains(input), "\(name): \(call.node) reads \(input) before it is written") }
                written.insert(call.output)
            }
        }
        #expect(Set(arena.slots.map(\.name)) == written, "\(name)")
        for slot in arena.slots {
            #expect(slot.offset * 4 % arena.alignment == 0, "\(name): \(slot.name)")
            #expect((slot.offset + slot.count) * 4 <= arena.planBytes, "\(name): \(slot.name)")
        }
        #expect(arena.scratchOffset >= arena.planBytes, "\(name)")
        #expect(arena.bytes >= arena.scratchOffset, "\(name)")
        #expect(arena.bytes % arena.alignment == 0, "\(name)")
    }

    /// The calls' weight slices are the blob's entries, in order, aligned, without overlap.
    func checkWeights(_ program: LoweredProgram, _ name: String) {
        let slices = program.segments.flatMap { $0.calls.flatMap(\.weights) } + program.exits.flatMap { $0.head.calls.flatMap(\.weights) }
        #expect(slices == program.weights.entries, "\(name)")
        var end = 0
        for entry in program.weights.entries {
            #expect(entry.offset % 16 == 0, "\(name): \(entry.name)")
            #expect(entry.offset >= end, "\(name): \(entry.name)")
            end = entry.offset + entry.count
        }
        #expect(end <= program.weights.values.count, "\(name)")
        #expect(program.weights.values.count % 16 == 0, "\(name)")
    }

    /// The C backend's offsets, MACs and kernels are the lowered program's.
    @Test func cProgramPrintsTheLoweredDecisions() throws {
        let graph = try allOpsGraph()
        for network in [try CompiledNetwork("resnet20", branches: 3),
                        try CompiledNetwork(graph, weights: WeightBinder.seeded(graph), branches: 2)] {
            let c = try CProgram(network.compiled, thresholds: nil, alignment: 64)
            let lowered = c.lowered
            #expect(c.kernelNames.count == lowered.kernelCount)
            #expect(c.backboneMacs == lowered.backboneMacs)
            #expect(c.segments.map(\.macs) == lowered.segments.map(\.macs))
            #expect(c.exits.map(\.head.macs) == lowered.exits.map(\.head.macs))
            #expect(try c.exits.map(\.logitsOffset) == lowered.exits.map { try lowered.location(of: $0.logits).offset })
            #expect(try c.exits.map(\.confidenceOffset) == lowered.exits.map { try lowered.location(of: $0.confidence).offset })
            #expect(try c.inputOffset == lowered.location(of: lowered.input).offset)
            #expect(try c.finalLogitsOffset == lowered.location(of: lowered.output).offset)
            #expect(c.arenaBytes == lowered.arena.bytes)
            #expect(c.weightValues == lowered.weights.values)
            let cCalls = c.segments.flatMap(\.calls) + c.exits.flatMap(\.head.calls)
            let calls = lowered.segments.flatMap(\.calls) + lowered.exits.flatMap(\.head.calls)
            #expect(cCalls.map(\.node) == calls.map(\.node))
            #expect(cCalls.map(\.macs) == calls.map(\.macs))
            #expect(cCalls.map(\.comment) == calls.map(\.description))
            #expect(cCalls.map(\.arguments.count) == calls.map { $0.inputs.count + 1 + $0.weights.count + ($0.usesScratch ? 1 : 0) })
            // Each arena slot named in <model>.c (`a_conv1 = 4096, /* conv1 [1,16,32,32] */`) has the lowered offset.
            var named = 0
            for line in CSource(c).source().components(separatedBy: "\n") where line.hasPrefix("    a_") && line.contains(" [") {
                let parts = line.split(separator: " ")
                guard parts.count >= 5, let offset = Int(parts[2].dropLast()) else { continue }
                #expect(try offset == lowered.location(of: String(parts[4])).offset, "\(line)")
                named += 1
            }
            #expect(named == lowered.arena.slots.count)
        }
    }

    /// What the lowering refuses is what the C backend refuses.
    @Test func loweringErrors() throws {
        let network = try CompiledNetwork("resnet20", branches: 3)
        if let error = #expect(throws: (any Error).self, performing: { try LoweredProgram(network.compiled, thresholds: [0.5]) }) {
            #expect("\(error)" == "error: 1 threshold given for 3 exits")
        }
        if let error = #expect(throws: (any Error).self, performing: { try LoweredProgram(network.compiled, keepAlive: ["nope"]) }) {
            #expect("\(error)".contains("'nope' is no tensor"), "\(error)")
        }
    }
}
