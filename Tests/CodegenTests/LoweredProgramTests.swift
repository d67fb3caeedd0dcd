import XCTest
import IR
import Passes
import Codegen

/// The backend-neutral lowering: every example lowers, its arena slots, weight slices and MACs
/// are consistent, and the C backend prints exactly its decisions (offsets, MACs, kernels).
final class LoweredProgramTests: XCTestCase {
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

    func testEveryExampleLowers() throws {
        for network in try networks() {
            let g = network.compiled.graph
            let program = try LoweredProgram(network.compiled)
            let name = "\(program.model) with \(program.exits.count) exits"
            XCTAssertEqual(program.segments.count, g.graph.segments.count, name)
            XCTAssertEqual(program.exits.count, g.graph.exits.count, name)
            XCTAssertEqual(program.steps.map(\.id), program.steps.indices.map { $0 % 2 == 0 ? .segment($0 / 2) : .head($0 / 2) }, name)
            // Each call's MACs are the cost model's, so each step's are the sum over its nodes.
            let index = g.graph.nodeIndex()
            for step in program.steps {
                for call in step.calls {
                    let node = try XCTUnwrap(index[call.node].map { g.graph.nodes[$0] }, name)
                    XCTAssertEqual(call.macs, g.cost(node).macs, "\(name): \(call.node)")
                    XCTAssertEqual(call.inputs, node.inputs, "\(name): \(call.node)")
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
        XCTAssertEqual(arena.slots.first?.name, program.input, name)
        var written: Set<String> = [program.input]
        for step in program.steps {
            for call in step.calls {
                for input in call.inputs { XCTAssertTrue(written.contains(input), "\(name): \(call.node) reads \(input) before it is written") }
                written.insert(call.output)
            }
        }
        XCTAssertEqual(Set(arena.slots.map(\.name)), written, name)
        for slot in arena.slots {
            XCTAssertEqual(slot.offset * 4 % arena.alignment, 0, "\(name): \(slot.name)")
            XCTAssertLessThanOrEqual((slot.offset + slot.count) * 4, arena.planBytes, "\(name): \(slot.name)")
        }
        XCTAssertGreaterThanOrEqual(arena.scratchOffset, arena.planBytes, name)
        XCTAssertGreaterThanOrEqual(arena.bytes, arena.scratchOffset, name)
        XCTAssertEqual(arena.bytes % arena.alignment, 0, name)
    }

    /// The calls' weight slices are the blob's entries, in order, aligned, without overlap.
    func checkWeights(_ program: LoweredProgram, _ name: String) {
        let slices = program.segments.flatMap { $0.calls.flatMap(\.weights) } + program.exits.flatMap { $0.head.calls.flatMap(\.weights) }
        XCTAssertEqual(slices, program.weights.entries, name)
        var end = 0
        for entry in program.weights.entries {
            XCTAssertEqual(entry.offset % 16, 0, "\(name): \(entry.name)")
            XCTAssertGreaterThanOrEqual(entry.offset, end, "\(name): \(entry.name)")
            end = entry.offset + entry.count
        }
        XCTAssertLessThanOrEqual(end, program.weights.values.count, name)
        XCTAssertEqual(program.weights.values.count % 16, 0, name)
    }

    /// The C backend's offsets, MACs and kernels are the lowered program's.
    func testCProgramPrintsTheLoweredDecisions() throws {
        let graph = try allOpsGraph()
        for network in [try CompiledNetwork("resnet20", branches: 3),
                        try CompiledNetwork(graph, weights: WeightBinder.seeded(graph), branches: 2)] {
            let c = try CProgram(network.compiled, thresholds: nil, alignment: 64)
            let lowered = c.lowered
            XCTAssertEqual(c.kernelNames.count, lowered.kernelCount)
            XCTAssertEqual(c.backboneMacs, lowered.backboneMacs)
            XCTAssertEqual(c.segments.map(\.macs), lowered.segments.map(\.macs))
            XCTAssertEqual(c.exits.map(\.head.macs), lowered.exits.map(\.head.macs))
            XCTAssertEqual(c.exits.map(\.logitsOffset), try lowered.exits.map { try lowered.location(of: $0.logits).offset })
            XCTAssertEqual(c.exits.map(\.confidenceOffset), try lowered.exits.map { try lowered.location(of: $0.confidence).offset })
            XCTAssertEqual(c.inputOffset, try lowered.location(of: lowered.input).offset)
            XCTAssertEqual(c.finalLogitsOffset, try lowered.location(of: lowered.output).offset)
            XCTAssertEqual(c.arenaBytes, lowered.arena.bytes)
            XCTAssertEqual(c.weightValues, lowered.weights.values)
            let cCalls = c.segments.flatMap(\.calls) + c.exits.flatMap(\.head.calls)
            let calls = lowered.segments.flatMap(\.calls) + lowered.exits.flatMap(\.head.calls)
            XCTAssertEqual(cCalls.map(\.node), calls.map(\.node))
            XCTAssertEqual(cCalls.map(\.macs), calls.map(\.macs))
            XCTAssertEqual(cCalls.map(\.comment), calls.map(\.description))
            XCTAssertEqual(cCalls.map(\.arguments.count), calls.map { $0.inputs.count + 1 + $0.weights.count + ($0.usesScratch ? 1 : 0) })
            // Each arena slot named in <model>.c (`a_conv1 = 4096, /* conv1 [1,16,32,32] */`) has the lowered offset.
            var named = 0
            for line in CSource(c).source().components(separatedBy: "\n") where line.hasPrefix("    a_") && line.contains(" [") {
                let parts = line.split(separator: " ")
                guard parts.count >= 5, let offset = Int(parts[2].dropLast()) else { continue }
                XCTAssertEqual(offset, try lowered.location(of: String(parts[4])).offset, line)
                named += 1
            }
            XCTAssertEqual(named, lowered.arena.slots.count)
        }
    }

    /// What the lowering refuses is what the C backend refuses.
    func testLoweringErrors() throws {
        let network = try CompiledNetwork("resnet20", branches: 3)
        XCTAssertThrowsError(try LoweredProgram(network.compiled, thresholds: [0.5])) { error in
            XCTAssertEqual("\(error)", "error: 1 threshold given for 3 exits")
        }
        XCTAssertThrowsError(try LoweredProgram(network.compiled, keepAlive: ["nope"])) { error in
            XCTAssertTrue("\(error)".contains("'nope' is no tensor"), "\(error)")
        }
    }
}
