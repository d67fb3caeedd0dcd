/// [N, d1, d2, ...] → [N, d1·d2·...], keeping C order (`torch.flatten(x, 1)`).
public enum Flatten: OpDefinition {
    public static let name = "flatten"
    public static let arity = 1...1

    public static func outputShape(inputs: [[Int]], attributes: Attributes) throws(OpError) -> [Int] {
        let x = inputs[0]
        guard x.count >= 2 else {
            throw OpError("flatten expects a tensor of rank 2 or more, found \(Tensor.describe(x))", at: .input(0))
        }
        return [x[0], elementCount(Array(x.dropFirst()))]
    }

    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost { .zero }

    public static func evaluate(inputs: [Tensor], parameters: [Tensor], attributes: Attributes,
                                outputShape: [Int]) -> Tensor {
        Tensor(shape: outputShape, data: inputs[0].data)
    }
}
