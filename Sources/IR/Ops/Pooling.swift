/// Shared rules of `maxpool` and `avgpool`: a kernel×kernel window, stride defaulting to the kernel
/// (as in PyTorch), symmetric padding no larger than half the kernel.
enum PoolWindow {
    static let attributes: [AttributeSpec] = [
        AttributeSpec("kernel", .pair, minimum: 1),
        AttributeSpec("stride", .pair, .derived, minimum: 1),
        AttributeSpec("pad", .pair, .value(.int(0)), minimum: 0),
    ]

    struct Geometry {
        var kernel: (Int, Int)
        var stride: (Int, Int)
        var pad: (Int, Int)
    }

    static func geometry(_ a: Attributes) -> Geometry {
        let kernel = a.pair("kernel", default: 1)
        let stride = a["stride"] == nil ? kernel : a.pair("stride", default: 1)
        return Geometry(kernel: kernel, stride: stride, pad: a.pair("pad"))
    }

    static func outputShape(_ x: [Int], _ a: Attributes, op: String) throws(OpError) -> [Int] {
        try ShapeRules.requireRank(x, 4, input: 0, op: op)
        let g = geometry(a)
        guard g.pad.0 * 2 <= g.kernel.0, g.pad.1 * 2 <= g.kernel.1 else {
            throw OpError("pad should be at most half the kernel size (as PyTorch requires)", at: .attribute("pad"))
        }
        let (h, w) = try ShapeRules.window(x, kernel: g.kernel, stride: g.stride, pad: g.pad, op: op)
        return [x[0], x[1], h, w]
    }

    /// Runs `reduce` over every window; it gets the in-bounds values and returns the output value.
    static func evaluate(_ x: Tensor, _ a: Attributes, outputShape: [Int],
                         reduce: (_ window: [Double]) -> Double) -> Tensor {
        let g = geometry(a)
        let (hin, win) = (x.shape[2], x.shape[3])
        let (hout, wout) = (outputShape[2], outputShape[3])
        var y = Tensor(zeros: outputShape)
        var window: [Double] = []
        window.reserveCapacity(g.kernel.0 * g.kernel.1)
        for plane in 0..<(outputShape[0] * outputShape[1]) {
            for oy in 0..<hout {
                for ox in 0..<wout {
                    window.removeAll(keepingCapacity: true)
                    for ky in 0..<g.kernel.0 {
                        let iy = oy * g.stride.0 - g.pad.0 + ky
                        if iy < 0 || iy >= hin { continue }
                        for kx in 0..<g.kernel.1 {
                            let ix = ox * g.stride.1 - g.pad.1 + kx
                            if ix < 0 || ix >= win { continue }
                            window.append(Double(x.data[(plane * hin + iy) * win + ix]))
                        }
                    }
                    y.data[(plane * hout + oy) * wout + ox] = Float(reduce(window))
                }
            }
        }
        return y
    }
}

/// Max over each window (`nn.MaxPool2d`); padding never wins.
public enum MaxPool: OpDefinition {
    public static let name = "maxpool"
    public static let arity = 1...1
    public static let attributes = PoolWindow.attributes

    public static func outputShape(inputs: [[Int]], attributes: Attributes) throws(OpError) -> [Int] {
        try PoolWindow.outputShape(inputs[0], attributes, op: name)
    }

    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost {
        Cost(macs: 0, eenets: elementCount(inputs[0]))
    }

    public static func evaluate(inputs: [Tensor], parameters: [Tensor], attributes: Attributes,
                                outputShape: [Int]) -> Tensor {
        PoolWindow.evaluate(inputs[0], attributes, outputShape: outputShape) { $0.max() ?? 0 }
    }
}

/// Mean over each window (`nn.AvgPool2d`, count_include_pad=True: padding counts as zeros).
public enum AvgPool: OpDefinition {
    public static let name = "avgpool"
    public static let arity = 1...1
    public static let attributes = PoolWindow.attributes

    public static func outputShape(inputs: [[Int]], attributes: Attributes) throws(OpError) -> [Int] {
        try PoolWindow.outputShape(inputs[0], attributes, op: name)
    }

    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost {
        Cost(macs: 0, eenets: elementCount(inputs[0]))
    }

    public static func evaluate(inputs: [Tensor], parameters: [Tensor], attributes: Attributes,
                                outputShape: [Int]) -> Tensor {
        let k = PoolWindow.geometry(attributes).kernel
        let area = Double(k.0 * k.1)
        return PoolWindow.evaluate(inputs[0], attributes, outputShape: outputShape) { $0.reduce(0, +) / area }
    }
}
