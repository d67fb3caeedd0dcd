import Foundation
import Testing
import IR
@testable import eec

/// `eec stats`: the totals of every example, the JSON schema, the table.
@Suite struct CLIStatsTests {
    struct Expected: Sendable, CustomTestStringConvertible {
        var name: String
        var params: Int
        /// Exact MACs, or nil when only `approxMACs` is checked.
        var macs: Int?
        var eenets: Int?
        /// The commonly quoted figure, checked to within 0.1 %.
        var approxMACs: Double?
        var testDescription: String { name }
    }

    static let expected: [Expected] = [
        Expected(name: "resnet20", params: 272_474, macs: 40_813_184, eenets: 41_407_104),
        Expected(name: "resnet20a", params: 269_722, macs: 40_551_040, eenets: 41_120_384),
        Expected(name: "resnet32", params: 466_906, macs: 69_124_736, eenets: 70_062_720),
        Expected(name: "resnet44a", params: 658_586, macs: 97_174_144, eenets: 98_431_616),
        Expected(name: "resnet110", params: 1_730_714, macs: 253_149_824, eenets: 256_324_224),
        Expected(name: "vgg19", params: 20_040_522, approxMACs: 398.14e6),
        Expected(name: "densenet121", params: 6_956_298, approxMACs: 888.35e6),
    ]

    @Test func everyExampleHasExpectations() {
        #expect(Set(Self.expected.map(\.name)) == Set(CLI.exampleNames))
    }

    @Test(arguments: expected)
    func jsonTotals(expected: Expected) throws {
        let r = CLI.run("stats", CLI.example(expected.name), "--json")
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.err.isEmpty)
        let json = try CLI.jsonObject(r.out)

        #expect(json["model"] as? String == expected.name)
        let params = try #require(json["params"] as? Int)
        let macs = try #require(json["macs"] as? Int)
        let eenets = try #require(json["eenets"] as? Int)
        let flops = try #require(json["flops"] as? Int)
        #expect(params == expected.params)
        if let exact = expected.macs { #expect(macs == exact) }
        if let exact = expected.eenets { #expect(eenets == exact) }
        if let approx = expected.approxMACs {
            #expect(abs(Double(macs) - approx) / approx < 0.001, "\(expected.name): \(macs) MACs vs \(approx)")
        }
        #expect(flops == 2 * macs)
        #expect(eenets >= macs)
        #expect(json["cost"] as? String == "eenets")

        // nodes: one object per node with name, op, shape, params, macs, in graph order.
        let nodes = try #require(json["nodes"] as? [[String: Any]])
        let graph = try CLIStatsTests.load(expected.name)
        #expect(nodes.count == graph.graph.nodes.count)
        var paramSum = 0, macSum = 0
        for (node, object) in zip(graph.graph.nodes, nodes) {
            #expect(object["name"] as? String == node.name)
            #expect(object["op"] as? String == node.op.name)
            #expect(object["shape"] as? [Int] == graph.shape(node.name), "\(node.name)")
            let p = try #require(object["params"] as? Int, "\(node.name) params")
            let m = try #require(object["macs"] as? Int, "\(node.name) macs")
            #expect(p >= 0 && m >= 0)
            paramSum += p
            macSum += m
        }
        #expect(paramSum == params)
        #expect(macSum == macs)
        // The share is cumulative and ends at 1 on the output.
        let shares = nodes.compactMap { $0["share"] as? Double }
        #expect(shares.count == nodes.count)
        #expect(zip(shares, shares.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(shares.last == 1.0)
    }

    static func load(_ name: String) throws -> VerifiedGraph {
        switch VerifiedGraph.load(path: CLI.example(name)) {
        case .success(let (graph, _)): return graph
        case .failure(let failure): throw InputError(message: failure.message)
        }
    }

    @Test func jsonOfASmallGraphExactly() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let file = try dir.write("small.eeir", """
            model small
            input x: f32[1,2,4,4]
            conv = conv2d(x, out=3, kernel=3, pad=1)
            relu = relu(conv)
            pool = global_avg_pool(relu)
            f = flatten(pool)
            fc = linear(f, out=5)
            output fc

            """)
        let r = CLI.run("stats", file, "--json", "--cost", "macs")
        #expect(r.status == 0, "\(r.transcript)")
        let json = try CLI.jsonObject(r.out)
        // conv: 3*3*2*3 weights + 3 bias = 57 params; 54*16 + 3*16 = 912 MACs. linear: 15 + 5 params, 15 MACs.
        #expect(json["params"] as? Int == 77)
        #expect(json["macs"] as? Int == 927)
        #expect(json["cost"] as? String == "macs")
        let nodes = try #require(json["nodes"] as? [[String: Any]])
        #expect(nodes.map { $0["name"] as? String } == ["conv", "relu", "pool", "f", "fc"])
        #expect(nodes.map { $0["op"] as? String } == ["conv2d", "relu", "global_avg_pool", "flatten", "linear"])
        #expect(nodes.map { $0["shape"] as? [Int] } == [[1, 3, 4, 4], [1, 3, 4, 4], [1, 3, 1, 1], [1, 3], [1, 5]])
        #expect(nodes.map { $0["params"] as? Int } == [57, 0, 0, 0, 20])
        #expect(nodes.map { $0["macs"] as? Int } == [912, 0, 0, 0, 15])
        // eenets: conv 912, relu 48, pool 48 (its input), linear 15.
        #expect(nodes.map { $0["eenets"] as? Int } == [912, 48, 48, 0, 15])
        #expect(json["eenets"] as? Int == 1023)
    }

