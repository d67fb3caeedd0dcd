import Foundation

/// Softmax over axis 1 (classes, or channels), computed stably (max subtracted first).
public enum Softmax: OpDefinition {
    public static let name = "softmax"
    public static let arity = 1...1

    public static func outputShape(inputs: [[Int]], attributes: Attributes) throws(OpError) -> [Int] {
        guard inputs[0].count >= 2 else {
            throw OpError("softmax expects a tensor of rank 2 or more, found \(Tensor.describe(inputs[0]))", at: .input(0))
        }
        return inputs[0]
    }

    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost { .zero }

    public static func evaluate(inputs: [Tensor], parameters: [Tensor], attributes: Attributes,
                                outputShape: [Int]) -> Tensor {
        let x = inputs[0]
        let (n, c) = (x.shape[0], x.shape[1])
        let inner = elementCount(Array(x.shape.dropFirst(2)))
        var y = x
        for b in 0..<n {
            for j in 0..<inner {
                let at = { (k: Int) in (b * c + k) * inner + j }
                var top = -Double.infinity
                for k in 0..<c { top = max(top, Double(x.data[at(k)])) }
                var sum = 0.0
                for k in 0..<c { sum += Foundation.exp(Double(x.data[at(k)]) - top) }
                for k in 0..<c { y.data[at(k)] = Float(Foundation.exp(Double(x.data[at(k)]) - top) / sum) }
            }
        }
        return y
    }
}
