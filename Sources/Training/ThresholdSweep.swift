import Foundation
import IR
import Passes
import Runtime

/// What a threshold (or one threshold per exit) does on a data set: where samples leave, how
/// often the answer agrees with the backbone (and the labels), and what it costs.
public struct SweepPoint: Sendable {
    public var thresholds: [Double]
    public var agreement: Double
    public var accuracy: Double?
    /// Mean cost rate as the papers count it (exit n costs c_n, the backbone 1).
    public var costRate: Double
    /// Mean true path cost (the heads of the exits passed included).
    public var pathCost: Double
    /// Samples per exit; the last entry is the backbone.
    public var histogram: [Int]
    /// Samples whose answer counts differently from the backbone's: with labels, right where the
    /// backbone is wrong or the reverse; without, every disagreement. The drop is a mean over
    /// these ±1s, so √changed / N is (an upper bound on) its standard error.
    public var changed: Int
}

public struct ThresholdSweep: Sendable {
    public let evaluation: ExitEvaluation
    public let labels: [Int]?
    /// What a sample costs by where it leaves and which exits are switched off.
    public let path: PathCost

    public init(evaluation: ExitEvaluation, labels: [Int]?, path: PathCost) {
        self.evaluation = evaluation
        self.labels = labels
        self.path = path
    }

    /// `costRates`: per exit, then the backbone, the papers' (prefix + own head) / total;
    /// `headCosts`: per exit, its head's cost / total.
    public init(evaluation: ExitEvaluation, labels: [Int]?, costRates: [Double], headCosts: [Double]) {
        self.init(evaluation: evaluation, labels: labels,
                  path: PathCost(prefix: zip(costRates, headCosts).map { $0 - $1 }, head: headCosts, backbone: costRates.last ?? 1))
    }

    /// From the exit cost report of the graph the evaluation ran.
    public init(evaluation: ExitEvaluation, labels: [Int]?, costs: ExitCostReport) {
        self.init(evaluation: evaluation, labels: labels, path: PathCost(costs))
    }

    /// Per exit, then the backbone (1): the papers' cost rate, (prefix + own head) / total.
    public var costRates: [Double] { (0...path.exits).map(path.costRate) }
    /// Per exit: its head's cost / total. A sample pays the heads of every exit it reaches,
    /// except those switched off (T = 1), whose heads the runtime does not run.
    public var headCosts: [Double] { path.head }

    /// The grid of single thresholds swept: 0, 0.005, ..., 1, and between 0.995 and 1 the points
    /// 1 − 10^(−x) for x = 2.5, 3, ..., 6: max-softmax confidences crowd near 1, where the
    /// useful thresholds are 0.998 or 0.9999.
    public static let grid: [Double] = ((0...200).map { Double($0) / 200 } + fine).sorted()
    static let fine: [Double] = (5...12).map { 1 - pow(10, -Double($0) / 2) }

    public var backboneAccuracy: Double? {
        labels.map { l in Double(zip(evaluation.backboneClasses, l).filter { $0 == $1 }.count) / Double(max(1, l.count)) }
    }

    /// The true cost of leaving at each exit (then the backbone) under `thresholds`: the backbone
    /// prefix plus the heads run on the way, switched-off exits (T ≥ 1) not run (`PathCost`).
    public func pathCosts(_ thresholds: [Double]) -> [Double] {
        path.costs(enabled: PathCost.enabled(thresholds, exits: path.exits))
    }

