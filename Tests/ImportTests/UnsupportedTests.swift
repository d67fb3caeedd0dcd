import Testing
import IR
@testable import Import

/// What eec cannot translate is an error naming the op, the node, the value and what is supported.
struct UnsupportedTests {
    func rejected(_ model: ModelSpec, saying fragments: String..., sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        do {
            _ = try model.importModel()
            Issue.record("accepted", sourceLocation: sourceLocation)
        } catch {
            for f in fragments { #expect(error.message.contains(f), "\(error)", sourceLocation: sourceLocation) }
        }
    }

    func net(_ nodes: [NodeSpec], _ inits: [TensorSpec] = [], opset: Int64 = 17, dims: [Int] = [1, 2, 4, 4]) -> ModelSpec {
        ModelSpec(opset: opset, inputDims: dims, nodes: nodes + [NodeSpec("Flatten", ["h"], ["y"])], initializers: inits)
    }

    @Test func unknownOp() {
        rejected(net([NodeSpec("LeakyRelu", ["x"], ["h"], name: "/features/act/LeakyRelu")]),
                 saying: "node '/features/act/LeakyRelu' (LeakyRelu): op LeakyRelu is not supported; supported: Add, AveragePool")
        var custom = NodeSpec("Relu", ["x"], ["h"])
        custom.domain = "com.microsoft"
        rejected(net([custom]), saying: "op com.microsoft.Relu is not in the default ONNX domain")
    }

    @Test func unsupportedAttributesAndValues() {
        let w = TensorSpec.floats("w", [2, 2, 3, 3], seeded(36, seed: 1))
        rejected(net([NodeSpec("Conv", ["x", "w"], ["h"], [("pads", .ints([1, 1, 0, 0]))])], [w]),
                 saying: "asymmetric padding [top, left, bottom, right] = [1, 1, 0, 0]", "supported: the same padding on both sides")
        rejected(net([NodeSpec("Relu", ["x"], ["h"], [("alpha", .float(0.1))])]), saying: "attribute 'alpha' is not supported for Relu")
        rejected(net([NodeSpec("AveragePool", ["x"], ["h"], [("kernel_shape", .ints([3, 3])), ("pads", .ints([1, 1, 1, 1]))])]),
                 saying: "count_include_pad=0 with padding")
        rejected(net([NodeSpec("Pad", ["x", "pads"], ["h"])], [.ints("pads", [0, 1, 1, 1, 0, 1, 1, 1])]),
                 saying: "Pad of [1, 2, 4, 4] by [0, 1, 1, 1, 0, 1, 1, 1]", "supported: zeros added before and after the channels")
        rejected(net([NodeSpec("Pad", ["x", "pads"], ["h"], name: "/pad/Pad")], [.ints("pads", [0, 0, 1, 1, 0, 0, 1, 1])]),
                 saying: "node '/pad/Pad' (Pad): zero padding [top, left, bottom, right] = [1, 1, 1, 1] read by node #1 (Flatten)",
                 "supported: spatial padding right before a Conv")
        rejected(net([NodeSpec("Pad", ["x", "pads"], ["p"]), NodeSpec("Conv", ["p", "w"], ["h"])], [.ints("pads", [0, 0, 0, 0, 0, 0, 1, 1]), w]),
                 saying: "asymmetric padding [top, left, bottom, right] = [0, 0, 1, 1]")
        rejected(net([NodeSpec("Slice", ["x", "zero", "end", "axis", "two"], ["h"])], [.ints("zero", [0]), .ints("end", [99]), .ints("axis", [2]), .ints("two", [2])]),
                 saying: "a Slice with step 2 on H and 1 on W", "equal steps on H and W")
        rejected(net([NodeSpec("Softmax", ["x"], ["h"], [("axis", .int(3))])]), saying: "Softmax over axis 3")
        rejected(net([NodeSpec("Add", ["x", "one"], ["h"])], [.floats("one", [1], [1])]), saying: "Add of an activation and a constant of shape [1]")
        rejected(ModelSpec(inputDims: [1, 6, 1, 1], nodes: [NodeSpec("Flatten", ["x"], ["f"]), NodeSpec("Gemm", ["f", "w"], ["y"], [("alpha", .float(2))])],
                           initializers: [.floats("w", [6, 2], seeded(12, seed: 1))]), saying: "alpha=2.0", "supported: alpha=1")
    }

    @Test func unsupportedModels() {
        rejected(net([NodeSpec("Relu", ["x"], ["h"])], opset: 9), saying: "ai.onnx opset 9 is not supported; supported: opsets 11 to 21")
        rejected(ModelSpec(nodes: [NodeSpec("Relu", ["x"], ["y"])]), saying: "the graph output 'y' has shape [1, 2, 4, 4]")
        rejected(ModelSpec(inputDims: [2, 2, 4, 4], nodes: [NodeSpec("Flatten", ["x"], ["y"])]), saying: "batch 1")
        rejected(net([NodeSpec("Relu", ["missing"], ["h"])]), saying: "input 'missing' is not defined")
        // A symbolic batch is 1; a symbolic height is not a size eec can compile.
        var symbolic = ModelSpec(nodes: [NodeSpec("Flatten", ["x"], ["y"])])
        symbolic.inputDimParams = [0: "batch"]
        #expect(throws: Never.self) { try symbolic.importModel() }
        symbolic.inputDimParams = [2: "height"]
        rejected(symbolic, saying: "input 'x' dimension 2 is symbolic ('height')", "fixed sizes")
    }
}
