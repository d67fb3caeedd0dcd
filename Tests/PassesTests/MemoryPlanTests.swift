import Foundation
import IR
import Testing
@testable import Passes

/// The examples compiled as `eec compile` does (insert-exits, fold-batchnorm, fuse-relu, segment),
/// with seeded weights. VGG-19 and DenseNet-121 take their exits where the reference code does.
enum CompiledExamples {
    static let names = ["resnet20", "resnet20a", "resnet32", "resnet44a", "resnet110", "vgg19", "densenet121"]

    static func candidateOps(_ name: String) -> Set<OpKind>? {
        switch name {
        case "vgg19": return [.maxpool]
        case "densenet121": return [.concat]
        default: return nil
        }
    }

    struct Setup: Sendable, CustomTestStringConvertible {
        var example: String
        var branches: Int
        var testDescription: String { "\(example), \(branches) exits" }
    }

    /// Every example with 0 and with 3 exits.
    static let setups = names.flatMap { name in [0, 3].map { Setup(example: name, branches: $0) } }

    static func compile(_ name: String, branches: Int, block: ExitBlock = .conv(2),
                        distribution: Distribution = .fine) throws -> Model {
        let insert = InsertExits(branches: branches, distribution: distribution, block: block, candidateOps: candidateOps(name))
        return try PassPipeline.inserting(insert).run(seededModel(try example(name)))
    }
}

/// The memory planner (`MemoryPlan`): one arena, greedy by size over the segmented schedule.
struct MemoryPlanTests {
    /// Each value's live range computed here independently of the planner: from the step that
    /// writes it to the last step that reads it; exit logits to the end of their head; the
    /// network input from step 0; the output to the last step.
    static func liveRanges(_ g: VerifiedGraph) -> [String: ClosedRange<Int>] {
        let graph = g.graph
        var first = [graph.input.name: 0], last = [graph.input.name: 0]
        for (i, node) in graph.nodes.enumerated() {
            first[node.name] = i + 1
            last[node.name] = i + 1
            for input in node.inputs { last[input] = i + 1 }  // nodes are in order: the last reader wins
        }
        let index = graph.nodeIndex()
        for exit in graph.exits {
            let head = graph.ancestors(of: [exit.classifier, exit.confidence])
            let backbone = graph.backbone()
            let end = graph.nodes.indices.filter { head[$0] && !backbone[$0] }.max()! + 1
            for name in [exit.classifier, exit.confidence] { last[name] = max(last[name]!, end, index[name]! + 1) }
        }
        last[graph.output.name] = graph.nodes.count
        return first.reduce(into: [:]) { $0[$1.key] = $1.value...last[$1.key]! }
    }

