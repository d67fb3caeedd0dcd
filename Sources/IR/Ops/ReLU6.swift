/// min(max(x, 0), 6), elementwise: MobileNet's ReLU6, ONNX's `Clip(min=0, max=6)`. NaN stays NaN
/// (as in PyTorch, and in the C and Swift kernels): it is neither < 0 nor > 6.
public enum ReLU6: ElementwiseOp {
    public static let name = "relu6"

    /// One per element, as a ReLU (ptflops counts `nn.ReLU6` with its ReLU hook).
    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost {
        Cost(macs: 0, eenets: elementCount(output))
    }

    /// The activation of its layer, like a ReLU: no exit between a conv and its ReLU6.
    public static func continuesLayer(after producer: OpKind) -> Bool {
        ReLU.continuesLayer(after: producer)
    }

    public static func apply(_ x: Float) -> Float { x < 0 ? 0 : (x > 6 ? 6 : x) }
}
