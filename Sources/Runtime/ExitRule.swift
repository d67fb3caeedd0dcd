import Foundation

/// The early-exit decision, shared by the reference interpreter and (as C) by the generated
/// runtime: exit n answers when its confidence h = sigmoid(z) reaches the threshold T.
///
/// Comparing the logit z with logit(T) instead of sigmoid(z) with T needs no exponential at run
/// time, which keeps the C runtime free of libm.
public enum ExitRule {
    /// logit(T) = ln(T / (1 − T)); T = 0 never blocks an exit, T = 1 never takes it.
    public static func logitThreshold(_ threshold: Double) -> Double {
        if threshold <= 0 { return -.infinity }
        if threshold >= 1 { return .infinity }
        return log(threshold / (1 - threshold))
    }

    /// True when an exit with confidence logit `z` is taken at threshold logit `t`: h ≥ T.
    public static func takes(confidenceLogit z: Float, thresholdLogit t: Double) -> Bool {
        Double(z) >= t
    }

    /// The index of the first exit taken, or `confidenceLogits.count` for the final output.
    public static func firstExit(confidenceLogits: [Float], thresholdLogits: [Double]) -> Int {
        for (i, z) in confidenceLogits.enumerated() where i < thresholdLogits.count {
            if takes(confidenceLogit: z, thresholdLogit: thresholdLogits[i]) { return i }
        }
        return confidenceLogits.count
    }

    /// sigmoid(z), for reports.
    public static func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }
}
