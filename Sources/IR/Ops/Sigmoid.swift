import Foundation

/// 1 / (1 + e^−x), elementwise: the confidence of an exit.
public enum Sigmoid: OpDefinition {
    public static let name = "sigmoid"
    public static let arity = 1...1

    public static func outputShape(inputs: [[Int]], attributes: Attributes) throws(OpError) -> [Int] {
        inputs[0]
    }

    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost { .zero }

    public static func evaluate(inputs: [Tensor], parameters: [Tensor], attributes: Attributes,
                                outputShape: [Int]) -> Tensor {
        var y = inputs[0]
        for i in y.data.indices { y.data[i] = Float(1 / (1 + exp(-Double(y.data[i])))) }
        return y
    }
}
