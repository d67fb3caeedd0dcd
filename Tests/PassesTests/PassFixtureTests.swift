import Foundation
import IR
import Testing
@testable import Passes

/// Text-in/text-out tests of the passes, in the manner of MLIR's FileCheck tests: each case reads
/// `Fixtures/<input>.eeir`, runs some passes on it (with seeded weights) and compares the printed
/// result (`Printer.print`) with `Fixtures/<case>.expected.eeir`, line for line. The expected files
/// were written by hand from what each pass must do, not captured from its output.
///
/// `tiny-resnet.eeir` is a 2-block ResNet on 1×3×8×8 (stem, identity block, stride-2 block with a
/// 1×1-conv shortcut). Its exit candidates are relu1, block1 and block2, at 17.8 %, 64.0 % and
/// 99.5 % of its 43,216 eenets-cost, so `fine` puts exits 0, 1, 2 on them in that order.
struct PassFixtureTests {
    struct Case: Sendable, CustomTestStringConvertible {
        /// The expected output is `Fixtures/<name>.expected.eeir`.
        var name: String
        /// The input is `Fixtures/<input>.eeir`.
        var input: String
        var passes: [any Pass]

        var testDescription: String { "\(name) (\(input) | \(passes.map(\.name).joined(separator: ", ")))" }
    }

    static let fold: any Pass = FoldBatchNorm()
    static let fuse: any Pass = FuseReLU()
    static let segment: any Pass = SegmentGraph()

    static func exits(_ n: Int, _ block: ExitBlock) -> any Pass { InsertExits(branches: n, block: block) }

    static let cases: [Case] = [
        // insert-exits, once per exit block kind.
        Case(name: "insert-exits-pool", input: "tiny-resnet", passes: [exits(2, .pool)]),
        Case(name: "insert-exits-bnpool", input: "tiny-resnet", passes: [exits(1, .bnpool)]),
        Case(name: "insert-exits-plain", input: "tiny-resnet", passes: [exits(1, .plain)]),
        Case(name: "insert-exits-conv1", input: "tiny-resnet", passes: [exits(1, .conv(1))]),
        Case(name: "insert-exits-conv2", input: "tiny-resnet", passes: [exits(3, .conv(2))]),
        Case(name: "insert-exits-conv3", input: "tiny-resnet", passes: [exits(1, .conv(3))]),
        // fold-batchnorm: every conv→BN of the ResNet folds; the blocked cases stay.
        Case(name: "fold-batchnorm", input: "tiny-resnet", passes: [fold]),
        Case(name: "fold-batchnorm-blocked", input: "fold-batchnorm-blocked", passes: [fold]),
        // fuse-relu: alone only add→relu fuses in the ResNet (its other ReLUs read BatchNorms);
        // after folding every ReLU fuses.
        Case(name: "fuse-relu-unfolded", input: "tiny-resnet", passes: [fuse]),
        Case(name: "fold-and-fuse", input: "tiny-resnet", passes: [fold, fuse]),
        Case(name: "fuse-relu", input: "fuse-relu", passes: [fuse]),
        // segment: the input is insert-exits-pool's expected output.
        Case(name: "segment", input: "insert-exits-pool.expected", passes: [segment]),
        Case(name: "segment-no-exits", input: "tiny-resnet", passes: [segment]),
        // The whole `eec compile` pipeline.
        Case(name: "compile-conv1", input: "tiny-resnet", passes: [exits(2, .conv(1)), fold, fuse, segment]),
    ]

