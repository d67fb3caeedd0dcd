/// An op that maps each element on its own (relu, relu6, sigmoid): one input, an output of its
/// shape, and reference semantics that apply `apply` to every element. Such an op writes only its
/// `name`, `cost` and `apply` (and what the passes need to know, as any op).
public protocol ElementwiseOp: OpDefinition {
    /// The function on one element.
    static func apply(_ x: Float) -> Float
}

extension ElementwiseOp {
    public static var arity: ClosedRange<Int> { 1...1 }

    public static func outputShape(inputs: [[Int]], attributes: Attributes) throws(OpError) -> [Int] {
        inputs[0]
    }

    public static func evaluate(inputs: [Tensor], parameters: [Tensor], attributes: Attributes,
                                outputShape: [Int]) -> Tensor {
        var y = inputs[0]
        for i in y.data.indices { y.data[i] = apply(y.data[i]) }
        return y
    }
}
