import Foundation

/// The logit of the largest softmax probability of class logits, [N, K] → [N, 1]:
/// p = max_k softmax(x)_k, z = ln(p / (1 − p)) = −ln Σ_{k≠m} e^(x_k − x_m), m the argmax (the first
/// on ties).
///
/// It exists so an exit can use its classifier's own max-softmax as its confidence instead of a
/// learned sigmoid head: the runtime's rule "exit when z ≥ logit(T)" then reads "exit when the top
/// class has probability ≥ T", with no extra layer and no training.
///
/// The sum is taken relative to the runner-up r, z = (x_m − x_r) − ln Σ_{k≠m} e^(x_k − x_r), so it
/// lies in [1, K − 1] and never underflows: a spread of 200 gives z ≈ 200 both here (float64) and
/// in the float32 C kernel, where the sum as written would vanish past a spread of about 104.
/// Edge cases: K = 1, or a runner-up infinitely far below (the sum is exactly 0), gives p = 1 and
/// z = the largest finite float (the runtime's EEC_LOGIT_MAX); a NaN logit gives NaN (a NaN
/// confidence never exits), and so do two equal infinite top logits (softmax is undefined there).
/// Results are clamped to ±the largest finite float.
public enum MaxSoftmaxLogit: OpDefinition {
    public static let name = "max_softmax_logit"
    public static let arity = 1...1

    public static func outputShape(inputs: [[Int]], attributes: Attributes) throws(OpError) -> [Int] {
        let x = inputs[0]
        guard x.count == 2 else {
            throw OpError("max_softmax_logit expects class logits [N, classes], found \(Tensor.describe(x))", at: .input(0))
        }
        guard x[1] >= 1 else {
            throw OpError("max_softmax_logit needs at least one class, found \(Tensor.describe(x))", at: .input(0))
        }
        return [x[0], 1]
    }

    public static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost { .zero }

    public static func evaluate(inputs: [Tensor], parameters: [Tensor], attributes: Attributes,
                                outputShape: [Int]) -> Tensor {
        let x = inputs[0]
        let (n, k) = (x.shape[0], x.shape[1])
        var y = Tensor(zeros: outputShape)
        for b in 0..<n {
            y.data[b] = confidence(x.data[(b * k)..<((b + 1) * k)])
        }
        return y
    }

    /// z of one row of logits, in float64, clamped and stored as float32.
    static func confidence(_ row: ArraySlice<Float>) -> Float {
        let largest = Double(Float.greatestFiniteMagnitude)
        if row.contains(where: \.isNaN) { return .nan }
        var m = row.startIndex
        for i in row.indices where row[i] > row[m] { m = i }
        // The runner-up: the largest logit but the argmax (the other one of a tie).
        guard let r = row.indices.filter({ $0 != m }).max(by: { row[$0] < row[$1] }) else { return Float(largest) }
        let spread = Double(row[m]) - Double(row[r])
        if spread.isNaN { return .nan }
        if spread == .infinity { return Float(largest) }
        var sum = 0.0
        for i in row.indices where i != m { sum += Foundation.exp(Double(row[i]) - Double(row[r])) }
        let z = spread - Foundation.log(sum)
        return Float(min(max(z, -largest), largest))
    }
}
