/// Elementwise sum of two tensors of the same shape (a residual connection).
/// `relu=true` marks a ReLU fused into it by the fusion pass.
public enum Add: OpDefinition {
    public static let name = "add"
    public static let arity = 2...2
    public static let attributes: [AttributeSpec] = [
        AttributeSpec("relu", .bool, .value(.bool(false))),
    ]

    public static func outputShape(inputs: [[Int]], attributes: Attributes) throws(OpError) -> [Int] {
        guard inputs[0] == inputs[1] else {
            throw OpError("add of \(Tensor.describe(inputs[0])) and \(Tensor.describe(inputs[1])): shapes must be equal", at: .input(1))
        }
        return inputs[0]
    }

    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost {
        Cost(macs: 0, eenets: attributes.bool("relu") ? elementCount(output) : 0)
    }

    public static func evaluate(inputs: [Tensor], parameters: [Tensor], attributes: Attributes,
                                outputShape: [Int]) -> Tensor {
        var y = inputs[0]
        let relu = attributes.bool("relu")
        for i in y.data.indices {
            let v = y.data[i] + inputs[1].data[i]
            y.data[i] = relu && v < 0 ? 0 : v
        }
        return y
    }
}
