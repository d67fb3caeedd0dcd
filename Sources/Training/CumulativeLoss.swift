import Foundation

/// The cost-aware loss of EENets/PTEEnet over the exits of one sample.
///
/// With p_n = ŷ_n[y] (exit n's softmax probability of the label), h_n its confidence and c_n its
/// cost rate, and the backbone as exit N (P_N = ŷ_N[y], C_N = 1):
///   P_n = h_n·p_n + (1−h_n)·P_{n+1},   C_n = h_n·c_n + (1−h_n)·C_{n+1}
///   v2: L = Σ_{n<N} [−log P_n + λ·C_n]        v1: L = −log P_0 + λ·C_0
///   v0: L = Σ_{n<N} −log p_n  (each classifier on its own, confidences untouched: the first
///       stage of EENets' `--two-stage` training, used by eec as a warm-up)
/// Only the label's component of each mixture matters to the cross-entropy, so the recursion
/// runs on scalars.
public enum LossVersion: String, CaseIterable, Sendable {
    case v0, v1, v2
}

public struct CumulativeLoss: Sendable {
    public var version: LossVersion
    public var lambda: Double
    /// Cost rates c_0..c_{N−1} of the exits.
    public var costRates: [Double]

    /// Probabilities below this are clamped before the log, so a confidently wrong mixture gives a
    /// large but finite loss.
    static let floor = 1e-12

    public init(version: LossVersion = .v2, lambda: Double = 1, costRates: [Double]) {
        self.version = version
        self.lambda = lambda
        self.costRates = costRates
    }

    /// The loss and its gradients with respect to each p_n and h_n.
    public struct Result: Sendable {
        public var loss: Double
        public var gradP: [Double]
        public var gradH: [Double]
        /// P_0: the probability the mixture gives the label (for reports).
        public var mixture: Double
    }

    /// `p`: each exit's probability of the label; `h`: each exit's confidence; `backbone`: the
    /// backbone's probability of the label.
    public func evaluate(p: [Double], h: [Double], backbone: Double) -> Result {
        let n = costRates.count
        if version == .v0 {
            let clamped = p.map { max($0, CumulativeLoss.floor) }
            return Result(loss: clamped.reduce(0) { $0 - log($1) }, gradP: clamped.map { -1 / $0 },
                          gradH: [Double](repeating: 0, count: n), mixture: p.first ?? backbone)
        }
        var bigP = [Double](repeating: 0, count: n + 1)
        var bigC = [Double](repeating: 0, count: n + 1)
        bigP[n] = backbone
        bigC[n] = 1
        for i in stride(from: n - 1, through: 0, by: -1) {
            bigP[i] = h[i] * p[i] + (1 - h[i]) * bigP[i + 1]
            bigC[i] = h[i] * costRates[i] + (1 - h[i]) * bigC[i + 1]
        }
        let terms = version == .v2 ? n : min(1, n)
        var loss = 0.0
        // dL/dP_i and dL/dC_i, accumulated from the front: P_i feeds P_{i−1} with weight (1−h_{i−1}).
        var gP = [Double](repeating: 0, count: n + 1)
        var gC = [Double](repeating: 0, count: n + 1)
        for i in 0..<n {
            let carriedP = i > 0 ? (1 - h[i - 1]) * gP[i - 1] : 0
            let carriedC = i > 0 ? (1 - h[i - 1]) * gC[i - 1] : 0
            let own = i < terms
            let clamped = max(bigP[i], CumulativeLoss.floor)
            if own { loss += -log(clamped) + lambda * bigC[i] }
            gP[i] = (own ? (bigP[i] > CumulativeLoss.floor ? -1 / clamped : 0) : 0) + carriedP
            gC[i] = (own ? lambda : 0) + carriedC
        }
        var gradP = [Double](repeating: 0, count: n)
        var gradH = [Double](repeating: 0, count: n)
        for i in 0..<n {
            gradP[i] = gP[i] * h[i]
            gradH[i] = gP[i] * (p[i] - bigP[i + 1]) + gC[i] * (costRates[i] - bigC[i + 1])
        }
        return Result(loss: loss, gradP: gradP, gradH: gradH, mixture: n > 0 ? bigP[0] : backbone)
    }
}
