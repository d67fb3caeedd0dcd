import Foundation
import IR
import Testing
@testable import Passes

/// The segment pass and the verifier's segment rules, and the exit cost report against the
/// figures of the EENets reference code.
struct SegmentAndCostTests {
    // MARK: - Segments of the compiled examples

    /// Segments chain graph input → exit 0's attach point → … → exit N−1's attach point → output;
    /// every backbone node is in exactly one segment; each segment is a cut (its backbone nodes read
    /// nothing from before it but its input) — checked here, independently of the verifier.
    @Test(arguments: CompiledExamples.setups)
    func segmentsChainThroughTheAttachPointsAndAreCuts(_ s: CompiledExamples.Setup) throws {
        let graph = try CompiledExamples.compile(s.example, branches: s.branches).graph.graph
        let index = graph.nodeIndex()
        let backbone = graph.backbone()
        let attach = try graph.exits.map { exit in
            let members = graph.ancestors(of: [exit.classifier, exit.confidence])
            return graph.nodes[try #require(graph.nodes.indices.last { members[$0] && backbone[$0] })].name
        }
        #expect(graph.segments.map(\.name) == (0...s.branches).map { "seg\($0)" })
        #expect(graph.segments.map(\.input) == [graph.input.name] + attach)
        #expect(graph.segments.map(\.output) == attach + [graph.output.name])

        var owner = [Int?](repeating: nil, count: graph.nodes.count)
        var start = 0
        for (k, segment) in graph.segments.enumerated() {
            let end = try #require(index[segment.output])
            #expect(end >= start, "\(segment.name) ends before it starts")
            for i in start...end where backbone[i] {
                owner[i] = k
                for input in graph.nodes[i].inputs where input != segment.input {
                    let j = try #require(index[input], "\(graph.nodes[i].name) reads \(input)")
                    #expect(j >= start && j < i, "\(segment.name) is not a cut: \(graph.nodes[i].name) reads \(input)")
                }
            }
            start = end + 1
        }
        let orphans = graph.nodes.indices.filter { backbone[$0] && owner[$0] == nil }.map { graph.nodes[$0].name }
        #expect(orphans.isEmpty, "backbone nodes in no segment: \(orphans)")
        // Exit k's head reads the output of segment k and nothing else of the backbone.
        for (k, exit) in graph.exits.enumerated() {
            let members = graph.ancestors(of: [exit.classifier, exit.confidence])
            let reads = Set(graph.nodes.indices.filter { members[$0] && !backbone[$0] }.flatMap { graph.nodes[$0].inputs })
                .filter { index[$0].map { backbone[$0] } ?? true }
            #expect(reads == [graph.segments[k].output], "\(exit.name) reads \(reads.sorted())")
        }
    }

    @Test func segmentRefusesExitsOutOfOrder() throws {
        // Exit `late` is listed first but attaches after exit `early`.
        let g = try parse("""
            model m
            input x: f32[1,3,8,8]
            a = conv2d(x, out=4, kernel=3, pad=1)
            early.pool = global_avg_pool(a)
            early.flat = flatten(early.pool)
            early.fc = linear(early.flat, out=10)
            early.conf = linear(early.flat, out=1)
            b = relu(a)
            late.pool = global_avg_pool(b)
            late.flat = flatten(late.pool)
            late.fc = linear(late.flat, out=10)
            late.conf = linear(late.flat, out=1)
            exit late(classifier=late.fc, confidence=late.conf)
            exit early(classifier=early.fc, confidence=early.conf)
            pool = global_avg_pool(b)
            flat = flatten(pool)
            fc = linear(flat, out=10)
            output fc
            """)
        #expect {
            _ = try SegmentGraph().run(seededModel(g))
        } throws: { error in
            (error as? PassError)?.message == "exit 'early' attaches at 'a', not after the previous exit's 'b'"
        }
    }

    // MARK: - The verifier rejects bad segments

    static let body = """
        model m
        input x: f32[1,3,8,8]
        %SEGMENTS%
        a = conv2d(x, out=4, kernel=3, pad=1)
        b = relu(a)
        c = add(a, b)
        pool = global_avg_pool(c)
        flat = flatten(pool)
        fc = linear(flat, out=10)
        output fc
        """

    /// The verifier's diagnostics for `body` with these segment statements (on lines 3...).
    static func diagnostics(_ segments: [String]) -> String? {
        let text = body.replacingOccurrences(of: "%SEGMENTS%", with: segments.joined(separator: "\n"))
        let source = SourceFile(name: "bad.eeir", text: text)
        switch VerifiedGraph.load(source) {
        case .success: return nil
        case .failure(let list): return list.rendered(in: source)
        }
    }

    @Test func goodSegmentsVerify() {
        #expect(Self.diagnostics(["segment s0(input=x, output=a)", "segment s1(input=a, output=fc)"]) == nil)
        #expect(Self.diagnostics(["segment s0(input=x, output=c)", "segment s1(input=c, output=fc)"]) == nil)
    }

