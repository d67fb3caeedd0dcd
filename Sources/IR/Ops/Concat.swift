/// Concatenation along the channel axis (`torch.cat([a, b], 1)`), in argument order.
public enum Concat: OpDefinition {
    public static let name = "concat"
    public static let arity = 1...Int.max

    public static func outputShape(inputs: [[Int]], attributes: Attributes) throws(OpError) -> [Int] {
        try ShapeRules.requireRank(inputs[0], 4, input: 0, op: name)
        var channels = 0
        for (i, shape) in inputs.enumerated() {
            try ShapeRules.requireRank(shape, 4, input: i, op: name)
            guard shape[0] == inputs[0][0], shape[2] == inputs[0][2], shape[3] == inputs[0][3] else {
                throw OpError("concat of \(Tensor.describe(inputs[0])) and \(Tensor.describe(shape)): all but the channel axis must be equal", at: .input(i))
            }
            channels = channels.saturatingAdd(shape[1])
        }
        return [inputs[0][0], channels, inputs[0][2], inputs[0][3]]
    }

    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost { .zero }

    public static func evaluate(inputs: [Tensor], parameters: [Tensor], attributes: Attributes,
                                outputShape: [Int]) -> Tensor {
        var y = Tensor(zeros: outputShape)
        let (n, c) = (outputShape[0], outputShape[1])
        let hw = outputShape[2] * outputShape[3]
        for b in 0..<n {
            var offset = b * c * hw
            for x in inputs {
                let chunk = x.shape[1] * hw
                let start = b * chunk
                y.data.replaceSubrange(offset..<(offset + chunk), with: x.data[start..<(start + chunk)])
                offset += chunk
            }
        }
        return y
    }
}
