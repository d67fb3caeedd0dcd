/// max(x, 0), elementwise.
public enum ReLU: ElementwiseOp {
    public static let name = "relu"

    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost {
        Cost(macs: 0, eenets: elementCount(output))
    }

    /// The activation of a conv, add or linear (FuseReLU fuses it) or of a BatchNorm (folded into
    /// its conv first).
    public static func continuesLayer(after producer: OpKind) -> Bool {
        producer.definition.acceptsFusedReLU || producer == .batchnorm
    }

    public static func apply(_ x: Float) -> Float { x < 0 ? 0 : x }
}
