import Foundation
import IR
@testable import Import

/// Plain NCHW reference computations for the fixtures, written from the ONNX operator
/// specification, independent of eec's ops; and a runner of imported models in the interpreter.
enum Reference {
    /// ONNX Conv: pads [top, left, bottom, right], OIHW weights, groups.
    static func conv(_ x: Tensor, _ w: [Float], wShape: [Int], bias: [Float]?, stride: [Int] = [1, 1],
                     pads: [Int] = [0, 0, 0, 0], dilation: [Int] = [1, 1], groups: Int = 1) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, cg, kh, kw) = (wShape[0], wShape[1], wShape[2], wShape[3])
        let oh = (h + pads[0] + pads[2] - dilation[0] * (kh - 1) - 1) / stride[0] + 1
        let ow = (wd + pads[1] + pads[3] - dilation[1] * (kw - 1) - 1) / stride[1] + 1
        var y = [Float](repeating: 0, count: n * o * oh * ow)
        let og = o / groups
        for b in 0..<n { for oc in 0..<o { for i in 0..<oh { for j in 0..<ow {
            var acc = Double(bias?[oc] ?? 0)
            let g = oc / og
            for ic in 0..<cg { for p in 0..<kh { for q in 0..<kw {
                let yy = i * stride[0] - pads[0] + p * dilation[0], xx = j * stride[1] - pads[1] + q * dilation[1]
                guard yy >= 0, yy < h, xx >= 0, xx < wd else { continue }
                let input = x.data[((b * c + g * cg + ic) * h + yy) * wd + xx]
                acc += Double(input) * Double(w[((oc * cg + ic) * kh + p) * kw + q])
            } } }
            y[((b * o + oc) * oh + i) * ow + j] = Float(acc)
        } } } }
        return Tensor(shape: [n, o, oh, ow], data: y)
    }

    /// MaxPool, or AveragePool with count_include_pad=1.
    static func pool(_ x: Tensor, kernel: [Int], stride: [Int], pads: [Int] = [0, 0], max isMax: Bool) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h + 2 * pads[0] - kernel[0]) / stride[0] + 1, ow = (w + 2 * pads[1] - kernel[1]) / stride[1] + 1
        var y: [Float] = []
        for plane in 0..<(n * c) { for i in 0..<oh { for j in 0..<ow {
            var best = -Float.infinity, sum = 0.0
            for p in 0..<kernel[0] { for q in 0..<kernel[1] {
                let yy = i * stride[0] - pads[0] + p, xx = j * stride[1] - pads[1] + q
                guard yy >= 0, yy < h, xx >= 0, xx < w else { continue }
                let v = x.data[(plane * h + yy) * w + xx]
                best = Swift.max(best, v)
                sum += Double(v)
            } }
            y.append(isMax ? best : Float(sum / Double(kernel[0] * kernel[1])))
        } } }
        return Tensor(shape: [n, c, oh, ow], data: y)
    }

    /// y[n, o] = Σ_i x[n, i] · W[o, i] + b[o].
    static func linear(_ x: Tensor, weight: [Float], out: Int, bias: [Float]?) -> Tensor {
        let (n, k) = (x.shape[0], x.shape[1])
        var y: [Float] = []
        for b in 0..<n { for o in 0..<out {
            var acc = Double(bias?[o] ?? 0)
            for i in 0..<k { acc += Double(x.data[b * k + i]) * Double(weight[o * k + i]) }
            y.append(Float(acc))
        } }
        return Tensor(shape: [n, out], data: y)
    }

    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor { Tensor(shape: x.shape, data: x.data.map(f)) }

    /// An input of `shape` with values in [-1, 1).
    static func input(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        Tensor(shape: shape, data: seeded(shape.reduce(1, *), seed: seed))
    }

    /// Imports `model`, runs it in the interpreter on `input`, returns the output.
    static func run(_ model: ModelSpec, _ input: Tensor) throws -> (Tensor, ImportedModel) {
        let imported = try model.importModel()
        let graph = try VerifiedGraph(imported.graph)
        let weights = try WeightBinder.bind(graph, tensors: imported.weights, source: "test")
        return (Interpreter(graph, weights: weights).run(input).logits, imported)
    }

    static func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        guard a.shape == b.shape else { return .infinity }
        return zip(a.data, b.data).map { abs($0 - $1) }.max() ?? 0
    }
}