    @Test func tableHasTheTotalsLine() {
        let r = CLI.run("stats", CLI.example("resnet20"))
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.err.isEmpty)
        let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first?.hasPrefix("node ") == true)
        #expect(lines.first?.hasSuffix("cum. eenets") == true)
        #expect(lines.contains("resnet20: 272,474 params, 40,813,184 MACs (40.81M; 81,626,368 FLOPs), 41,407,104 eenets"),
                "\(r.out.suffix(300))")
        // One row per node, between the rule and the blank line before the totals.
        #expect(lines.filter { $0.hasPrefix("layer1.0.conv1 ") }.count == 1)
        let conv1 = lines.first { $0.hasPrefix("conv1 ") } ?? ""
        #expect(conv1.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                == ["conv1", "conv2d", "[1,16,32,32]", "432", "442,368", "1.1%"], "\(conv1)")
    }

    @Test func costMacsChangesTheShareColumn() {
        let eenets = CLI.run("stats", CLI.example("resnet20"))
        let macs = CLI.run("stats", CLI.example("resnet20"), "--cost", "macs")
        #expect(macs.status == 0)
        func column(_ text: String, _ node: String) -> String? {
            text.split(separator: "\n").first { $0.hasPrefix(node + " ") }.flatMap { $0.split(separator: " ").last.map(String.init) }
        }
        #expect(macs.out.split(separator: "\n").first?.hasSuffix("cum. MACs") == true)
        #expect(eenets.out.split(separator: "\n").first?.hasSuffix("cum. eenets") == true)
        // After the stem conv: 442,368 / 40,813,184 MACs; 442,368 / 41,407,104 eenets.
        #expect(column(macs.out, "conv1") == "1.1%")
        // After relu1: MACs stay, eenets add 2 x 16384 (BN) + 16384 (ReLU).
        #expect(column(macs.out, "relu1") == "1.1%")
        #expect(column(eenets.out, "relu1") == "1.2%")
        // Somewhere the share columns differ, and both end at 100 %.
        let differing = ["bn1", "relu1", "layer1.0.relu1", "layer1.2", "layer2.0", "layer3.2"].filter {
            column(macs.out, $0) != column(eenets.out, $0)
        }
        #expect(!differing.isEmpty)
        #expect(column(macs.out, "linear") == "100.0%")
        // The totals line is the same in both conventions.
        #expect(macs.out.split(separator: "\n").last == eenets.out.split(separator: "\n").last)
    }

    @Test func costMacsInJSON() throws {
        let json = try CLI.jsonObject(CLI.run("stats", CLI.example("resnet20"), "--json", "--cost=macs").out)
        #expect(json["cost"] as? String == "macs")
        let nodes = try #require(json["nodes"] as? [[String: Any]])
        let relu1 = try #require(nodes.first { $0["name"] as? String == "relu1" })
        let share = try #require(relu1["share"] as? Double)
        #expect(abs(share - 442_368.0 / 40_813_184.0) < 1e-6)
    }
}