    @Test func badSegmentsAreRejectedWithAClearMessage() {
        let cases: [([String], String)] = [
            // b is not a cut: c still needs a.
            (["segment s0(input=x, output=b)", "segment s1(input=b, output=fc)"],
             "bad.eeir:4:9: error: segment 's1' is not a cut: 'c' reads 'a' from outside it"),
            // The chain is broken.
            (["segment s0(input=x, output=a)", "segment s1(input=b, output=fc)"],
             "bad.eeir:4:9: error: segment 's1' reads 'b', expected 'a' (the previous segment's output)"),
            (["segment s0(input=y, output=a)", "segment s1(input=a, output=fc)"],
             "bad.eeir:3:9: error: segment 's0' reads 'y', expected 'x' (the previous segment's output)"),
            // It stops short of the output.
            (["segment s0(input=x, output=a)", "segment s1(input=a, output=c)"],
             "bad.eeir:4:9: error: the last segment must end at the output 'fc', not 'c'"),
            // It goes backwards.
            (["segment s0(input=x, output=c)", "segment s1(input=c, output=a)"],
             "bad.eeir:4:9: error: segment 's1' output 'a' is not a backbone node after 'c'"),
        ]
        for (segments, message) in cases {
            let rendered = Self.diagnostics(segments)
            #expect(rendered?.hasPrefix(message) == true, "\(segments): got \(rendered ?? "no error")")
        }
    }

    // MARK: - Exit cost report

    /// ResNet-20, fine, 3 pool exits, only the heads' linear layers counted: the cost rates the
    /// EENets code reports for this configuration.
    @Test func resnet20PoolHeadLinearsOnlyCostRates() throws {
        let g = try InsertExits(branches: 3, distribution: .fine, block: .pool).run(seededModel(try example("resnet20"))).graph
        let report = ExitCostReport(g, convention: .eenets, headLinearsOnly: true)
        let expected = [0.1282048606925034, 0.24453504403495593, 0.36086522737740845]
        try #require(report.rows.count == 4)
        for (row, rate) in zip(report.rows, expected) {
            #expect(abs(row.costRate - rate) <= 1e-15, "\(row.exit ?? "final"): \(row.costRate), expected \(rate)")
        }
        #expect(report.rows.map(\.attach) == ["layer1.0", "layer1.1", "layer1.2", "linear"])
        #expect(report.rows[3].costRate == 1)
        // The heads' linear layers: 16 → 10 and 16 → 1, 176 MACs each; the rate is (prefix + 176) / total.
        #expect(report.rows.prefix(3).allSatisfy { $0.head == Cost(macs: 176, eenets: 176) })
        #expect(report.total.eenets == 41_407_104)
        for row in report.rows.prefix(3) {
            #expect(row.costRate == Double(row.prefix.eenets + 176) / 41_407_104)
        }
    }

    /// ResNet-110, fine, 10 conv2 exits (eenets): prefix + head of each exit. The reference
    /// notebook lists 19.78, 34.23, 43.86, 53.49, 63.13, 72.76, 82.40, 92.03, 100.48, 110.01 MMac.
    /// Exit 0 by hand: after layer1.2, the stem (442,368 conv + 32,768 BN + 16,384 ReLU) and three
    /// blocks of 4,816,896 make 14,942,208; a conv2 head on 16×32×32 is 2 × (2,359,296 conv +
    /// 32,768 BN + 16,384 ReLU) + 16,384 pool + 176 linears = 4,833,456; total 19,775,664.
    @Test func resnet110Conv2PrefixPlusHead() throws {
        let g = try InsertExits(branches: 10, distribution: .fine, block: .conv(2)).run(seededModel(try example("resnet110"))).graph
        let report = ExitCostReport(g, convention: .eenets)
        let values = report.rows.dropLast().map { $0.prefix.eenets + $0.head.eenets }
        #expect(values.first == 19_775_664)
        #expect(values.last == 110_010_720)
        #expect(values == [19_775_664, 34_226_352, 43_860_144, 53_493_936, 63_127_728,
                           72_761_520, 82_395_312, 92_029_104, 100_475_232, 110_010_720])
        let notebook = [19.78, 34.23, 43.86, 53.49, 63.13, 72.76, 82.40, 92.03, 100.48, 110.01]
        for (value, mmac) in zip(values, notebook) { #expect(abs(Double(value) / 1e6 - mmac) <= 0.005) }
        #expect(report.rows.dropLast().map(\.attach) == [3, 6, 8, 10, 12, 14, 16, 18, 20, 22].map { b in "layer\((b - 1) / 18 + 1).\((b - 1) % 18)" })
    }

    /// ResNet-20, fine, 3 conv2 exits: the path-cost column of `eec compile` (README): a sample
    /// leaving at exit i paid the backbone prefix and every head so far.
    @Test func resnet20Conv2PathCosts() throws {
        let g = try InsertExits(branches: 3).run(seededModel(try example("resnet20"))).graph
        let report = ExitCostReport(g)
        let path = report.rows.map(\.pathCost)
        let expected = [0.245, 0.478, 0.711, 1.350]
        try #require(path.count == 4)
        for (p, e) in zip(path, expected) { #expect(abs(p - e) <= 0.001, "path cost \(p), expected \(e)") }
        // The columns are consistent: the path cost adds the heads of the exits passed.
        let total = Double(report.total.eenets)
        var heads = 0
        for row in report.rows {
            heads += row.head.eenets
            #expect(abs(row.pathCost - Double(row.prefix.eenets + heads) / total) < 1e-12)
            if row.exit != nil { #expect(abs(row.costRate - Double(row.prefix.eenets + row.head.eenets) / total) < 1e-12) }
        }
        #expect(abs(report.rows[0].costRate - report.rows[0].pathCost) < 1e-15)
        #expect(report.rows[1].pathCost > report.rows[1].costRate)
    }
}
