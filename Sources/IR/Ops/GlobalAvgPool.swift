/// Mean over each channel's whole plane (`nn.AdaptiveAvgPool2d(1)`): [N,C,H,W] → [N,C,1,1].
public enum GlobalAvgPool: OpDefinition {
    public static let name = "global_avg_pool"
    public static let arity = 1...1

    public static func outputShape(inputs: [[Int]], attributes: Attributes) throws(OpError) -> [Int] {
        try ShapeRules.requireRank(inputs[0], 4, input: 0, op: name)
        return [inputs[0][0], inputs[0][1], 1, 1]
    }

    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost {
        Cost(macs: 0, eenets: elementCount(inputs[0]))
    }

    /// An exit here would only repeat the final classifier.
    public static let exitMayFollow = false

    public static func evaluate(inputs: [Tensor], parameters: [Tensor], attributes: Attributes,
                                outputShape: [Int]) -> Tensor {
        let x = inputs[0]
        let hw = x.shape[2] * x.shape[3]
        var y = Tensor(zeros: outputShape)
        for plane in 0..<y.count {
            var sum = 0.0
            for i in (plane * hw)..<((plane + 1) * hw) { sum += Double(x.data[i]) }
            y.data[plane] = Float(sum / Double(hw))
        }
        return y
    }
}
