import Testing
import IR
import Passes
import Codegen

struct CNamesTests {
    @Test func identifiers() {
        #expect(CNames.identifier("layer2.1.conv1") == "layer2_1_conv1")
        #expect(CNames.identifier("features.10") == "features_10")
        #expect(CNames.identifier("0abc") == "_0abc")
        #expect(CNames.unique(["a.b", "a_b", "int", "x"], reserved: CNames.reservedWords.union(["x"])) == ["a_b", "a_b_2", "int_2", "x_2"])
    }

    /// Hex literals read back (by Swift's parser, as C's) to the same float, every kind of float.
    @Test func hexFloatsAreExact() {
        var rng = SplitMix64(seed: 5)
        var values: [Float] = [0, -0.0, 1, -1, 3, 0.1, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                               .leastNormalMagnitude, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, Float(bitPattern: 0x007f_ffff)]
        for _ in 0..<10_000 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        for v in values where v.isFinite {
            let text = CNames.hexFloat(v)
            #expect(text.hasSuffix("f"))
            guard let back = Float(String(text.dropLast())) else {
                Issue.record("\(text) does not parse")
                return
            }
            #expect(back.bitPattern == v.bitPattern, "\(v) -> \(text)")
        }
        #expect(CNames.hexFloat(3) == "0x1.8p+1f")
        #expect(CNames.hexFloat(-0.0) == "-0x0p+0f")
        #expect(CNames.hexFloat(.leastNonzeroMagnitude) == "0x1p-149f")
    }
}

/// What the C backend refuses, and how it says so.
struct CodegenErrorTests {
    @Test func wrongThresholdCount() throws {
        let network = try CompiledNetwork("resnet20", branches: 3)
        if let error = #expect(throws: (any Error).self, performing: { try CProgram(network.compiled, thresholds: [0.5]) }) {
            #expect("\(error)" == "error: 1 threshold given for 3 exits")
        }
        if let error = #expect(throws: (any Error).self, performing: { try CProgram(network.compiled, thresholds: [0.5, 2, 0.5]) }) {
            #expect("\(error)" == "error: thresholds are probabilities from 0 to 1, found 2.0")
        }
        if let error = #expect(throws: (any Error).self, performing: { try CProgram(network.compiled, alignment: 6) }) {
            #expect("\(error)".contains("power of two"))
        }
    }

    @Test func needsSegments() throws {
        let graph = try example("resnet20")
        let model = try FoldBatchNorm().run(Model(graph: graph, weights: WeightBinder.seeded(graph)))
        if let error = #expect(throws: (any Error).self, performing: { try CProgram(model) }) {
            #expect("\(error)" == "error: the graph has no segments: run the segment pass before generating C")
        }
    }

    @Test func missingWeights() throws {
        var model = try CompiledNetwork("resnet20", branches: 0).compiled
        model.weights["conv1.weight"] = nil
        if let error = #expect(throws: (any Error).self, performing: { try CProgram(model) }) {
            #expect("\(error)".contains("missing tensor 'conv1.weight'"), "\(error)")
        }
    }
}

/// Node names that are C keywords, runtime names, segment-function parameters or kernel names
/// still give a program that compiles and computes the same.
struct NameClashTests {
    let temporary = TemporaryFolders()

    @Test(.needsCCompiler)
    func clashingNodeNames() throws {
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
        let graph = try parseGraph(text, name: "clash.eeir")
        let network = try CompiledNetwork(graph, weights: WeightBinder.seeded(graph), branches: 0)
        let program = try CProgram(network.compiled)
        #expect(program.segments[0].calls.map(\.function) == ["int_2", "w_2", "a_2", "eec_run_2", "k_relu_8"])
        #expect(program.kernelNames.contains("k_relu_8_2"), "\(program.kernelNames)")
        let dir = try temporary.folder()
        let source = CSource(program)
        try source.write(to: dir)
        try toolchain().compile(CToolchain.strictFlags + ["-c", source.sourceName], in: dir)
        try checkAgainstInterpreter(network, inputs: seededInputs(graph.graph.input.shape, count: 2), flags: testFlags)
    }
}
