import Testing
import IR
import Passes
import Codegen

/// Generated C diffs locally: calls name arena slots and weight offsets (`a + a_conv1`,
/// `w + w_conv1_weight`) defined once near the top of `<model>.c`, so inserting one node into
/// ResNet-20 changes a handful of call-site lines although it moves the offsets of many calls.
struct DiffableOutputTests {
    /// ResNet-20 with a 1×1 convolution (weights, an arena slot) inserted in layer2.1.
    static func editedResNet20() throws -> VerifiedGraph {
        let path = packageRoot.appendingPathComponent("examples/resnet20.eeir").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let relu = "layer2.1.relu1 = relu(layer2.1.bn1)\n"
        #expect(text.contains(relu) && text.contains("conv2d(layer2.1.relu1,"), "resnet20.eeir changed: update this test")
        let edited = text
            .replacingOccurrences(of: "conv2d(layer2.1.relu1,", with: "conv2d(layer2.1.mix,")
            .replacingOccurrences(of: relu, with: relu + "layer2.1.mix = conv2d(layer2.1.relu1, out=32, kernel=1)\n")
        return try parseGraph(edited, name: "resnet20-edited.eeir")
    }

    @Test func oneInsertedNodeGivesALocalDiff() throws {
        let original = try example("resnet20")
        let edited = try Self.editedResNet20()
        let before = try CProgram(try CompiledNetwork(original, weights: WeightBinder.seeded(original), branches: 3).compiled)
        let after = try CProgram(try CompiledNetwork(edited, weights: WeightBinder.seeded(edited), branches: 3).compiled)

        // The edit moves offsets: with numbers in the calls, many call lines would change.
        let moved = movedCalls(before.lowered, after.lowered)
        #expect(moved > 20, "the edit should move the offsets of many calls")

        // With names, the call sites (node functions, steps, the model) change only around the
        // new node: its function (comment, 4 lines, blank), its line in its segment, the call of
        // the convolution that now reads it, and its segment's MACs (comment and table).
        let (removed, added) = lineDiff(callSites(CSource(before).source()), callSites(CSource(after).source()))
        #expect(removed.count <= 3, "removed: \(removed)")
        #expect(added.count <= 10, "added: \(added)")
        #expect(added.contains { $0.contains("a + a_layer2_1_mix") }, "added: \(added)")
    }

    /// Calls of nodes in both programs whose arena or weight offsets differ.
    func movedCalls(_ a: LoweredProgram, _ b: LoweredProgram) -> Int {
        func offsets(_ p: LoweredProgram) -> [String: [Int]] {
            var byNode: [String: [Int]] = [:]
            for call in p.steps.flatMap(\.calls) {
                let slots = (call.inputs + [call.output]).map { p.arena.slot($0)?.offset ?? -1 }
                byNode[call.node] = slots + call.weights.map(\.offset)
            }
            return byNode
        }
        let (x, y) = (offsets(a), offsets(b))
        return x.filter { node, values in y[node].map { $0 != values } ?? false }.count
    }

    /// The lines of `<model>.c` from the node functions to the end: everything that calls.
    func callSites(_ source: String) -> [String] {
        let lines = source.components(separatedBy: "\n")
        let start = lines.firstIndex { $0.hasPrefix("/* ---- nodes:") } ?? 0
        return Array(lines[start...])
    }

    /// Lines only in `a`, and lines only in `b`, by a longest common subsequence.
    func lineDiff(_ a: [String], _ b: [String]) -> (removed: [String], added: [String]) {
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var (i, j) = (0, 0)
        var removed: [String] = [], added: [String] = []
        while i < a.count || j < b.count {
            if i < a.count && j < b.count && a[i] == b[j] {
                i += 1; j += 1
            } else if j < b.count && (i == a.count || lcs[i][j + 1] >= lcs[i + 1][j]) {
                added.append(b[j]); j += 1
            } else {
                removed.append(a[i]); i += 1
            }
        }
        return (removed, added)
    }
}
