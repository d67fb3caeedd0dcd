/// Fully connected layer (`nn.Linear`): y = x·Wᵀ + b, W of shape [out, in].
/// `relu=true` marks a ReLU fused into it by the fusion pass.
public enum Linear: OpDefinition {
    public static let name = "linear"
    public static let arity = 1...1
    public static let attributes: [AttributeSpec] = [
        AttributeSpec("out", .int, minimum: 1),
        AttributeSpec("bias", .bool, .value(.bool(true))),
        AttributeSpec("relu", .bool, .value(.bool(false))),
    ]

    public static func outputShape(inputs: [[Int]], attributes: Attributes) throws(OpError) -> [Int] {
        guard inputs[0].count == 2 else {
            throw OpError("linear expects [N, features], found \(Tensor.describe(inputs[0])); flatten it first", at: .input(0))
        }
        return [inputs[0][0], attributes.int("out")]
    }

    public static func parameters(inputs: [[Int]], attributes a: Attributes) -> [ParameterSpec] {
        let out = a.int("out")
        var specs = [ParameterSpec("weight", [out, inputs[0][1]])]
        if a.bool("bias", default: true) { specs.append(ParameterSpec("bias", [out])) }
        return specs
    }

    /// in·out multiply-accumulates; the bias is not counted (the ptflops convention).
    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost {
        let macs = inputs[0][1].saturatingMul(elementCount(output))
        return Cost(macs: macs, eenets: macs.saturatingAdd(attributes.bool("relu") ? elementCount(output) : 0))
    }

    public static func evaluate(inputs: [Tensor], parameters p: [Tensor], attributes: Attributes,
                                outputShape: [Int]) -> Tensor {
        let x = inputs[0]
        let (n, fin, fout) = (x.shape[0], x.shape[1], outputShape[1])
        let relu = attributes.bool("relu")
        var y = Tensor(zeros: outputShape)
        for b in 0..<n {
            for o in 0..<fout {
                var acc = p.count > 1 ? Double(p[1].data[o]) : 0
                for i in 0..<fin { acc += Double(x.data[b * fin + i]) * Double(p[0].data[o * fin + i]) }
                if relu && acc < 0 { acc = 0 }
                y.data[b * fout + o] = Float(acc)
            }
        }
        return y
    }
}
