/// `x[:, :, ::s, ::s]`: keeps every s-th row and column, starting at 0. With `channel_pad` it forms
/// the option-A ResNet shortcut.
public enum Subsample: OpDefinition {
    public static let name = "subsample"
    public static let arity = 1...1
    public static let attributes: [AttributeSpec] = [AttributeSpec("stride", .int, minimum: 1)]

    public static func outputShape(inputs: [[Int]], attributes: Attributes) throws(OpError) -> [Int] {
        let x = inputs[0]
        try ShapeRules.requireRank(x, 4, input: 0, op: name)
        let s = max(1, attributes.int("stride", default: 1))
        return [x[0], x[1], (x[2] + s - 1) / s, (x[3] + s - 1) / s]
    }

    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost { .zero }

    public static func evaluate(inputs: [Tensor], parameters: [Tensor], attributes: Attributes,
                                outputShape: [Int]) -> Tensor {
        let x = inputs[0]
        let s = attributes.int("stride", default: 1)
        let (hin, win) = (x.shape[2], x.shape[3])
        let (hout, wout) = (outputShape[2], outputShape[3])
        var y = Tensor(zeros: outputShape)
        for plane in 0..<(outputShape[0] * outputShape[1]) {
            for oy in 0..<hout {
                for ox in 0..<wout {
                    y.data[(plane * hout + oy) * wout + ox] = x.data[(plane * hin + oy * s) * win + ox * s]
                }
            }
        }
        return y
    }
}