    /// Evaluates one threshold per exit: a sample leaves at the first exit whose confidence h ≥ T_n.
    public func evaluate(_ thresholds: [Double]) -> SweepPoint {
        let limits = thresholds.map(ExitRule.logitThreshold)
        let e = evaluation
        let paths = pathCosts(thresholds), rates = costRates
        var histogram = [Int](repeating: 0, count: e.exits + 1)
        var agree = 0, correct = 0, changed = 0
        var rate = 0.0, spent = 0.0
        for s in 0..<e.count {
            let exit = ExitRule.firstExit(confidenceLogits: e.confidenceLogits[s], thresholdLogits: limits)
            histogram[exit] += 1
            let predicted = exit < e.exits ? e.exitClasses[s][exit] : e.backboneClasses[s]
            if predicted == e.backboneClasses[s] { agree += 1 }
            if let labels, predicted == labels[s] { correct += 1 }
            if Self.drop(predicted: predicted, backbone: e.backboneClasses[s], label: labels?[s]) != 0 { changed += 1 }
            rate += rates[exit]
            spent += paths[exit]
        }
        let n = Double(max(1, e.count))
        return SweepPoint(thresholds: thresholds, agreement: Double(agree) / n, accuracy: labels.map { _ in Double(correct) / n },
                          costRate: rate / n, pathCost: spent / n, histogram: histogram, changed: changed)
    }

    /// The whole sweep of single thresholds.
    public func sweep() -> [SweepPoint] {
        ThresholdSweep.grid.map { t in evaluate([Double](repeating: t, count: evaluation.exits)) }
    }

    /// One sample's share of the drop, times N: with a label, 1 when the backbone is right and the
    /// answer wrong, −1 the reverse; without, 1 when the answer differs from the backbone's.
    @inline(__always)
    public static func drop(predicted: Int, backbone: Int, label: Int?) -> Int {
        guard let label else { return predicted == backbone ? 0 : 1 }
        return (backbone == label ? 1 : 0) - (predicted == label ? 1 : 0)
    }

    /// The drop a point has against the backbone: in accuracy with labels, else in agreement.
    public func drop(_ point: SweepPoint) -> Double {
        if let accuracy = point.accuracy, let base = backboneAccuracy { return base - accuracy }
        return 1 - point.agreement
    }

    /// What "cheapest" means when choosing a threshold.
    public enum Criterion: Sendable {
        /// The mean path cost: the compute really spent, the heads run on the way included.
        case pathCost
        /// The mean cost rate the EENets/PTEEnet papers report (earlier heads not counted).
        case costRate
    }

    /// The cheapest single threshold whose drop is at most `maxDrop` (T = 1 always qualifies):
    /// by default the lowest mean path cost, then the lowest cost rate, then the highest T. With
    /// heads that cost more than they save, that is T = 1: no exit at all.
    public func choose(maxDrop: Double, from points: [SweepPoint], by criterion: Criterion = .pathCost) -> SweepPoint {
        let fitting = points.filter { drop($0) <= maxDrop + 1e-12 }
        func key(_ p: SweepPoint) -> (Double, Double) {
            criterion == .pathCost ? (p.pathCost, p.costRate) : (p.costRate, p.pathCost)
        }
        return fitting.min { a, b in
            if key(a) != key(b) { return key(a) < key(b) }
            return (a.thresholds.first ?? 0) > (b.thresholds.first ?? 0)
        } ?? evaluate([Double](repeating: 1, count: evaluation.exits))
    }

    /// One threshold per exit, by coordinate descent from `start`: each pass tries every grid value
    /// for each exit in turn and keeps the one of lowest path cost that stays within `maxDrop`,
    /// until no change. T = 1 switches an exit off, so an exit not worth its head is dropped.
    public func searchPerExit(maxDrop: Double, start: SweepPoint) -> SweepPoint {
        var best = start
        for _ in 0..<8 {
            var improved = false
            for e in 0..<evaluation.exits {
                for t in ThresholdSweep.grid {
                    var candidate = best.thresholds
                    candidate[e] = t
                    let point = evaluate(candidate)
                    if drop(point) <= maxDrop + 1e-12 && point.pathCost < best.pathCost - 1e-12 {
                        best = point
                        improved = true
                    }
                }
            }
            if !improved { break }
        }
        return best
    }
}
