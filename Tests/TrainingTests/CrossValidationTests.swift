import Foundation
import IR
import Passes
import Testing
@testable import Training

/// The cross-validated choice of how hard to search, and the calibrated one-price policy.
@Suite("Cross-validated exit selection")
struct CrossValidationTests {
    /// `count` samples of 4 exits whose answers agree with the backbone with probability
    /// sigmoid(2·z − 1) at confidence logit z, z drawn per sample and exit: confidence predicts
    /// agreement, with noise, as real exits do. Backbone always right (labels = its classes).
    static func noisy(_ count: Int, seed: UInt64) -> ExitEvaluation {
        var rng = SplitMix64(seed: seed)
        var classes: [[Int]] = [], logits: [[Float]] = [], backbone: [Int] = []
        for s in 0..<count {
            let y = s % 10
            var c: [Int] = [], z: [Float] = []
            for x in 0..<4 {
                let logit = Double(rng.uniform(-2, 4)) + Double(x) * 0.5
                let agree = Double(rng.uniform(0, 1)) < 1 / (1 + exp(-(2 * logit - 1)))
                c.append(agree ? y : (y + 1) % 10)
                z.append(Float(logit))
            }
            classes.append(c)
            logits.append(z)
            backbone.append(y)
        }
        return ExitEvaluation(exitClasses: classes, confidenceLogits: logits, backboneClasses: backbone)
    }

    static let costs = PathCost(prefix: [0.2, 0.4, 0.6, 0.8], head: [0.001, 0.001, 0.001, 0.001])

    @Test("The logistic fit recovers a known slope and intercept")
    func logisticFit() {
        var rng = SplitMix64(seed: 1)
        var x: [Double] = [], y: [Bool] = []
        for _ in 0..<20_000 {
            let v = Double(rng.uniform(-4, 4))
            x.append(v)
            y.append(Double(rng.uniform(0, 1)) < 1 / (1 + exp(-(1.5 * v - 0.5))))
        }
        let (a, b) = CalibratedPolicy.logisticFit(x, y)
        // 20,000 samples: the standard errors are about 0.03; allow four.
        #expect(abs(a - 1.5) < 0.12, "a = \(a)")
        #expect(abs(b + 0.5) < 0.12, "b = \(b)")
        // Infinite logits are left out rather than poisoning the fit; constant labels stay finite.
        let (a2, b2) = CalibratedPolicy.logisticFit([1, 2, .infinity, 3], [true, true, true, true])
        #expect(a2.isFinite && b2.isFinite)
    }

    @Test("One price: exit x answers when 1 − q(z) ≤ λ·(1 − prefix), by hand")
    func thresholdsByHand() {
        let e = Self.noisy(2_000, seed: 2)
        let policy = CalibratedPolicy(e, path: Self.costs)
        let lambda = 0.1
        let t = policy.thresholds(lambda: lambda)
        for x in 0..<4 {
            let (a, b) = policy.fits[x]
            let allowed = lambda * (1 - Self.costs.prefix[x])
            // At the threshold, q = 1 − allowed.
            let z = log(t[x] / (1 - t[x]))
            #expect(abs(1 / (1 + exp(-(a * z + b))) - (1 - allowed)) < 1e-9)
        }
        // A larger price exits more, at lower thresholds.
        let looser = policy.thresholds(lambda: 0.3)
        for x in 0..<4 { #expect(looser[x] <= t[x]) }
        #expect(policy.thresholds(lambda: 0) == [1, 1, 1, 1])
    }

    @Test("The cross-validated choice holds its budget on fresh samples; the plain search does not promise to")
    func holdsOnFreshSamples() throws {
        let calibration = Self.noisy(1_500, seed: 3), fresh = Self.noisy(20_000, seed: 4)
        let maxDrop = 0.02
        let s = try ExitSelection(evaluation: calibration, labels: calibration.backboneClasses, path: Self.costs,
                                  maxDrop: maxDrop, noiseGuard: .crossValidated)
        let cv = try #require(s.crossValidation)
        #expect(cv.rows.count == CrossValidation.methods.count * CrossValidation.budgetFractions.count)
        #expect(cv.drop + cv.standardError <= maxDrop + 1e-12)
        #expect(s.all.point.pathCost < 1, "some exit pays")
        let sweep = ThresholdSweep(evaluation: fresh, labels: fresh.backboneClasses, path: Self.costs)
        let onFresh = sweep.drop(sweep.evaluate(s.thresholds))
        // The cross-validated estimate is what new samples see, within its noise (20,000 fresh samples: ±0.1 point).
        #expect(onFresh <= maxDrop + 0.002, "drop \(onFresh) on fresh samples")
        #expect(abs(onFresh - cv.drop) < 3 * cv.standardError + 0.002, "cv \(cv.drop) ± \(cv.standardError), fresh \(onFresh)")
    }

    @Test("With no drop allowed, the choice loses nothing: in every fold it was chosen on, and on all samples")
    func nothingFits() throws {
        let e = Self.noisy(600, seed: 5)
        let s = try ExitSelection(evaluation: e, labels: e.backboneClasses, path: Self.costs, maxDrop: 0, noiseGuard: .crossValidated)
        let cv = try #require(s.crossValidation)
        // A setting marked as fitting must hold the zero budget, with its noise.
        for row in cv.rows where row.fits {
            #expect(row.drop + row.standardError <= 1e-12, "\(row.method) at budget \(row.budget) fits with drop \(row.drop) ± \(row.standardError)")
        }
        #expect(cv.drop + cv.standardError <= 1e-12)
        // Labels are the backbone's classes, so a drop is never negative: it is exactly zero.
        #expect(s.all.drop == 0)
    }
}
