import Testing
import IR
@testable import Import

/// The ops whose form changed across opsets 11 to 21 (Pad's and Clip's inputs, Slice's steps,
/// Unsqueeze's axes, Pad's axes since 18), and the option-A shortcut as both PyTorch exporters write it.
struct ShortcutAndOpsetTests {
    static let opsets: [Int64] = [11, 13, 17, 18, 20, 21]

    /// `x[:, :, ::2, ::2]` with `before` and `after` zero channels: the option-A shortcut.
    func shortcut(_ x: Tensor, before: Int, after: Int) -> Tensor {
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = ((h + 1) / 2, (w + 1) / 2)
        var y = [Float](repeating: 0, count: (c + before + after) * oh * ow)
        for ch in 0..<c { for i in 0..<oh { for j in 0..<ow {
            y[((ch + before) * oh + i) * ow + j] = x.data[(ch * h + 2 * i) * w + 2 * j]
        } } }
        return Tensor(shape: [1, (c + before + after) * oh * ow], data: y)
    }

    /// The two Slices of the classic export: axis 2 then axis -1 (W), from 0 to INT64_MAX by 2.
    func slices(_ from: String, to: String) -> [NodeSpec] {
        [NodeSpec("Slice", [from, "zero", "end", "axis2", "two"], ["s1"], name: "/layer2/layer2.0/shortcut/Slice"),
         NodeSpec("Slice", ["s1", "zero", "end", "axis3", "two"], [to], name: "/layer2/layer2.0/shortcut/Slice_1")]
    }

    static let sliceConstants: [TensorSpec] = [
        .ints("zero", [0]), .ints("end", [Int64.max]), .ints("axis2", [2]), .ints("axis3", [-1]), .ints("two", [2]),
        .ints("zeros4", [0, 0, 0, 0]), .ints("ends4", [Int64.max, Int64.max, Int64.max, 1]), .ints("steps4", [1, 1, 2, 1]),
    ]

    @Test(arguments: opsets)
    func shortcutWithConstantPads(opset: Int64) throws {
        let x = Reference.input([1, 2, 5, 4])
        var nodes = slices("x", to: "s")
        var inits = Self.sliceConstants
        if opset >= 18 {
            // Pad with axes (opset 18): only the channel axis listed.
            nodes.append(NodeSpec("Pad", ["s", "pads", "", "axes"], ["p"], name: "/layer2/layer2.0/shortcut/Pad"))
            inits += [.ints("pads", [1, 3]), .ints("axes", [1])]
        } else {
            nodes.append(NodeSpec("Pad", ["s", "pads", "value"], ["p"], name: "/layer2/layer2.0/shortcut/Pad", [("mode", .string("constant"))]))
            inits += [.ints("pads", [0, 1, 0, 0, 0, 3, 0, 0]), .floats("value", [], [0])]
        }
        nodes.append(NodeSpec("Flatten", ["p"], ["y"]))
        let (y, imported) = try Reference.run(ModelSpec(opset: opset, inputDims: [1, 2, 5, 4], nodes: nodes, initializers: inits), x)
        #expect(y == shortcut(x, before: 1, after: 3))
        #expect(imported.graph.nodes.map(\.op) == [.subsample, .channelPad, .flatten])
        #expect(imported.graph.nodes.map(\.name) == ["layer2.0.shortcut.slice", "layer2.0.shortcut.pad", "flatten"])
    }

    /// Both steps in one Slice, with axes omitted (all four given).
    @Test func oneSliceForBothAxes() throws {
        let x = Reference.input([1, 2, 5, 5])
        let m = ModelSpec(inputDims: [1, 2, 5, 5], nodes: [
            NodeSpec("Slice", ["x", "zeros4", "ends4", "", "steps4"], ["s"]),
            NodeSpec("Flatten", ["s"], ["y"]),
        ], initializers: [.ints("zeros4", [0, 0, 0, 0]), .ints("ends4", [Int64.max, Int64.max, 99, Int64.max]), .ints("steps4", [1, 1, 2, 2])])
        let (y, _) = try Reference.run(m, x)
        #expect(y == shortcut(x, before: 0, after: 0))
    }

