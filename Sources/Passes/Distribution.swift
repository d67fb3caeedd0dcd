import Foundation

/// How exits are spread over the backbone's cost: exit i of N goes after the first candidate
/// whose backbone-prefix cost reaches total × fraction(i, N). The first four are the rules of the
/// EENets/PTEEnet reference code (`set_thresholds` in eenet.py); `quadratic` is eec's own.
public enum Distribution: String, CaseIterable, Sendable {
    /// 1 − 0.95^(i+1): exits early and dense (5 %, 9.75 %, 14.3 %, ...). The reference default.
    case fine
    /// 1 − 0.8^(i+1): the first exit at ≥ 20 %.
    case pareto
    /// φ^(i−N), φ = 1.61803398875: the last exit at ≥ 61.8 %, each earlier one φ times cheaper.
    case golden
    /// (i+1)/(N+1): evenly spaced.
    case linear
    /// ((i+1)/(N+1))²: eec's addition, not in the reference code; spaced like `linear` but
    /// front-loaded, denser where exits are cheap.
    case quadratic

    static let phi = 1.61803398875

    public func fraction(_ i: Int, of n: Int) -> Double {
        switch self {
        case .fine: return 1 - pow(0.95, Double(i + 1))
        case .pareto: return 1 - pow(0.8, Double(i + 1))
        case .golden: return pow(Distribution.phi, Double(i - n))
        case .linear: return Double(i + 1) / Double(n + 1)
        case .quadratic:
            let x = Double(i + 1) / Double(n + 1)
            return x * x
        }
    }
}
