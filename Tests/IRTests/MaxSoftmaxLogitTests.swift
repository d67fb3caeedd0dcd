import Foundation
import Testing
import IR

// `max_softmax_logit`: z = ln(p / (1 − p)) of p = max softmax(x), checked against values worked out
// by hand (in the comments), its edge cases, its shape rule and errors, and an exit using it as
// its confidence, through the verifier, the interpreter and the printer.
//
// Tolerance: OpTestSupport.expectClose (1e-6 relative + 1e-7 absolute) unless stated.

private typealias S = OpTestSupport

@Suite
struct MaxSoftmaxLogitTests {
    static let ln2 = 0.6931471805599453, ln3 = 1.0986122886681098
    static let largest = Double(Float.greatestFiniteMagnitude)

    /// z of each row of `rows` (all of one length), by a direct call.
    static func z(_ rows: [[Float]]) throws -> Tensor {
        try S.direct(.maxSoftmaxLogit, [S.t([rows.count, rows[0].count], rows.flatMap { $0 })])
    }

    @Test func handValues() throws {
        // [0, 0]: p = 1/2 → z = 0.  [ln 3, 0]: p = 3/4 → z = ln 3.  [0, ln 3]: the same, argmax second.
        // [ln 3, 0, 0]: p = 3/5 → z = ln(3/2).  [0, ln 2, ln 3]: e^x = [1, 2, 3], p = 1/2 → z = 0
        // (to the rounding of ln 2 and ln 3 in float32, ~1e-7: 1e-6 absolute here).
        let y = try S.evaluate("y = max_softmax_logit(x)", input: S.t([1, 2], [0, 0]))
        S.expectClose(y, shape: [1, 1], [0])
        let ln3 = Float(Self.ln3)
        S.expectClose(try Self.z([[ln3, 0], [0, ln3]]), shape: [2, 1], [Self.ln3, Self.ln3])
        S.expectClose(try Self.z([[ln3, 0, 0]]), shape: [1, 1], [0.4054651081081644])
        S.expectClose(try Self.z([[0, Float(Self.ln2), ln3]]), shape: [1, 1], [0], abs: 1e-6)
    }

    @Test func tiesTakeTheFirstArgmax() throws {
        // [2, 2, 2, 2]: p = 1/4 → z = ln(1/3) = −ln 3.  [1, 3, 3]: p = e^3 / (e + 2e^3) = 1 / (2 + e^−2),
        // 1 − p = (1 + e^−2) / (2 + e^−2) → z = −ln(1 + e^−2) = −0.1269280110429726: the tied
        // runner-up counts fully, whichever of the two is taken as the argmax.
        S.expectClose(try Self.z([[2, 2, 2, 2]]), shape: [1, 1], [-Self.ln3])
        S.expectClose(try Self.z([[1, 3, 3]]), shape: [1, 1], [-0.1269280110429726])
    }

    @Test func largeSpreadsDoNotUnderflow() throws {
        // [1000, 0]: z = 1000 − ln 1 = 1000.  [0, −200, −200]: z = 200 − ln 2 (e^−200 is 0 in float32,
        // the sum relative to the runner-up is 2).  [1000, 0, 0]: 1000 − ln 2.
        S.expectClose(try Self.z([[1000, 0]]), shape: [1, 1], [1000])
        S.expectClose(try Self.z([[0, -200, -200]]), shape: [1, 1], [200 - Self.ln2])
        S.expectClose(try Self.z([[1000, 0, 0]]), shape: [1, 1], [1000 - Self.ln2])
        // A spread past the float range is clamped: p = 1 in float32.
        S.expectClose(try Self.z([[3e38, -3e38]]), shape: [1, 1], [Self.largest])
        // A large negative z cannot happen: z ≥ −ln(K − 1), reached by equal logits.
        S.expectClose(try Self.z([[-7, -7, -7]]), shape: [1, 1], [-Self.ln2])
    }

