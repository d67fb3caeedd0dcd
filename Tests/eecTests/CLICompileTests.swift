import Foundation
import Testing
import IR
@testable import eec

/// `eec compile` on ResNet-20 with three exits: the plan table, JSON, emitted IR and DOT, passes.
@Suite struct CLICompileTests {
    static let resnet20 = CLI.example("resnet20")

    /// The whitespace-separated cells of the table rows whose first cell is an exit index or "final".
    static func exitRows(_ table: String) -> [[String]] {
        table.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            .filter { cells in cells.count == 6 && (cells[0] == "final" || Int(cells[0]) != nil) }
    }

    @Test func planTable() throws {
        let r = CLI.run("compile", Self.resnet20, "--branches", "3")
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.err == "eec: note: no --weights given; using deterministic seeded weights (seed 0)\n", "\(r.transcript)")
        let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "resnet20: 3 exits (fine distribution, conv2 heads, eenets cost)")
        let rows = Self.exitRows(r.out)
        try #require(rows.count == 4, "\(r.out)")
        #expect(rows.map { $0[0] } == ["0", "1", "2", "final"])
        #expect(rows.map { $0[1] } == ["layer1.0", "layer1.1", "layer1.2", "linear"])
        // Prefix MACs grow; the final row has the whole backbone and no head.
        #expect(rows.map { $0[2] } == ["5,160,960", "9,879,552", "14,598,144", "40,813,184"])
        #expect(rows[3][3] == "0")
        #expect(rows[3][4] == "100.0%")
        #expect(rows.map { $0[4] } == ["24.5%", "36.1%", "47.8%", "100.0%"])
        #expect(lines.contains { $0.hasPrefix("backbone: 272,474 params, 40,813,184 MACs, 41,407,104 eenets; exit heads: ") })
        #expect(lines.contains { $0.hasPrefix("segments: seg0 x -> ") })
        let arena = try #require(lines.first { $0.hasPrefix("arena: ") })
        #expect(arena.hasSuffix("16-byte aligned)"), "\(arena)")
        #expect(arena.contains(" bytes (lower bound "))
    }

    @Test func noBranches() {
        let r = CLI.run("compile", Self.resnet20)
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.out.hasPrefix("resnet20: 0 exits\n"), "\(r.transcript)")
        #expect(Self.exitRows(r.out).map { $0[0] } == ["final"])
    }

    @Test func planJSON() throws {
        let r = CLI.run("compile", Self.resnet20, "--branches", "3", "--json")
        #expect(r.status == 0, "\(r.transcript)")
        let json = try CLI.jsonObject(r.out)
        let exits = try #require(json["exits"] as? [[String: Any]])
        try #require(exits.count == 3)
        #expect(exits.map { $0["index"] as? Int } == [0, 1, 2])
        #expect(exits.map { $0["after"] as? String } == ["layer1.0", "layer1.1", "layer1.2"])
        #expect(exits.map { $0["prefix_macs"] as? Int } == [5_160_960, 9_879_552, 14_598_144])
        for exit in exits {
            let head = try #require(exit["head_macs"] as? Int)
            #expect(head > 0)
            let rate = try #require(exit["cost_rate"] as? Double)
            #expect(rate > 0 && rate < 1)
        }
        let rates = exits.compactMap { $0["cost_rate"] as? Double }
        #expect(rates == rates.sorted())
        let arena = try #require(json["arena_bytes"] as? Int)
        let lower = try #require(json["arena_lower_bound_bytes"] as? Int)
        #expect(lower > 0)
        #expect(arena >= lower)
        #expect(arena % 16 == 0)
        if let noReuse = json["arena_no_reuse_bytes"] as? Int { #expect(noReuse >= arena) }
        #expect(json["backbone_macs"] as? Int == 40_813_184)
        // The JSON agrees with the table's arena line.
        let table = CLI.run("compile", Self.resnet20, "--branches", "3").out
        #expect(table.contains("arena: \(grouped(arena)) bytes (lower bound \(grouped(lower)), "))
    }

    @Test func costMacsChangesTheRates() throws {
        let eenets = try CLI.jsonObject(CLI.run("compile", Self.resnet20, "--branches", "3", "--json").out)
        let macs = try CLI.jsonObject(CLI.run("compile", Self.resnet20, "--branches", "3", "--json", "--cost", "macs").out)
        #expect(macs["cost"] as? String == "macs")
        let e = (eenets["exits"] as? [[String: Any]])?.compactMap { $0["cost_rate"] as? Double } ?? []
        let m = (macs["exits"] as? [[String: Any]])?.compactMap { $0["cost_rate"] as? Double } ?? []
        #expect(e.count == 3 && m.count == 3)
        #expect(e != m)
    }

    @Test func emitIRParsesBack() throws {
        let r = CLI.run("compile", Self.resnet20, "--branches", "3", "--emit", "ir")
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.out.contains("\nexit exits.0("))
        #expect(r.out.contains("\nsegment seg0("))
        #expect(r.out.contains("\nexit exits.2("))
        #expect(!r.out.contains("exit exits.3("))
        switch VerifiedGraph.load(SourceFile(name: "compiled.eeir", text: r.out)) {
        case .success(let (graph, warnings)):
            #expect(warnings.isEmpty, "\(warnings)")
            #expect(graph.graph.exits.count == 3)
            #expect(graph.graph.segments.count == 4)
            #expect(graph.graph.model == "resnet20")
            // Folded and fused: no BatchNorm or standalone ReLU left.
            #expect(!graph.graph.nodes.contains { $0.op == .batchnorm })
        case .failure(let diagnostics):
            Issue.record("compiled IR does not parse: \(diagnostics)")
        }
        // The emitted IR is in canonical form: fmt leaves it unchanged.
        let dir = try CLITempDir()
        defer { dir.remove() }
        let file = try dir.write("compiled.eeir", r.out)
        let fmt = CLI.run("fmt", file)
        #expect(fmt.status == 0)
        #expect(fmt.out == r.out)
        #expect(CLI.run("check", file).err.isEmpty)
    }

    @Test func emitIsDeterministic() {
        let a = CLI.run("compile", Self.resnet20, "--branches", "3", "--emit", "ir")
        let b = CLI.run("compile", Self.resnet20, "--branches", "3", "--emit", "ir")
        #expect(a.status == 0 && b.status == 0)
        #expect(Array(a.out.utf8) == Array(b.out.utf8))
        let j1 = CLI.run("compile", Self.resnet20, "--branches", "3", "--json")
        let j2 = CLI.run("compile", Self.resnet20, "--branches", "3", "--json")
        #expect(j1.out == j2.out)
    }

    @Test func emitToFile() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let out = dir.path("c.eeir")
        let r = CLI.run("compile", Self.resnet20, "--branches", "2", "--emit", "ir", "-o", out)
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.out.isEmpty)
        let text = try dir.read("c.eeir")
        #expect(text == CLI.run("compile", Self.resnet20, "--branches", "2", "--emit", "ir").out)
    }

    @Test func emitDot() {
        let r = CLI.run("compile", Self.resnet20, "--branches", "3", "--emit", "dot")
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.out.hasPrefix("digraph"))
        #expect(r.out.contains("cluster"))
        #expect(r.out.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("}"))
    }

    @Test func printAfterFoldBatchNorm() throws {
        let r = CLI.run("compile", Self.resnet20, "--branches", "3", "--print-after", "fold-batchnorm")
        #expect(r.status == 0, "\(r.transcript)")
        // stdout is the usual plan; the IR dump goes to stderr.
        #expect(r.out == CLI.run("compile", Self.resnet20, "--branches", "3").out)
        #expect(r.err.contains("IR after fold-batchnorm"))
        #expect(!r.err.contains("IR after insert-exits"))
        #expect(!r.err.contains("IR after fuse-relu"))
        #expect(r.err.contains("\nmodel resnet20\n"))
        #expect(r.err.contains("exit exits.0("))
        #expect(!r.err.contains("batchnorm("))
        // Not yet fused, not yet segmented.
        #expect(r.err.contains(" = relu("))
        #expect(!r.err.contains("segment seg0("))
    }

    @Test func printAfterAll() {
        let r = CLI.run("compile", Self.resnet20, "--branches", "1", "--print-after-all")
        #expect(r.status == 0, "\(r.transcript)")
        for pass in ["insert-exits", "fold-batchnorm", "fuse-relu", "segment"] {
            #expect(r.err.contains("IR after \(pass)"), "\(pass)")
        }
    }

    @Test func printAfterUnknownPass() {
        let r = CLI.run("compile", Self.resnet20, "--branches", "3", "--print-after", "nosuchpass")
        #expect(r.status == 2, "\(r.transcript)")
        #expect(r.out.isEmpty)
        // Rejected before any work: no seeded-weights note first; the passes are --print-after's values.
        #expect(r.err.hasPrefix("eec compile: error: option '--print-after' expects one of insert-exits, fold-batchnorm, fuse-relu, segment, found 'nosuchpass'\n"),
                "\(r.transcript)")
    }

    @Test func tooManyBranches() {
        let r = CLI.run("compile", Self.resnet20, "--branches", "50")
        #expect(r.status == 1, "\(r.transcript)")
        #expect(r.out.isEmpty)
        #expect(r.err.contains("\(Self.resnet20): error: only 9 of 50 exits fit"), "\(r.transcript)")
        #expect(r.err.contains("ask for fewer branches"))
    }

    /// A backbone-only weights file (as `eec import` writes, or a state_dict): the exit heads it
    /// lacks are seeded, with a note, and the backbone's tensors come from the file.
    @Test func backboneOnlyWeightsGetSeededHeads() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let graph = try #require(try? VerifiedGraph.load(path: Self.resnet20).get().0)
        var tensors = WeightBinder.seeded(graph, seed: 9)
        let weights = dir.path("backbone.safetensors")
        try SafetensorsFile.write(tensors: tensors, to: weights)
        let r = CLI.run("compile", Self.resnet20, "--weights", weights, "--branches", "3", "--emit", "ir")
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.err.contains("\(weights): note: 42 exit-head tensors are not in the file and are seeded (seed 0)"), "\(r.transcript)")
        #expect(!r.err.contains("warning"), "\(r.transcript)")
        // The file's backbone weights are used: different ones give a different network.
        let other = dir.path("other.safetensors")
        try SafetensorsFile.write(tensors: WeightBinder.seeded(graph, seed: 10), to: other)
        let again = CLI.run("compile", Self.resnet20, "--weights", other, "--branches", "3", "--emit", "c", "-o", dir.path("c2"))
        let first = CLI.run("compile", Self.resnet20, "--weights", weights, "--branches", "3", "--emit", "c", "-o", dir.path("c1"))
        #expect(first.status == 0 && again.status == 0, "\(first.transcript)\n\(again.transcript)")
        let w1 = FileManager.default.contents(atPath: dir.path("c1/resnet20_weights.c"))
        let w2 = FileManager.default.contents(atPath: dir.path("c2/resnet20_weights.c"))
        #expect(w1 != nil && w1 != w2)
        // A missing backbone tensor is still an error naming it.
        tensors["conv1.weight"] = nil
        try SafetensorsFile.write(tensors: tensors, to: weights)
        let missing = CLI.run("compile", Self.resnet20, "--weights", weights, "--branches", "3")
        #expect(missing.status == 1)
        #expect(missing.err.contains("missing tensor 'conv1.weight'"), "\(missing.transcript)")
    }

    @Test func listPasses() {
        let r = CLI.run("compile", "--list-passes")
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.err.isEmpty)
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines.map { $0.split(separator: " ").first.map(String.init) } == ["insert-exits", "fold-batchnorm", "fuse-relu", "segment"])
        #expect(lines.allSatisfy { $0.count > 20 })  // each with a summary
    }

    @Test(arguments: ["pareto", "golden", "linear", "quadratic"])
    func otherDistributions(distribution: String) throws {
        let r = CLI.run("compile", Self.resnet20, "--branches", "2", "--distribution", distribution, "--json")
        #expect(r.status == 0, "\(r.transcript)")
        let json = try CLI.jsonObject(r.out)
        #expect(json["distribution"] as? String == distribution)
        #expect((json["exits"] as? [Any])?.count == 2)
    }

    @Test(arguments: ["pool", "bnpool", "plain", "conv1", "conv3"])
    func otherExitBlocks(block: String) throws {
        let r = CLI.run("compile", Self.resnet20, "--branches", "2", "--exit-block", block, "--emit", "ir")
        #expect(r.status == 0, "\(r.transcript)")
        if case .failure(let diagnostics) = VerifiedGraph.load(SourceFile(name: "\(block).eeir", text: r.out)) {
            Issue.record("\(block): compiled IR does not parse: \(diagnostics)")
        }
    }
}
