/// Inference BatchNorm (`nn.BatchNorm2d` in eval mode): y = (x − mean) / √(var + eps) · weight + bias,
/// per channel, with the running statistics.
public enum BatchNorm: OpDefinition {
    public static let name = "batchnorm"
    public static let arity = 1...1
    public static let attributes: [AttributeSpec] = [
        AttributeSpec("eps", .float, .value(.float(1e-5))),
    ]

    public static func outputShape(inputs: [[Int]], attributes: Attributes) throws(OpError) -> [Int] {
        try ShapeRules.requireRank(inputs[0], 4, input: 0, op: name)
        guard attributes.float("eps", default: 1e-5) > 0 else {
            throw OpError("eps must be positive", at: .attribute("eps"))
        }
        return inputs[0]
    }

    public static func parameters(inputs: [[Int]], attributes: Attributes) -> [ParameterSpec] {
        let c = inputs[0][1]
        return [
            ParameterSpec("weight", [c], seeded: .uniform(0.5, 1.5)), ParameterSpec("bias", [c], seeded: .uniform(-0.2, 0.2)),
            ParameterSpec("running_mean", [c], learnable: false, seeded: .uniform(-0.2, 0.2)),
            ParameterSpec("running_var", [c], learnable: false, seeded: .uniform(0.5, 1.5)),
        ]
    }

    /// FoldBatchNorm folds it into the conv before it.
    public static func continuesLayer(after producer: OpKind) -> Bool { producer == .conv2d }

    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost {
        Cost(macs: 0, eenets: elementCount(output).saturatingMul(2))
    }

    public static func evaluate(inputs: [Tensor], parameters p: [Tensor], attributes: Attributes,
                                outputShape: [Int]) -> Tensor {
        let x = inputs[0]
        let eps = attributes.float("eps", default: 1e-5)
        let (n, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        var y = x
        for b in 0..<n {
            for ch in 0..<c {
                let scale = Double(p[0].data[ch]) / (Double(p[3].data[ch]) + eps).squareRoot()
                let mean = Double(p[2].data[ch]), shift = Double(p[1].data[ch])
                let base = (b * c + ch) * hw
                for i in base..<(base + hw) {
                    y.data[i] = Float((Double(x.data[i]) - mean) * scale + shift)
                }
            }
        }
        return y
    }
}
