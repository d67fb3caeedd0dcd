/// Adds `before` zero channels in front of the channel axis and `after` behind it
/// (`F.pad(x, (0, 0, 0, 0, before, after))`).
public enum ChannelPad: OpDefinition {
    public static let name = "channel_pad"
    public static let arity = 1...1
    public static let attributes: [AttributeSpec] = [
        AttributeSpec("before", .int, minimum: 0),
        AttributeSpec("after", .int, minimum: 0),
    ]

    public static func outputShape(inputs: [[Int]], attributes a: Attributes) throws(OpError) -> [Int] {
        let x = inputs[0]
        try ShapeRules.requireRank(x, 4, input: 0, op: name)
        return [x[0], x[1].saturatingAdd(a.int("before")).saturatingAdd(a.int("after")), x[2], x[3]]
    }

    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost { .zero }

    public static func evaluate(inputs: [Tensor], parameters: [Tensor], attributes: Attributes,
                                outputShape: [Int]) -> Tensor {
        let x = inputs[0]
        let before = attributes.int("before")
        let (n, cin, cout) = (x.shape[0], x.shape[1], outputShape[1])
        let hw = x.shape[2] * x.shape[3]
        var y = Tensor(zeros: outputShape)
        for b in 0..<n {
            let src = b * cin * hw, dst = (b * cout + before) * hw
            y.data.replaceSubrange(dst..<(dst + cin * hw), with: x.data[src..<(src + cin * hw)])
        }
        return y
    }
}
