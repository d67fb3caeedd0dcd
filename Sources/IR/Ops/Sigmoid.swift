import Foundation

/// 1 / (1 + e^−x), elementwise: the confidence of an exit.
public enum Sigmoid: ElementwiseOp {
    public static let name = "sigmoid"

    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost { .zero }

    public static func apply(_ x: Float) -> Float { Float(1 / (1 + exp(-Double(x)))) }
}
