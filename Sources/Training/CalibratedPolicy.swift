import Foundation
import Passes
import Runtime

/// Thresholds from one knob: each exit's confidence is calibrated into the probability that its
/// answer agrees with the backbone, and an exit answers when the chance of a changed answer is
/// small against the compute it saves.
///
/// Per exit e, a logistic fit q_e(z) = sigmoid(a_e·z + b_e) of "the exit agrees with the
/// backbone" on its confidence logit z (two parameters, fitted by maximum likelihood on every
/// sample, not by counting a few errors). Then, for a price λ of compute in changed answers,
/// exit e answers when 1 − q_e(z) ≤ λ·r_e, r_e = 1 − prefix_e the share of the backbone the
/// exit saves: early exits may answer at a lower q than late ones, as the Lagrangian of
/// "cheapest within a drop" says they should. A larger λ exits more. λ is the only thing
/// chosen on the error counts, so the choice moves little from one set of samples to the next.
/// Exits whose confidence does not predict agreement (a_e ≤ 0) stay off.
struct CalibratedPolicy {
    /// Per exit: (a, b) of q = sigmoid(a·z + b).
    let fits: [(a: Double, b: Double)]
    let path: PathCost

    init(_ e: ExitEvaluation, path: PathCost) {
        self.path = path
        fits = (0..<path.exits).map { x in
            let z = e.confidenceLogits.map { Double($0[x]) }
            let agree = (0..<e.count).map { e.exitClasses[$0][x] == e.backboneClasses[$0] }
            return CalibratedPolicy.logisticFit(z, agree)
        }
    }

    /// The threshold T of each exit at price `lambda` (1: off).
    func thresholds(lambda: Double) -> [Double] {
        (0..<path.exits).map { x in
            let (a, b) = fits[x]
            let allowed = lambda * max(0, 1 - path.prefix[x])
            guard a > 1e-9, allowed > 0 else { return 1 }
            if allowed >= 1 { return 0 }
            // a·z + b ≥ logit(1 − allowed)  ⟺  z ≥ (logit(1 − allowed) − b) / a.
            let z = (log((1 - allowed) / allowed) - b) / a
            let t = ExitRule.sigmoid(z)
            return t >= 1 ? 1 : t
        }
    }

    /// The prices tried: a log grid from "almost never exit" to "exit almost always".
    static let lambdas: [Double] = (0...160).map { pow(10, -5 + 5 * Double($0) / 160) }

    /// The cheapest λ on the grid whose drop on `part` is within `budget` (all off when none is).
    func choose(_ part: ExitSelection.Part, budget: Double) -> [Double] {
        let sweep = ThresholdSweep(evaluation: part.evaluation, labels: part.labels, path: path)
        var best = [Double](repeating: 1, count: path.exits)
        var bestCost = sweep.evaluate(best).pathCost
        for lambda in Self.lambdas {
            let t = thresholds(lambda: lambda)
            let point = sweep.evaluate(t)
            if sweep.drop(point) <= budget + 1e-12 && point.pathCost < bestCost - 1e-12 {
                best = t
                bestCost = point.pathCost
            }
        }
        return best
    }

    /// Maximum-likelihood logistic regression of `y` on `x` (Newton's method, a tiny ridge so
    /// that separable data stays finite).
    static func logisticFit(_ x: [Double], _ y: [Bool]) -> (a: Double, b: Double) {
        // Infinite or NaN logits (K = 1, a NaN input) carry no information for the fit.
        let points = zip(x, y).filter { $0.0.isFinite }
        guard !points.isEmpty else { return (0, 0) }
        let mean = points.reduce(0) { $0 + $1.0 } / Double(points.count)
        let spread = max(1e-6, (points.reduce(0) { $0 + ($1.0 - mean) * ($1.0 - mean) } / Double(points.count)).squareRoot())
        // Fit on standardized x for a well-conditioned Newton step, then map back.
        var a = 0.0, b = 0.0
        let ridge = 1e-3
        for _ in 0..<50 {
            var ga = -ridge * a, gb = 0.0, haa = ridge, hab = 0.0, hbb = 1e-9
            for (xi, yi) in points {
                let u = (xi - mean) / spread
                let p = ExitRule.sigmoid(a * u + b)
                let r = (yi ? 1.0 : 0.0) - p
                ga += r * u
                gb += r
                let w = p * (1 - p)
                haa += w * u * u
                hab += w * u
                hbb += w
            }
            let det = haa * hbb - hab * hab
            guard det > 1e-12 else { break }
            let da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det
            a += da
            b += db
            if abs(da) + abs(db) < 1e-10 { break }
        }
        return (a / spread, b - a * mean / spread)
    }
}
