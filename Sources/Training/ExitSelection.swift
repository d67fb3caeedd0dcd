import Foundation
import Passes
import Runtime

/// Which exits to keep, and their thresholds: the cheapest mean path cost (`PathCost`) on
/// calibration samples whose drop (in accuracy with labels, else in agreement with the backbone, as
/// `ThresholdSweep.drop`) stays within `maxDrop`, guarded against calibration noise.
///
/// **Candidates.** Thresholds are confidence logits, one per exit, chosen among up to
/// `candidatesPerExit` taken at quantiles of that exit's own logits, plus "off" (T = 1: the head is
/// not run). Max-softmax confidences crowd near 1 (0.99, 0.995, 0.999), where a fixed grid on T has
/// no resolution; quantiles put the candidates where the samples are. Each lies halfway between
/// two distinct logits, so rounding T ↔ logit cannot move a sample across it.
///
/// **Search** (`ExitSearch`): a Lagrangian sweep. For a penalty μ per unit of drop, minimizing
/// Σ path cost + μ · Σ drop spends the error budget where it buys the most compute, at one
/// exchange rate across exits; a greedy walk under the budget lets the first exit it improves spend
/// all of it. Each μ is minimized by coordinate descent, every candidate of one exit priced exactly
/// in one pass over the samples. μ runs from "no drop is worth any compute" down to "compute is all
/// that counts", each warm-started from the last; every choice within the budget is then polished
/// by coordinate descent under the budget itself (the Lagrangian only reaches the convex hull of
/// cost against drop: an exit whose errors are spread evenly is all or nothing to it). The
/// cheapest wins; all exits off, the backbone, is the fallback.
///
/// **Measured** (synthetic ResNet-44-like evaluations, 22 exits, 1,000 samples searched of
/// 1,500, heads of 0.02 %; `ExitSelectionTests.scale`): 0.01–0.03 s in a release build. Against
/// the coordinate descent on the 0.005 grid of `ThresholdSweep.searchPerExit` (12–21 s on the
/// same samples, no margin for either), 0–0.5 points of path cost cheaper over six seeds; against
/// the greedy walk under the budget alone, 0–0.2 points cheaper, never dearer.
///
/// **Noise guard.** With 1,500 samples an accuracy point is 15 images, and a choice that meets the
/// budget exactly on them misses it on the next ones. So (a) the drop must stay within
/// `maxDrop − margin`, the margin by default one standard error of the drop, √changed / N, with
/// `changed` the samples whose answer counts differently from the backbone's (the drop is the mean
/// of these ±1s, so this is the paired, McNemar-style error, slightly high as it ignores the mean);
/// it depends on the choice, so every candidate is checked with its own; and (b) every
/// `holdBackEvery`-th sample is held back from the search (interleaved, so a file sorted by class
/// splits evenly) and the choice re-measured on it: the held-back figures are what to expect on
/// new data. Figures are also given on all samples.
public struct ExitSelection: Sendable {
    public struct NoiseGuard: Sendable {
        public enum Margin: Sendable {
            /// k standard errors of the drop, √changed / N, of the choice being considered.
            case standardErrors(Double)
            /// A fixed fraction (0.005: half an accuracy point).
            case fixed(Double)
        }

        public var margin: Margin
        /// Samples k−1, 2k−1, … are held back from the search (k ≤ 1: none).
        public var holdBackEvery: Int
        /// With 2 or more: the search's budget and candidate count are chosen by cross-validation
        /// over this many interleaved folds (see `CrossValidation`), and `margin` (in standard
        /// errors) applies to the cross-validated drop instead of the searched one.
        public var folds: Int

        public init(margin: Margin = .standardErrors(1), holdBackEvery: Int = 3, folds: Int = 0) {
            self.margin = margin
            self.holdBackEvery = holdBackEvery
            self.folds = folds
        }

        /// What `eec calibrate` does by default: 5-fold cross-validation, the cross-validated drop
        /// within the budget by one standard error, no samples held back (all are searched).
        public static let crossValidated = NoiseGuard(margin: .standardErrors(1), holdBackEvery: 0, folds: 5)

        /// One standard error, every third sample held back.
        public static let standard = NoiseGuard()
        /// No margin, no held-back samples: the budget met exactly on every sample.
        public static let none = NoiseGuard(margin: .fixed(0), holdBackEvery: 0)
    }