    static let fixtures = packageRoot.appendingPathComponent("Tests/PassesTests/Fixtures")

    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: fixtures.appendingPathComponent("\(name).eeir"), encoding: .utf8)
    }

    static func run(_ c: Case, after: (String, Model) -> Void = { _, _ in }) throws -> Model {
        let graph = try load(fixtures.appendingPathComponent("\(c.input).eeir").path)
        return try PassPipeline(c.passes).run(seededModel(graph), after: after)
    }

    /// `nil` when equal; else the first differing line, and the whole actual text to paste.
    static func difference(_ actual: String, _ expected: String) -> String? {
        guard actual != expected else { return nil }
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let line = (0..<min(a.count, e.count)).first { a[$0] != e[$0] } ?? min(a.count, e.count)
        let got = line < a.count ? String(a[line]) : "<end of text>"
        let want = line < e.count ? String(e[line]) : "<end of text>"
        return "line \(line + 1): expected\n  \(want)\ngot\n  \(got)\n--- actual output ---\n\(actual)"
    }

    @Test(arguments: cases)
    func printsTheExpectedIR(_ c: Case) throws {
        let actual = Printer.print(try Self.run(c).graph.graph)
        let expected = try Self.fixture("\(c.name).expected")
        if let diff = Self.difference(actual, expected) { Issue.record("\(c.name): \(diff)") }
    }

    /// After every pass, the printed IR is canonical: it parses, verifies, and prints the same.
    @Test(arguments: cases)
    func printingAfterEachPassIsIdempotent(_ c: Case) throws {
        var printed: [(String, String)] = []
        _ = try Self.run(c) { pass, model in printed.append((pass, Printer.print(model.graph.graph))) }
        #expect(printed.count == c.passes.count)
        for (pass, text) in printed {
            let again = Printer.print(try parse(text, name: "\(c.name)-after-\(pass).eeir").graph)
            if let diff = Self.difference(again, text) { Issue.record("after \(pass): \(diff)") }
        }
    }

    /// The inputs are in canonical form too, so each expected file differs from its input only
    /// by what the pass did.
    @Test(arguments: Set(cases.map(\.input)).sorted())
    func inputsAreCanonical(_ input: String) throws {
        let text = try Self.fixture(input)
        if let diff = Self.difference(Printer.print(try parse(text).graph), text) { Issue.record("\(input): \(diff)") }
    }

    /// A second run of the case's fusion (and segment) passes finds nothing more to do.
    @Test(arguments: ["fold-batchnorm", "fold-and-fuse", "fuse-relu", "fold-batchnorm-blocked", "compile-conv1"])
    func fusionPassesAreIdempotent(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let once = try Self.run(c)
        let again = c.passes.filter { ["fold-batchnorm", "fuse-relu", "segment"].contains($0.name) }
        #expect(!again.isEmpty)
        let twice = try PassPipeline(again).run(once)
        #expect(Printer.print(twice.graph.graph) == Printer.print(once.graph.graph))
        #expect(twice.weights == once.weights)
    }

    // MARK: - Weights follow the graph

    /// Folding removes the BN tensors and gives each folded conv a bias; exit insertion adds
    /// seeded head tensors and keeps the ones the model already has (a trained file).
    @Test func passesKeepWeightsConsistent() throws {
        let c = try #require(Self.cases.first { $0.name == "compile-conv1" })
        let model = try Self.run(c)
        let bound = try WeightBinder.bind(model.graph, tensors: model.weights, source: "compiled")
        #expect(bound.unused.isEmpty, "stale tensors: \(bound.unused)")
        #expect(!model.weights.keys.contains { $0.contains("bn") })
        #expect(model.weights["block1.conv1.bias"]?.shape == [4])

        let graph = try load(Self.fixtures.appendingPathComponent("tiny-resnet.eeir").path)
        var weights = WeightBinder.seeded(graph)
        let trained = Tensor(shape: [10, 4], data: (0..<40).map { Float($0) })
        weights["exits.0.classifier.weight"] = trained
        let withExits = try InsertExits(branches: 1, block: .pool).run(Model(graph: graph, weights: weights))
        #expect(withExits.weights["exits.0.classifier.weight"] == trained)
        #expect(withExits.weights["exits.0.confidence.weight"]?.shape == [1, 4])
        // The seed changes the new heads' weights only.
        let reseeded = try InsertExits(branches: 1, block: .pool, seed: 7).run(Model(graph: graph, weights: weights))
        #expect(reseeded.weights["exits.0.confidence.weight"] != withExits.weights["exits.0.confidence.weight"])
        #expect(reseeded.weights["conv1.weight"] == withExits.weights["conv1.weight"])
    }

    // MARK: - Errors

    @Test func insertExitsRefusesAGraphThatHasExits() throws {
        let graph = try load(Self.fixtures.appendingPathComponent("insert-exits-pool.expected.eeir").path)
        let model = seededModel(graph)
        #expect {
            _ = try InsertExits(branches: 1).run(model)
        } throws: { error in
            (error as? PassError)?.message == "the graph already has 2 exits; compile it with --branches 0 or remove them"
        }
        // As the message says, --branches 0 compiles it with the exits it has.
        let same = try InsertExits(branches: 0).run(model)
        #expect(same.graph.graph == graph.graph)
    }

    @Test func foldBatchNormNamesAMissingTensor() throws {
        let graph = try load(Self.fixtures.appendingPathComponent("tiny-resnet.eeir").path)
        var weights = WeightBinder.seeded(graph)
        weights["block1.bn2.running_var"] = nil
        #expect {
            _ = try FoldBatchNorm().run(Model(graph: graph, weights: weights))
        } throws: { error in
            (error as? PassError)?.message == "missing tensor 'block1.bn2.running_var'"
        }
    }
}
