import Testing
import IR

/// Helpers shared by OpSemanticsTests, OpCostTests and InterpreterTests. Kept in one namespace so
/// they cannot collide with helpers of other test files in this target.
enum OpTestSupport {
    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses and verifies `.eeir` text; throws the rendered diagnostics when it does not load.
    static func load(_ text: String, name: String = "test.eeir") throws -> VerifiedGraph {
        let source = SourceFile(name: name, text: text)
        switch VerifiedGraph.load(source) {
        case .success(let (graph, _)): return graph
        case .failure(let diagnostics): throw LoadError(description: diagnostics.rendered(in: source))
        }
    }

    /// The error messages of text that must not load (empty when it loads).
    static func errors(_ text: String) -> [String] {
        switch VerifiedGraph.load(SourceFile(name: "bad.eeir", text: text)) {
        case .success: return []
        case .failure(let diagnostics): return diagnostics.items.filter { $0.severity == .error }.map(\.message)
        }
    }

    /// A graph whose body defines the node `result`; it ends with `out = flatten(result)` so that
    /// the output is the rank-2 tensor the verifier asks for, whatever the rank of `result`.
    static func graphText(input: [Int], body: String, result: String = "y") -> String {
        """
        model t
        input x: f32\(Tensor.describe(input))
        \(body)
        out = flatten(\(result))
        output out
        """
    }

    /// Shape of `result` in the graph of `graphText`.
    static func shape(input: [Int], body: String, result: String = "y") throws -> [Int] {
        try load(graphText(input: input, body: body, result: result)).shape(result)
    }

    /// Runs `body` (which defines `result` from input `x`) end to end: parse, verify, bind exactly
    /// `weights` (every tensor must be used), interpret, and return the kept value of `result`.
    static func evaluate(_ body: String, input: Tensor, weights: [String: Tensor] = [:], result: String = "y",
                         sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Tensor {
        let g = try load(graphText(input: input.shape, body: body, result: result))
        let bound = try WeightBinder.bind(g, tensors: weights, source: "weights")
        #expect(bound.unused.isEmpty, "unused weights \(bound.unused)", sourceLocation: sourceLocation)
        let run = Interpreter(g, weights: bound, keep: [result]).run(input)
        guard let value = run.kept[result] else {
            throw LoadError(description: "'\(result)' was not kept")
        }
        #expect(value.shape == g.shape(result), sourceLocation: sourceLocation)
        return value
    }

    /// Calls an op's shape rule and `evaluate` directly, for cases a graph cannot express
    /// (batch N > 1, inputs of any shape).
    static func direct(_ op: OpKind, _ inputs: [Tensor], _ attributes: [String: AttributeValue] = [:],
                       parameters: [Tensor] = []) throws -> Tensor {
        let attributes = Attributes(attributes)
        let shape = try op.definition.outputShape(inputs: inputs.map(\.shape), attributes: attributes)
        return op.definition.evaluate(inputs: inputs, parameters: parameters, attributes: attributes, outputShape: shape)
    }

    static func t(_ shape: [Int], _ values: [Float]) -> Tensor { Tensor(shape: shape, data: values) }

    /// 1, 2, 3, ... in C order.
    static func iota(_ shape: [Int], from start: Float = 1) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, data: (0..<n).map { start + Float($0) })
    }

    /// Checks shape and values: |actual − expected| ≤ rel·|expected| + abs, element by element.
    /// Defaults: 1e-6 relative (float32 storage of a float64 result is 6e-8 relative) and 1e-7
    /// absolute for expected zeros.
    static func expectClose(_ actual: Tensor, shape: [Int], _ expected: [Double], rel: Double = 1e-6, abs: Double = 1e-7,
                            sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(actual.shape == shape, "shape", sourceLocation: sourceLocation)
        #expect(actual.data.count == expected.count, "count", sourceLocation: sourceLocation)
        guard actual.data.count == expected.count else { return }
        for (i, (a, e)) in zip(actual.data, expected).enumerated() {
            let ok = Swift.abs(Double(a) - e) <= rel * Swift.abs(e) + abs
            #expect(ok, "element \(i): got \(a), expected \(e); all: \(actual.data)", sourceLocation: sourceLocation)
        }
    }
}