    /// What the chosen thresholds do on one part of the samples.
    public struct Figures: Sendable {
        public var samples: Int
        public var point: SweepPoint
        public var drop: Double
        /// √changed / N: the standard error of `drop`.
        public var standardError: Double
        public var backboneAccuracy: Double?
    }

    /// Per exit, T; 1 switches the exit off.
    public var thresholds: [Double]
    /// Per exit, logit(T) as `ExitRule.logitThreshold` gives it (+∞ when off).
    public var thresholdLogits: [Double]
    public var enabled: [Bool]
    public var maxDrop: Double
    /// The margin the selection part was held to: its drop + margin ≤ maxDrop.
    public var margin: Double
    /// The samples searched on, those held back (nil when none are), and all of them.
    public var selection: Figures
    public var heldBack: Figures?
    public var all: Figures
    /// How the budget was chosen, when cross-validated.
    public var crossValidation: CrossValidation?

    public struct InputError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(evaluation: ExitEvaluation, labels: [Int]?, path: PathCost, maxDrop: Double,
                noiseGuard: NoiseGuard = .standard, candidatesPerExit: Int = 128) throws {
        guard evaluation.count > 0 else { throw InputError(description: "no samples to select exits on") }
        if let labels, labels.count != evaluation.count {
            throw InputError(description: "\(labels.count) labels for \(evaluation.count) samples")
        }
        let exits = path.exits
        guard evaluation.exitClasses.allSatisfy({ $0.count == exits }), evaluation.confidenceLogits.count == evaluation.count,
              evaluation.confidenceLogits.allSatisfy({ $0.count == exits }) else {
            throw InputError(description: "costs for \(exits) exits, but the evaluation does not have \(exits) answers for every sample")
        }
        let k = noiseGuard.holdBackEvery
        let indices = Array(0..<evaluation.count)
        let held = k > 1 ? indices.filter { $0 % k == k - 1 } : []
        let chosen = k > 1 ? indices.filter { $0 % k != k - 1 } : indices
        let part = Part(evaluation, labels, chosen)
        self.maxDrop = maxDrop
        if noiseGuard.folds >= 2 {
            let cv = CrossValidation(part, path: path, maxDrop: maxDrop, folds: noiseGuard.folds, margin: noiseGuard.margin)
            thresholds = CrossValidation.thresholds(cv.method, part, path: path, budget: cv.budget)
            margin = maxDrop - cv.budget
            crossValidation = cv
        } else {
            let search = ExitSearch(evaluation: part.evaluation, labels: part.labels, path: path, maxDrop: maxDrop,
                                    margin: noiseGuard.margin, candidatesPerExit: candidatesPerExit)
            let picked = search.run()
            thresholds = search.thresholds(picked)
            margin = search.margin(changed: picked.tally.changed) / Double(max(1, part.evaluation.count))
            crossValidation = nil
        }
        thresholdLogits = thresholds.map(ExitRule.logitThreshold)
        enabled = PathCost.enabled(thresholds, exits: exits)
        selection = part.figures(thresholds, path)
        heldBack = held.isEmpty ? nil : Part(evaluation, labels, held).figures(thresholds, path)
        all = Part(evaluation, labels, indices).figures(thresholds, path)
    }

    /// Some of the samples, with their labels.
    struct Part {
        var evaluation: ExitEvaluation
        var labels: [Int]?

        init(_ e: ExitEvaluation, _ labels: [Int]?, _ indices: [Int]) {
            evaluation = ExitEvaluation(exitClasses: indices.map { e.exitClasses[$0] },
                                        confidenceLogits: indices.map { e.confidenceLogits[$0] },
                                        backboneClasses: indices.map { e.backboneClasses[$0] })
            self.labels = labels.map { l in indices.map { l[$0] } }
        }

        func figures(_ thresholds: [Double], _ path: PathCost) -> Figures {
            let sweep = ThresholdSweep(evaluation: evaluation, labels: labels, path: path)
            let point = sweep.evaluate(thresholds)
            let n = Double(max(1, evaluation.count))
            return Figures(samples: evaluation.count, point: point, drop: sweep.drop(point),
                           standardError: Double(point.changed).squareRoot() / n, backboneAccuracy: sweep.backboneAccuracy)
        }
    }
}