    @Test func edgeCases() throws {
        // One class: p = 1 → the largest finite float (EEC_LOGIT_MAX), whatever the logit.
        #expect(try Self.z([[5], [-1e30], [0]]).data == [.greatestFiniteMagnitude, .greatestFiniteMagnitude, .greatestFiniteMagnitude])
        // The sum is exactly 0 (every other logit −inf, or the top one +inf): p = 1, the same value.
        #expect(try Self.z([[0, -.infinity, -.infinity], [.infinity, 0, 5]]).data == [.greatestFiniteMagnitude, .greatestFiniteMagnitude])
        // Any NaN logit gives NaN (a NaN confidence never exits), in its own row only.
        let nan = try Self.z([[0, .nan, 1], [0, 0, 0], [.nan, 0, 0]])
        #expect(nan.data[0].isNaN && nan.data[2].isNaN)
        #expect(abs(nan.data[1] - Float(-Self.ln2)) < 1e-6)  // [0, 0, 0]: p = 1/3 → z = −ln 2
        #expect(try Self.z([[.nan]]).data[0].isNaN)
        // Equal infinite top logits, or all −inf: softmax itself is undefined (NaN in PyTorch).
        #expect(try Self.z([[.infinity, .infinity, 0], [-.infinity, -.infinity, -.infinity]]).data.allSatisfy(\.isNaN))
    }

    @Test func shapeAndCost() throws {
        #expect(try S.shape(input: [1, 10], body: "y = max_softmax_logit(x)") == [1, 1])
        #expect(try S.shape(input: [1, 1], body: "y = max_softmax_logit(x)") == [1, 1])
        #expect(try MaxSoftmaxLogit.outputShape(inputs: [[4, 7]], attributes: Attributes([:])) == [4, 1])
        let g = try S.load(S.graphText(input: [1, 10], body: "y = max_softmax_logit(x)"))
        let node = try #require(g.graph.nodes.first { $0.name == "y" })
        #expect(g.cost(node) == .zero)
        #expect(g.parameters(node).isEmpty)
    }

    @Test func badShapesAreRejected() {
        #expect(S.errors(S.graphText(input: [1, 3, 4, 4], body: "y = max_softmax_logit(x)"))
            .contains("max_softmax_logit expects class logits [N, classes], found [1,3,4,4]"))
        #expect(S.errors(S.graphText(input: [1, 3], body: "y = max_softmax_logit(x, x)"))
            .contains("max_softmax_logit expects 1 input, found 2"))
        #expect(throws: OpError("max_softmax_logit needs at least one class, found [1,0]", at: .input(0))) {
            try MaxSoftmaxLogit.outputShape(inputs: [[1, 0]], attributes: Attributes([:]))
        }
        #expect(throws: OpError("max_softmax_logit expects class logits [N, classes], found [3]", at: .input(0))) {
            try MaxSoftmaxLogit.outputShape(inputs: [[3]], attributes: Attributes([:]))
        }
    }

    // MARK: an exit with a max-softmax confidence

    /// The exit classifier `k` is the identity on the two features, so its logits are the input.
    static let exitNetwork = """
        model msl
        input x: f32[1,2,1,1]
        f = flatten(x)
        k = linear(f, out=2, bias=false)
        h = max_softmax_logit(k)
        exit e(classifier=k, confidence=h)
        fc = linear(f, out=2)
        output fc

        """

    @Test func exitConfidenceThroughTheInterpreter() throws {
        let g = try S.load(Self.exitNetwork)
        let weights = try WeightBinder.bind(g, tensors: ["k.weight": S.t([2, 2], [1, 0, 0, 1]),
                                                        "fc.weight": S.t([2, 2], [1, 0, 0, 1]), "fc.bias": S.t([2], [0, 0])],
                                            source: "w")
        // x = [ln 3, 0]: p = 3/4 → z = ln 3; the runtime exits there for any T ≤ 3/4.
        let result = Interpreter(g, weights: weights).run(S.t([1, 2, 1, 1], [Float(Self.ln3), 0]))
        #expect(result.exits.count == 1)
        #expect(abs(Double(result.exits[0].confidence) - Self.ln3) < 1e-6)
    }

    @Test func roundTripsThroughThePrinter() throws {
        let g = try S.load(Self.exitNetwork)
        #expect(Printer.print(g.graph) == Self.exitNetwork)
        let node = try #require(g.graph.nodes.first { $0.name == "h" })
        #expect(node.op == .maxSoftmaxLogit)
        #expect(Printer.line(node) == "h = max_softmax_logit(k)")
        #expect(OpKind(rawValue: "max_softmax_logit") == .maxSoftmaxLogit)
    }
}