    /// The classic exporter's pads: computed in the graph from F.pad's [0, 0, 0, 0, p, p] by
    /// ConstantOfShape / Concat / Reshape / Slice with step -1 / Transpose / Reshape / Cast.
    @Test(arguments: [Int64(11), 13, 17])
    func shortcutWithPadsComputedInTheGraph(opset: Int64) throws {
        let x = Reference.input([1, 2, 4, 4])
        let nodes = slices("x", to: "s") + [
            NodeSpec("Constant", [], ["torchPads"], [("value", .tensor(.ints("", [0, 0, 0, 0, 2, 2])))]),
            NodeSpec("Constant", [], ["two1"], [("value", .tensor(.ints("", [2])))]),
            NodeSpec("ConstantOfShape", ["two1"], ["zeros"], [("value", .tensor(.ints("", [0], dims: [1])))]),
            NodeSpec("Concat", ["torchPads", "zeros"], ["eight"], [("axis", .int(0))]),
            NodeSpec("Reshape", ["eight", "pairs"], ["byAxis"]),
            NodeSpec("Slice", ["byAxis", "minus1", "hugeNegative", "zero", "minus1"], ["reversed"]),
            NodeSpec("Transpose", ["reversed"], ["transposed"], [("perm", .ints([1, 0]))]),
            NodeSpec("Reshape", ["transposed", "minus1"], ["flat"]),
            NodeSpec("Cast", ["flat"], ["pads"], [("to", .int(7))]),
            NodeSpec("Pad", ["s", "pads"], ["p"], name: "/layer2/layer2.0/shortcut/Pad"),
            NodeSpec("Flatten", ["p"], ["y"]),
        ]
        let inits = Self.sliceConstants + [.ints("pairs", [-1, 2]), .ints("minus1", [-1]), .ints("hugeNegative", [Int64.min + 1])]
        let (y, imported) = try Reference.run(ModelSpec(opset: opset, inputDims: [1, 2, 4, 4], nodes: nodes, initializers: inits), x)
        #expect(y == shortcut(x, before: 2, after: 2))
        #expect(imported.graph.nodes.map(\.op) == [.subsample, .channelPad, .flatten])
    }

    /// Clip with min 0 and no max is ReLU (opset 11 on: min and max are optional inputs).
    @Test(arguments: opsets)
    func clipAtZeroIsReLU(opset: Int64) throws {
        let x = Reference.input([1, 2, 3, 3])
        let m = ModelSpec(opset: opset, inputDims: [1, 2, 3, 3], nodes: [NodeSpec("Clip", ["x", "lo"], ["c"]), NodeSpec("Flatten", ["c"], ["y"])],
                          initializers: [.floats("lo", [], [0])])
        let (y, imported) = try Reference.run(m, x)
        #expect(y.data == x.data.map { max($0, 0) })
        #expect(imported.graph.nodes.map(\.op) == [.relu, .flatten])
    }

    /// Clip(0, 6) is ReLU6 (MobileNet).
    @Test func clipZeroSixIsReLU6() throws {
        let x = Tensor(shape: [1, 1, 2, 2], data: [-1, 3, 7, 6.5])
        let m = ModelSpec(opset: 13, inputDims: [1, 1, 2, 2], nodes: [NodeSpec("Clip", ["x", "lo", "hi"], ["c"], name: "/features/relu6/Clip"), NodeSpec("Flatten", ["c"], ["y"])],
                          initializers: [.floats("lo", [], [0]), .floats("hi", [], [6])])
        let (y, imported) = try Reference.run(m, x)
        #expect(y.data == [0, 3, 6, 6])
        #expect(imported.graph.nodes.map(\.op) == [.relu6, .flatten])
        #expect(imported.graph.nodes.map(\.name) == ["features.relu6", "flatten"])
        let other = ModelSpec(opset: 13, inputDims: [1, 1, 2, 2], nodes: [NodeSpec("Clip", ["x", "hi", "hi"], ["c"]), NodeSpec("Flatten", ["c"], ["y"])],
                              initializers: [.floats("hi", [], [6])])
        let error = #expect(throws: ImportError.self) { try other.importModel() }
        #expect(error?.message.contains("Clip(6.0, 6.0)") == true)
        #expect(error?.message.contains("supported: Clip(0, inf) as relu, Clip(0, 6) as relu6") == true)
    }
}
