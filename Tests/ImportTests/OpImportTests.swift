import Foundation
import Testing
import IR
@testable import Import

/// One small ONNX model per supported op, imported and run in the interpreter against a reference
/// computed from the ONNX specification (Reference), within 1e-5.
struct OpImportTests {
    static let tolerance: Float = 1e-5

    /// `op` on x [1, 2, 5, 5], then Flatten to y.
    func model(_ nodes: [NodeSpec], initializers: [TensorSpec] = [], dims: [Int] = [1, 2, 5, 5], opset: Int64 = 17) -> ModelSpec {
        ModelSpec(opset: opset, inputDims: dims, nodes: nodes + [NodeSpec("Flatten", ["h"], ["y"])], initializers: initializers)
    }

    func check(_ model: ModelSpec, input: Tensor, expected: Tensor, ops: [OpKind]? = nil) throws {
        let (y, imported) = try Reference.run(model, input)
        let flat = Tensor(shape: [expected.shape[0], expected.count / expected.shape[0]], data: expected.data)
        #expect(Reference.maxDifference(y, flat) <= Self.tolerance, "got \(y.data.prefix(8)), expected \(flat.data.prefix(8))")
        if let ops { #expect(imported.graph.nodes.map(\.op) == ops) }
    }

    @Test(arguments: [
        // (stride, pads, dilation, groups, bias)
        ([1, 1], [1, 1, 1, 1], [1, 1], 1, true),
        ([2, 2], [1, 1, 1, 1], [1, 1], 2, true),
        ([1, 2], [2, 1, 2, 1], [2, 1], 1, false),
        ([1, 1], [0, 0, 0, 0], [2, 2], 2, false),
    ])
    func conv(stride: [Int], pads: [Int], dilation: [Int], groups: Int, bias: Bool) throws {
        let wShape = [4, 2 / groups, 3, 3]
        let w = seeded(wShape.reduce(1, *), seed: 2), b = seeded(4, seed: 3)
        var attrs: [(String, AttrValue)] = [("strides", .ints(stride.map(Int64.init))), ("pads", .ints(pads.map(Int64.init))),
                                            ("dilations", .ints(dilation.map(Int64.init))), ("group", .int(Int64(groups))),
                                            ("kernel_shape", .ints([3, 3]))]
        if groups == 1 { attrs.removeLast(1) }
        let m = model([NodeSpec("Conv", ["x", "w"] + (bias ? ["b"] : []), ["h"], attrs)],
                      initializers: [.floats("w", wShape, w)] + (bias ? [.floats("b", [4], b, raw: false)] : []))
        let x = Reference.input([1, 2, 5, 5])
        try check(m, input: x, expected: Reference.conv(x, w, wShape: wShape, bias: bias ? b : nil, stride: stride, pads: pads, dilation: dilation, groups: groups))
    }

    @Test(arguments: ["SAME_UPPER", "SAME_LOWER", "VALID"])
    func convAutoPad(mode: String) throws {
        let wShape = [3, 2, 3, 3]
        let w = seeded(54, seed: 4)
        let m = model([NodeSpec("Conv", ["x", "w"], ["h"], [("auto_pad", .string(mode))])], initializers: [.floats("w", wShape, w)])
        let x = Reference.input([1, 2, 5, 5])
        let pads = mode == "VALID" ? [0, 0, 0, 0] : [1, 1, 1, 1]
        try check(m, input: x, expected: Reference.conv(x, w, wShape: wShape, bias: nil, pads: pads))
    }

    /// A zero Pad of H and W before a Conv (nn.ZeroPad2d) becomes the convolution's padding.
    @Test(arguments: [Int64(11), 18])
    func padBeforeConv(opset: Int64) throws {
        let wShape = [3, 2, 3, 3]
        let w = seeded(54, seed: 12)
        let pad = opset >= 18 ? NodeSpec("Pad", ["x", "pads", "", "axes"], ["p"]) : NodeSpec("Pad", ["x", "pads"], ["p"])
        let pads: [Int64] = opset >= 18 ? [1, 2, 1, 2] : [0, 0, 1, 2, 0, 0, 1, 2]
        let m = model([pad, NodeSpec("Conv", ["p", "w"], ["h"], [("pads", .ints([1, 0, 1, 0]))])],
                      initializers: [.floats("w", wShape, w), .ints("pads", pads), .ints("axes", [2, 3])], opset: opset)
        let x = Reference.input([1, 2, 5, 5])
        try check(m, input: x, expected: Reference.conv(x, w, wShape: wShape, bias: nil, pads: [2, 2, 2, 2]), ops: [.conv2d, .flatten])
    }

    @Test func batchNormalization() throws {
        let (scale, bias, mean) = (seeded(2, seed: 5), seeded(2, seed: 6), seeded(2, seed: 7))
        let variance: [Float] = [0.5, 2]
        let m = model([NodeSpec("BatchNormalization", ["x", "s", "b", "m", "v"], ["h"], [("epsilon", .float(1e-3))])],
                      initializers: [.floats("s", [2], scale), .floats("b", [2], bias), .floats("m", [2], mean), .floats("v", [2], variance)])
        let x = Reference.input([1, 2, 5, 5])
        var y = x
        for i in y.data.indices {
            let c = i / 25
            y.data[i] = Float((Double(x.data[i]) - Double(mean[c])) / (Double(variance[c]) + Double(Float(1e-3))).squareRoot() * Double(scale[c]) + Double(bias[c]))
        }
        try check(m, input: x, expected: y, ops: [.batchnorm, .flatten])
    }

    @Test func reluSigmoidAndIdentity() throws {
        let m = model([NodeSpec("Relu", ["x"], ["r"]), NodeSpec("Identity", ["r"], ["i"]), NodeSpec("Dropout", ["i"], ["d"]),
                       NodeSpec("Sigmoid", ["d"], ["h"])])
        let x = Reference.input([1, 2, 5, 5])
        try check(m, input: x, expected: Reference.map(x) { 1 / (1 + exp(-max($0, 0))) }, ops: [.relu, .sigmoid, .flatten])
    }

    @Test func addOfTwoBranches() throws {
        let m = model([NodeSpec("Relu", ["x"], ["r"]), NodeSpec("Add", ["r", "x"], ["h"])])
        let x = Reference.input([1, 2, 5, 5])
        try check(m, input: x, expected: Reference.map(x) { max($0, 0) + $0 }, ops: [.relu, .add, .flatten])
    }

    @Test(arguments: [
        // (kernel, stride, pads, max)
        ([2, 2], [2, 2], [0, 0], false), ([3, 3], [2, 2], [1, 1], true), ([3, 3], [1, 1], [1, 1], false), ([2, 3], [1, 2], [0, 1], true),
    ])
    func pools(kernel: [Int], stride: [Int], pads: [Int], max: Bool) throws {
        var attrs: [(String, AttrValue)] = [("kernel_shape", .ints(kernel.map(Int64.init))), ("strides", .ints(stride.map(Int64.init))),
                                            ("pads", .ints((pads + pads).map(Int64.init)))]
        if !max { attrs.append(("count_include_pad", .int(1))) }
        let m = model([NodeSpec(max ? "MaxPool" : "AveragePool", ["x"], ["h"], attrs)])
        let x = Reference.input([1, 2, 5, 5])
        try check(m, input: x, expected: Reference.pool(x, kernel: kernel, stride: stride, pads: pads, max: max), ops: [max ? .maxpool : .avgpool, .flatten])
    }

    @Test func globalAveragePools() throws {
        let x = Reference.input([1, 2, 5, 5])
        let expected = Reference.pool(x, kernel: [5, 5], stride: [1, 1], max: false)
        try check(model([NodeSpec("GlobalAveragePool", ["x"], ["h"])]), input: x, expected: expected, ops: [.globalAvgPool, .flatten])
        // An AveragePool over the whole plane (PyTorch's F.avg_pool2d(x, 8) at 8×8) is a global one.
        let whole = model([NodeSpec("AveragePool", ["x"], ["h"], [("kernel_shape", .ints([5, 5])), ("strides", .ints([5, 5]))])])
        try check(whole, input: x, expected: expected, ops: [.globalAvgPool, .flatten])
    }

    @Test func concatOnChannels() throws {
        let m = model([NodeSpec("Relu", ["x"], ["r"]), NodeSpec("Concat", ["x", "r"], ["h"], [("axis", .int(1))])])
        let x = Reference.input([1, 2, 5, 5])
        try check(m, input: x, expected: Tensor(shape: [1, 4, 5, 5], data: x.data + x.data.map { max($0, 0) }), ops: [.relu, .concat, .flatten])
    }

    /// Gemm with B as [out, in] (transB=1, PyTorch's Linear) and as [in, out]; MatMul + Add; a Constant weight.
    @Test func linearLayers() throws {
        let x = Reference.input([1, 2, 3, 1])
        let flat = Tensor(shape: [1, 6], data: x.data)
        let w = seeded(24, seed: 8), b = seeded(4, seed: 9)
        var wT = [Float](repeating: 0, count: 24)
        for o in 0..<4 { for i in 0..<6 { wT[i * 4 + o] = w[o * 6 + i] } }
        let expected = Reference.linear(flat, weight: w, out: 4, bias: b)
        func net(_ nodes: [NodeSpec], _ inits: [TensorSpec]) -> ModelSpec {
            ModelSpec(inputDims: [1, 2, 3, 1], nodes: [NodeSpec("Flatten", ["x"], ["f"])] + nodes, initializers: inits)
        }
        let gemm = net([NodeSpec("Gemm", ["f", "w", "b"], ["y"], [("transB", .int(1)), ("alpha", .float(1))])], [.floats("w", [4, 6], w), .floats("b", [4], b)])
        let gemmT = net([NodeSpec("Gemm", ["f", "wt", "b"], ["y"])], [.floats("wt", [6, 4], wT), .floats("b", [1, 4], b)])
        let matMul = net([NodeSpec("MatMul", ["f", "wt"], ["m"]), NodeSpec("Add", ["m", "b"], ["y"])], [.floats("wt", [6, 4], wT), .floats("b", [4], b)])
        let constant = net([NodeSpec("Constant", [], ["wt"], [("value", .tensor(.floats("", [6, 4], wT, raw: false)))]),
                            NodeSpec("MatMul", ["f", "wt"], ["y"])], [])
        for (m, bias) in [(gemm, true), (gemmT, true), (matMul, true), (constant, false)] {
            let (y, imported) = try Reference.run(m, x)
            let want = bias ? expected : Reference.linear(flat, weight: w, out: 4, bias: nil)
            #expect(Reference.maxDifference(y, want) <= Self.tolerance)
            #expect(imported.graph.nodes.map(\.op) == [.flatten, .linear])
        }
    }

    /// Softmax over the classes: axis -1 (opset 13's default) and 1 (opset 11's) of [1, classes].
    @Test(arguments: [Int64(11), 13])
    func softmax(opset: Int64) throws {
        let m = ModelSpec(opset: opset, inputDims: [1, 5, 1, 1], nodes: [NodeSpec("Flatten", ["x"], ["f"]), NodeSpec("Softmax", ["f"], ["y"])])
        let x = Reference.input([1, 5, 1, 1])
        let e = x.data.map { exp(Double($0)) }
        let (y, _) = try Reference.run(m, x)
        #expect(Reference.maxDifference(y, Tensor(shape: [1, 5], data: e.map { Float($0 / e.reduce(0, +)) })) <= Self.tolerance)
    }

    /// The classic exporter's flatten: Shape → Gather → Unsqueeze → Concat([n, -1]) → Reshape, with
    /// Unsqueeze's axes as an attribute (opset 11) or an input (13).
    @Test(arguments: [Int64(11), 13, 17, 21])
    func reshapeToFeaturesThroughShapeArithmetic(opset: Int64) throws {
        let unsqueeze = opset < 13 ? NodeSpec("Unsqueeze", ["n"], ["n1"], [("axes", .ints([0]))]) : NodeSpec("Unsqueeze", ["n", "axes"], ["n1"])
        let m = ModelSpec(opset: opset, inputDims: [1, 2, 3, 3], nodes: [
            NodeSpec("Relu", ["x"], ["r"]),
            NodeSpec("Shape", ["r"], ["s"]),
            NodeSpec("Constant", [], ["zero"], [("value", .tensor(.ints("", [0], dims: [])))]),
            NodeSpec("Gather", ["s", "zero"], ["n"], [("axis", .int(0))]),
            unsqueeze,
            NodeSpec("Concat", ["n1", "minus1"], ["shape"], [("axis", .int(0))]),
            NodeSpec("Reshape", ["r", "shape"], ["y"]),
        ], initializers: [.ints("axes", [0]), .ints("minus1", [-1])])
        let x = Reference.input([1, 2, 3, 3])
        let (y, imported) = try Reference.run(m, x)
        #expect(y == Tensor(shape: [1, 18], data: x.data.map { max($0, 0) }))
        #expect(imported.graph.nodes.map(\.op) == [.relu, .flatten])
    }

    @Test func weightsInAnExternalFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eec-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let w = seeded(36, seed: 10)
        var weight = TensorSpec.floats("w", [2, 2, 3, 3], w)
        weight.external = "weights.bin"
        try Data(weight.rawBytes).write(to: dir.appendingPathComponent("weights.bin"))
        let m = model([NodeSpec("Conv", ["x", "w"], ["h"], [("pads", .ints([1, 1, 1, 1]))])], initializers: [weight])
        let x = Reference.input([1, 2, 5, 5])
        let imported = try m.importModel(directory: dir.path)
        #expect(imported.weights["conv.weight"]?.data == w)
        let expected = Reference.conv(x, w, wShape: [2, 2, 3, 3], bias: nil, pads: [1, 1, 1, 1])
        let graph = try VerifiedGraph(imported.graph)
        let y = Interpreter(graph, weights: try WeightBinder.bind(graph, tensors: imported.weights, source: "t")).run(x).logits
        #expect(Reference.maxDifference(y, Tensor(shape: [1, 50], data: expected.data)) <= Self.tolerance)
        // Without the folder, or with a path leaving it, the import fails and says why.
        #expect(throws: ImportError.self) { try m.importModel(directory: nil) }
        weight.external = "../weights.bin"
        let escaping = model([NodeSpec("Conv", ["x", "w"], ["h"])], initializers: [weight])
        let error = #expect(throws: ImportError.self) { try escaping.importModel(directory: dir.path) }
        #expect(error?.message.contains("outside the model's folder") == true)
    }
}