    /// Every property a plan must have, on any graph.
    static func check(_ plan: MemoryPlan, _ g: VerifiedGraph, alignment: Int = 16,
                      sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let graph = g.graph
        // One buffer per value, of the value's size rounded up to the alignment.
        #expect(plan.buffers.map(\.name) == [graph.input.name] + graph.nodes.map(\.name), sourceLocation: sourceLocation)
        #expect(plan.alignment == alignment, sourceLocation: sourceLocation)
        let live = liveRanges(g)
        for b in plan.buffers {
            let bytes = elementCount(g.shape(b.name)) * 4
            #expect(b.bytes >= bytes && b.bytes < bytes + alignment && b.bytes % alignment == 0, "\(b.name): \(b.bytes) bytes for \(bytes)",
                    sourceLocation: sourceLocation)
            #expect(b.offset % alignment == 0, "\(b.name) at offset \(b.offset)", sourceLocation: sourceLocation)
            #expect(b.offset >= 0 && b.offset + b.bytes <= plan.arenaBytes, "\(b.name) outside the arena", sourceLocation: sourceLocation)
            // The planner's live range covers the one derived here.
            let needed = live[b.name]!
            #expect(b.firstStep <= needed.lowerBound && b.lastStep >= needed.upperBound,
                    "\(b.name) planned live \(b.firstStep)...\(b.lastStep), needed \(needed)", sourceLocation: sourceLocation)
        }
        // No two buffers live at the same step share a byte (all pairs).
        var clashes: [String] = []
        for i in plan.buffers.indices {
            let a = plan.buffers[i]
            for j in plan.buffers.indices where j > i {
                let b = plan.buffers[j]
                let together = a.firstStep <= b.lastStep && b.firstStep <= a.lastStep
                let overlap = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes
                if together && overlap { clashes.append("\(a.name) [\(a.offset), +\(a.bytes)) and \(b.name) [\(b.offset), +\(b.bytes))") }
            }
        }
        #expect(clashes.isEmpty, "\(clashes.count) overlapping live buffers: \(clashes.prefix(5))", sourceLocation: sourceLocation)
        // The bounds are consistent: no plan beats the most bytes live at one step.
        var liveBytes = [Int](repeating: 0, count: graph.nodes.count + 1)
        for b in plan.buffers { for s in b.firstStep...b.lastStep { liveBytes[s] += b.bytes } }
        #expect(plan.lowerBoundBytes == liveBytes.max(), sourceLocation: sourceLocation)
        #expect(plan.lowerBoundBytes <= plan.arenaBytes && plan.arenaBytes <= plan.noReuseBytes, sourceLocation: sourceLocation)
        #expect(plan.noReuseBytes == plan.buffers.reduce(0) { $0 + $1.bytes }, sourceLocation: sourceLocation)
    }

    static func same(_ a: MemoryPlan, _ b: MemoryPlan) -> Bool {
        a.arenaBytes == b.arenaBytes && a.lowerBoundBytes == b.lowerBoundBytes && a.noReuseBytes == b.noReuseBytes
            && a.buffers.map { "\($0.name) \($0.bytes) \($0.offset) \($0.firstStep) \($0.lastStep)" }
            == b.buffers.map { "\($0.name) \($0.bytes) \($0.offset) \($0.firstStep) \($0.lastStep)" }
    }

    @Test(arguments: CompiledExamples.setups)
    func planIsValidAndTight(_ s: CompiledExamples.Setup) throws {
        let g = try CompiledExamples.compile(s.example, branches: s.branches).graph
        #expect(g.graph.exits.count == s.branches)
        let plan = MemoryPlan(g)
        Self.check(plan, g)
        #expect(Double(plan.arenaBytes) <= 1.1 * Double(plan.lowerBoundBytes),
                "arena \(plan.arenaBytes) vs lower bound \(plan.lowerBoundBytes)")
        // Deterministic: planned again, and planned from the printed-and-parsed graph.
        #expect(Self.same(plan, MemoryPlan(g)))
        #expect(Self.same(plan, MemoryPlan(try parse(Printer.print(g.graph)))))
    }

    /// Each exit head runs right after its segment, while the backbone tensor it reads is live:
    /// the head's nodes come after the attach node and before the next backbone node, and the
    /// attach tensor stays live through the whole head (the next segment still needs it).
    @Test(arguments: CompiledExamples.names)
    func exitHeadsRunWhileTheirAttachTensorIsLive(_ name: String) throws {
        let g = try CompiledExamples.compile(name, branches: 3).graph
        let graph = g.graph
        let plan = MemoryPlan(g)
        let buffers = Dictionary(uniqueKeysWithValues: plan.buffers.map { ($0.name, $0) })
        let backbone = graph.backbone()
        try #require(graph.segments.count == 4)
        for (k, exit) in graph.exits.enumerated() {
            let members = graph.ancestors(of: [exit.classifier, exit.confidence])
            let head = graph.nodes.indices.filter { members[$0] && !backbone[$0] }
            let attach = try #require(graph.nodes.indices.last { members[$0] && backbone[$0] })
            #expect(graph.nodes[attach].name == graph.segments[k].output)
            let nextBackbone = try #require(graph.nodes.indices.first { $0 > attach && backbone[$0] })
            #expect(head.allSatisfy { $0 > attach && $0 < nextBackbone }, "\(exit.name) head is not between \(graph.nodes[attach].name) and the next segment")
            let headEnd = head.max()! + 1
            let attachBuffer = try #require(buffers[graph.nodes[attach].name])
            #expect(attachBuffer.lastStep >= headEnd, "\(exit.name): \(attachBuffer.name) dies at step \(attachBuffer.lastStep), head ends at \(headEnd)")
            // The exit's outputs are still there when the head ends, for the exit decision.
            for name in [exit.classifier, exit.confidence] { #expect(buffers[name]!.lastStep >= headEnd) }
        }
    }

    @Test(arguments: [4, 64, 256])
    func offsetsFollowTheAlignment(_ alignment: Int) throws {
        let g = try CompiledExamples.compile("resnet20", branches: 3).graph
        let plan = MemoryPlan(g, alignment: alignment)
        Self.check(plan, g, alignment: alignment)
    }

    /// The numbers `eec compile examples/resnet20.eeir --branches 3` prints (README).
    @Test func resnet20WithThreeExitsMatchesTheReadme() throws {
        let plan = MemoryPlan(try CompiledExamples.compile("resnet20", branches: 3).graph)
        #expect(plan.arenaBytes == 196_608)
        #expect(plan.lowerBoundBytes == 196_608)
        #expect(plan.noReuseBytes == 1_553_520)
    }

    // MARK: - A plan checked by hand

    static let tiny = """
        model plan
        input x: f32[1,1,4,4]
        a = conv2d(x, out=2, kernel=1)
        b = relu(a)
        c = maxpool(b, kernel=2)
        e.pool = global_avg_pool(c)
        e.flat = flatten(e.pool)
        e.fc = linear(e.flat, out=3)
        e.conf = linear(e.flat, out=1)
        exit e(classifier=e.fc, confidence=e.conf)
        d = flatten(c)
        fc = linear(d, out=3)
        output fc
        """

    /// Sizes (16-byte aligned): x 64, a 128, b 128, c 32, d 32, and 16 for each of e.pool (8 B),
    /// e.flat (8), e.fc (12), e.conf (4), fc (12). Live steps (step i + 1 runs node i):
    ///   x 0–1, a 1–2, b 2–3, c 3–8 (read by the head and by d), e.pool 4–5, e.flat 5–7,
    ///   e.fc 6–7 and e.conf 7–7 (exit logits live to the end of the head, step 7), d 8–9, fc 9–9.
    /// Greedy by size, ties by first step: a, b, x, c, d, e.pool, e.flat, e.fc, e.conf, fc:
    ///   a → 0; b overlaps a → 128; x overlaps a only → 128; c overlaps b only → 0;
    ///   d overlaps c → 32; e.pool overlaps c → 32; e.flat overlaps c, e.pool → 48;
    ///   e.fc overlaps c, e.flat → 32 (fits in [32, 48)); e.conf overlaps c, e.fc, e.flat → 64;
    ///   fc overlaps d → 0.
    /// Arena 256 (a and b at step 2: also the lower bound); no reuse 464.
    @Test func tinyPlanByHand() throws {
        let g = try parse(Self.tiny)
        let plan = MemoryPlan(g)
        let expected: [(String, Int, Int, Int, Int)] = [
            // name, bytes, offset, first step, last step
            ("x", 64, 128, 0, 1),
            ("a", 128, 0, 1, 2),
            ("b", 128, 128, 2, 3),
            ("c", 32, 0, 3, 8),
            ("e.pool", 16, 32, 4, 5),
            ("e.flat", 16, 48, 5, 7),
            ("e.fc", 16, 32, 6, 7),
            ("e.conf", 16, 64, 7, 7),
            ("d", 32, 32, 8, 9),
            ("fc", 16, 0, 9, 9),
        ]
        #expect(plan.buffers.map(\.name) == expected.map(\.0))
        for (buffer, e) in zip(plan.buffers, expected) {
            #expect(buffer.bytes == e.1 && buffer.offset == e.2 && buffer.firstStep == e.3 && buffer.lastStep == e.4,
                    "\(buffer.name): \(buffer.bytes) B at \(buffer.offset), steps \(buffer.firstStep)–\(buffer.lastStep)")
        }
        #expect(plan.arenaBytes == 256)
        #expect(plan.lowerBoundBytes == 256)
        #expect(plan.noReuseBytes == 464)
        Self.check(plan, g)

        // With 4-byte alignment the head's small tensors shrink: e.pool 8, e.flat 8, e.fc 12, e.conf 4, fc 12.
        let packed = MemoryPlan(g, alignment: 4)
        Self.check(packed, g, alignment: 4)
        #expect(packed.buffers.map(\.bytes) == [64, 128, 128, 32, 8, 8, 12, 4, 32, 12])
        #expect(packed.arenaBytes == 256)
    }
}
