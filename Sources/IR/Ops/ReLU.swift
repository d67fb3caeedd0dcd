/// max(x, 0), elementwise.
public enum ReLU: OpDefinition {
    public static let name = "relu"
    public static let arity = 1...1

    public static func outputShape(inputs: [[Int]], attributes: Attributes) throws(OpError) -> [Int] {
        inputs[0]
    }

    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost {
        Cost(macs: 0, eenets: elementCount(output))
    }

    /// The activation of a conv, add or linear (FuseReLU fuses it) or of a BatchNorm (folded into
    /// its conv first).
    public static func continuesLayer(after producer: OpKind) -> Bool {
        producer.definition.acceptsFusedReLU || producer == .batchnorm
    }

    public static func evaluate(inputs: [Tensor], parameters: [Tensor], attributes: Attributes,
                                outputShape: [Int]) -> Tensor {
        var y = inputs[0]
        for i in y.data.indices where y.data[i] < 0 { y.data[i] = 0 }
        return y
    }
}
