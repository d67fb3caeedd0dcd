import XCTest
import IR
import Passes
import Codegen

final class CNamesTests: XCTestCase {
    func testIdentifiers() {
        XCTAssertEqual(CNames.identifier("layer2.1.conv1"), "layer2_1_conv1")
        XCTAssertEqual(CNames.identifier("features.10"), "features_10")
        XCTAssertEqual(CNames.identifier("0abc"), "_0abc")
        XCTAssertEqual(CNames.unique(["a.b", "a_b", "int", "x"], reserved: CNames.reservedWords.union(["x"])),
                       ["a_b", "a_b_2", "int_2", "x_2"])
    }

    /// Hex literals read back (by Swift's parser, as C's) to the same float, every kind of float.
    func testHexFloatsAreExact() {
        var rng = SplitMix64(seed: 5)
        var values: [Float] = [0, -0.0, 1, -1, 3, 0.1, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                               .leastNormalMagnitude, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, Float(bitPattern: 0x007f_ffff)]
        for _ in 0..<10_000 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        for v in values where v.isFinite {
            let text = CNames.hexFloat(v)
            XCTAssertTrue(text.hasSuffix("f"))
            guard let back = Float(String(text.dropLast())) else { return XCTFail("\(text) does not parse") }
            XCTAssertEqual(back.bitPattern, v.bitPattern, "\(v) -> \(text)")
        }
        XCTAssertEqual(CNames.hexFloat(3), "0x1.8p+1f")
        XCTAssertEqual(CNames.hexFloat(-0.0), "-0x0p+0f")
        XCTAssertEqual(CNames.hexFloat(.leastNonzeroMagnitude), "0x1p-149f")
    }
}

/// What the C backend refuses, and how it says so.
final class CodegenErrorTests: XCTestCase {
    func testWrongThresholdCount() throws {
        let network = try CompiledNetwork("resnet20", branches: 3)
        XCTAssertThrowsError(try CProgram(network.compiled, thresholds: [0.5])) { error in
            XCTAssertEqual("\(error)", "error: 1 threshold given for 3 exits")
        }
        XCTAssertThrowsError(try CProgram(network.compiled, thresholds: [0.5, 2, 0.5])) { error in
            XCTAssertEqual("\(error)", "error: thresholds are probabilities from 0 to 1, found 2.0")
        }
        XCTAssertThrowsError(try CProgram(network.compiled, alignment: 6)) { error in
            XCTAssertTrue("\(error)".contains("power of two"))
        }
    }

    func testNeedsSegments() throws {
        let graph = try example("resnet20")
        let model = try FoldBatchNorm().run(Model(graph: graph, weights: WeightBinder.seeded(graph)))
        XCTAssertThrowsError(try CProgram(model)) { error in
            XCTAssertEqual("\(error)", "error: the graph has no segments: run the segment pass before generating C")
        }
    }

    func testMissingWeights() throws {
        var model = try CompiledNetwork("resnet20", branches: 0).compiled
        model.weights["conv1.weight"] = nil
        XCTAssertThrowsError(try CProgram(model)) { error in
            XCTAssertTrue("\(error)".contains("missing tensor 'conv1.weight'"), "\(error)")
        }
    }
}

/// Node names that are C keywords, runtime names, segment-function parameters or kernel names
/// still give a program that compiles and computes the same.
final class NameClashTests: XCTestCase {
    func testClashingNodeNames() throws {
        let text = """
            model int
            input x: f32[1,2,2,2]
            int = relu(x)
            w = relu(int)
            a = add(int, w)
            eec_run = flatten(a)
            k_relu_8 = linear(eec_run, out=3)
            output k_relu_8

            """
        guard case .success(let (graph, _)) = VerifiedGraph.load(SourceFile(name: "clash.eeir", text: text)) else {
            return XCTFail("the graph does not load")
        }
        let network = try CompiledNetwork(graph, weights: WeightBinder.seeded(graph), branches: 0)
        let program = try CProgram(network.compiled)
        XCTAssertEqual(program.segments[0].calls.map(\.function), ["int_2", "w_2", "a_2", "eec_run_2", "k_relu_8"])
        XCTAssertTrue(program.kernelNames.contains("k_relu_8_2"), "\(program.kernelNames)")
        let dir = try temporaryFolder(self)
        let source = CSource(program)
        try source.write(to: dir)
        try toolchain().compile(CToolchain.strictFlags + ["-c", source.sourceName], in: dir)
        try checkAgainstInterpreter(network, inputs: seededInputs(graph.graph.input.shape, count: 2), flags: testFlags)
    }
}
