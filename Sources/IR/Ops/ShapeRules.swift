/// Shape checks shared by several ops.
enum ShapeRules {
    /// The largest tensor eec accepts (2^31 elements, 8 GiB of float32). It keeps every size and
    /// cost product inside Int64 and turns absurd shapes into errors instead of allocations.
    static let maxElements = 1 << 31

    static func requireRank(_ shape: [Int], _ rank: Int, input: Int, op: String) throws(OpError) {
        guard shape.count == rank else {
            let what = rank == 4 ? "an NCHW tensor" : "a rank-\(rank) tensor"
            throw OpError("\(op) expects \(what), found \(Tensor.describe(shape))", at: .input(input))
        }
    }

    /// Output size of a sliding window (conv or pooling) along one axis.
    static func windowOutput(size: Int, kernel: Int, stride: Int, pad: Int, dilation: Int = 1) -> Int {
        let span = dilation.saturatingMul(kernel - 1).saturatingAdd(1)
        let room = size.saturatingAdd(pad.saturatingMul(2)) - span
        return room < 0 ? 0 : room / stride + 1
    }

    /// Spatial output of a window op, or an error naming the sizes when nothing is left.
    static func window(_ input: [Int], kernel: (Int, Int), stride: (Int, Int), pad: (Int, Int),
                       dilation: (Int, Int) = (1, 1), op: String) throws(OpError) -> (Int, Int) {
        let h = windowOutput(size: input[2], kernel: kernel.0, stride: stride.0, pad: pad.0, dilation: dilation.0)
        let w = windowOutput(size: input[3], kernel: kernel.1, stride: stride.1, pad: pad.1, dilation: dilation.1)
        guard h > 0, w > 0 else {
            throw OpError("\(op) window \(kernel.0)x\(kernel.1) does not fit the \(input[2])x\(input[3]) input with padding \(pad.0)x\(pad.1)", at: .attribute("kernel"))
        }
        return (h, w)
    }
}
