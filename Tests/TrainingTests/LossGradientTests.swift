import Foundation
import Testing
import IR
@testable import Training

/// The cumulative loss by hand, and its gradients (and those of the softmax + cross-entropy and
/// sigmoid chain `ExitTrainer.step` puts in front of it) against central differences.
@Suite("Cumulative loss and the loss chain")
struct LossGradientTests {
    func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool { abs(a - b) <= tolerance * max(1, abs(b)) }

    @Test("N = 1 by hand: P0 = 0.7, C0 = 0.6, L = −ln 0.7 + 0.6 (v1 and v2 agree)")
    func oneExitByHand() {
        for version in [LossVersion.v1, .v2] {
            let loss = CumulativeLoss(version: version, lambda: 1, costRates: [0.2])
            let r = loss.evaluate(p: [0.5], h: [0.5], backbone: 0.9)
            // P0 = 0.5·0.5 + 0.5·0.9 = 0.7;  C0 = 0.5·0.2 + 0.5·1 = 0.6.
            #expect(close(r.mixture, 0.7))
            #expect(close(r.loss, -log(0.7) + 0.6))
            // dL/dp0 = −h0/P0 = −0.5/0.7.
            #expect(close(r.gradP[0], -0.5 / 0.7))
            // dL/dh0 = −(p0 − P1)/P0 + λ(c0 − C1) = 0.4/0.7 − 0.8.
            #expect(close(r.gradH[0], 0.4 / 0.7 - 0.8))
        }
    }

    @Test("N = 2 by hand: v1 has the first term only, v2 sums both")
    func twoExitsByHand() {
        let p = [0.3, 0.6], h = [0.4, 0.7], c = [0.25, 0.5], backbone = 0.8, lambda = 0.5
        // P1 = 0.7·0.6 + 0.3·0.8 = 0.66, C1 = 0.7·0.5 + 0.3·1 = 0.65;
        // P0 = 0.4·0.3 + 0.6·0.66 = 0.516, C0 = 0.4·0.25 + 0.6·0.65 = 0.49.
        let v1 = CumulativeLoss(version: .v1, lambda: lambda, costRates: c).evaluate(p: p, h: h, backbone: backbone)
        let v2 = CumulativeLoss(version: .v2, lambda: lambda, costRates: c).evaluate(p: p, h: h, backbone: backbone)
        #expect(close(v1.mixture, 0.516) && close(v2.mixture, 0.516))
        #expect(close(v1.loss, -log(0.516) + 0.5 * 0.49))
        #expect(close(v2.loss, -log(0.516) + 0.5 * 0.49 + (-log(0.66) + 0.5 * 0.65)))

        // v1: dL/dP0 = −1/0.516, dL/dC0 = 0.5; P1 and C1 reach the loss through P0 and C0 with
        // weight 1 − h0 = 0.6: dL/dP1 = −0.6/0.516, dL/dC1 = 0.3.
        #expect(close(v1.gradP[0], -0.4 / 0.516))
        #expect(close(v1.gradH[0], (-1 / 0.516) * (0.3 - 0.66) + 0.5 * (0.25 - 0.65)))
        #expect(close(v1.gradP[1], 0.7 * (-0.6 / 0.516)))
        #expect(close(v1.gradH[1], (-0.6 / 0.516) * (0.6 - 0.8) + 0.3 * (0.5 - 1)))

        // v2: exit 0's gradients are v1's (no later term depends on p0, h0); exit 1's own term adds
        // dL/dP1 = −1/0.66 and dL/dC1 = λ = 0.5.
        #expect(close(v2.gradP[0], v1.gradP[0]) && close(v2.gradH[0], v1.gradH[0]))
        let dP1 = -1 / 0.66 - 0.6 / 0.516, dC1 = 0.5 + 0.3
        #expect(close(v2.gradP[1], 0.7 * dP1))
        #expect(close(v2.gradH[1], dP1 * (0.6 - 0.8) + dC1 * (0.5 - 1)))
    }

    @Test("Limits: h = 1 is exit n alone, h = 0 passes everything on, no exits is the backbone alone")
    func limits() {
        let loss = CumulativeLoss(version: .v2, lambda: 2, costRates: [0.1, 0.4])
        let sure = loss.evaluate(p: [0.25, 0.5], h: [1, 1], backbone: 0.9)
        #expect(close(sure.mixture, 0.25))
        #expect(close(sure.loss, (-log(0.25) + 2 * 0.1) + (-log(0.5) + 2 * 0.4)))
        let never = loss.evaluate(p: [0.25, 0.5], h: [0, 0], backbone: 0.9)
        #expect(close(never.mixture, 0.9))
        #expect(close(never.loss, 2 * (-log(0.9) + 2 * 1)))
        // With h = 0 an exit's p has no effect.
        #expect(never.gradP == [0, 0])
        let none = CumulativeLoss(version: .v2, lambda: 1, costRates: []).evaluate(p: [], h: [], backbone: 0.4)
        #expect(none.loss == 0 && none.mixture == 0.4 && none.gradP.isEmpty)
        // A confidently wrong mixture is clamped: large but finite.
        let wrong = loss.evaluate(p: [0, 0.5], h: [1, 0.5], backbone: 0.9)
        #expect(wrong.loss.isFinite && wrong.loss > 20)
        #expect(wrong.gradP.allSatisfy(\.isFinite) && wrong.gradH.allSatisfy(\.isFinite))
    }

    @Test("N = 1 by hand, v0: L = −ln p0, confidences untouched")
    func oneExitByHandWarmUp() {
        let r = CumulativeLoss(version: .v0, lambda: 1, costRates: [0.2]).evaluate(p: [0.5], h: [0.5], backbone: 0.9)
        #expect(close(r.loss, -log(0.5)))
        #expect(close(r.gradP[0], -1 / 0.5))
        #expect(r.gradH == [0])
    }

    @Test("Gradients w.r.t. every p_n and h_n against central differences", arguments: LossVersion.allCases)
    func cumulativeGradients(_ version: LossVersion) {
        // Pure float64: step 1e-6, tolerance 1e-6 relative.
        var rng = SplitMix64(seed: 3)
        for n in 1...4 {
            for _ in 0..<5 {
                let c = (0..<n).map { _ in Double(rng.uniform(0.05, 0.95)) }
                let p = (0..<n).map { _ in Double(rng.uniform(0.05, 0.95)) }
                let h = (0..<n).map { _ in Double(rng.uniform(0.05, 0.95)) }
                let backbone = Double(rng.uniform(0.1, 1))
                let loss = CumulativeLoss(version: version, lambda: Double(rng.uniform(0, 2)), costRates: c)
                let r = loss.evaluate(p: p, h: h, backbone: backbone)
                var report = GradientReport("\(version) N=\(n)", rtol: 1e-6, atol: 1e-9)
                let step = 1e-6
                for i in 0..<n {
                    var plus = p, minus = p
                    plus[i] += step
                    minus[i] -= step
                    let dp = (loss.evaluate(p: plus, h: h, backbone: backbone).loss - loss.evaluate(p: minus, h: h, backbone: backbone).loss) / (2 * step)
                    report.compare("p[\(i)]", numeric: dp, analytic: r.gradP[i])
                    var hPlus = h, hMinus = h
                    hPlus[i] += step
                    hMinus[i] -= step
                    let dh = (loss.evaluate(p: p, h: hPlus, backbone: backbone).loss - loss.evaluate(p: p, h: hMinus, backbone: backbone).loss) / (2 * step)
                    report.compare("h[\(i)]", numeric: dh, analytic: r.gradH[i])
                }
                #expect(report.passed, "\(report)")
            }
        }
    }

    /// Three exits' outputs for a batch of 4, 5 classes, with labels and backbone probabilities.
    func chainInputs(seed: UInt64) -> (outputs: [(logits: Batch, confidence: Batch)], labels: [Int], backbone: [Double]) {
        let (exits, count, classes) = (3, 4, 5)
        let outputs = (0..<exits).map { e in
            (logits: randomBatch([count, classes], seed: seed + UInt64(e), -2, 2),
             confidence: randomBatch([count, 1], seed: seed + 10 + UInt64(e), -2, 2))
        }
        return (outputs, [0, 3, 4, 3], [0.9, 0.5, 0.7, 0.35])
    }

    @Test("Softmax + cross-entropy and sigmoid chain of ExitTrainer.step, against central differences",
          arguments: LossVersion.allCases)
    func chainGradients(_ version: LossVersion) {
        // The loss is a float64 function of float32 logits: step 1e-3 (truncation O(h²) ≈ 1e-6
        // relative); the analytic gradients are rounded to float32. Tolerance rtol 1e-4 + atol 1e-7.
        let (outputs, labels, backbone) = chainInputs(seed: 100)
        let loss = CumulativeLoss(version: version, lambda: 0.8, costRates: [0.2, 0.45, 0.7])
        let (_, dLogits, dConfidence) = ExitTrainer.objective(outputs, labels: labels, backbone: backbone, loss: loss)
        func value(_ o: [(logits: Batch, confidence: Batch)]) -> Double {
            ExitTrainer.objective(o, labels: labels, backbone: backbone, loss: loss).loss
        }
        var report = GradientReport("chain \(version)", rtol: 1e-4, atol: 1e-7)
        for e in outputs.indices {
            for i in outputs[e].logits.data.indices {
                let numeric = centralDifference(outputs[e].logits.data, i, step: 1e-3) { data in
                    var o = outputs
                    o[e].logits.data = data
                    return value(o)
                }
                report.compare("exit \(e) logit[\(i)]", numeric: numeric, analytic: Double(dLogits[e].data[i]))
            }
            for i in outputs[e].confidence.data.indices {
                let numeric = centralDifference(outputs[e].confidence.data, i, step: 1e-3) { data in
                    var o = outputs
                    o[e].confidence.data = data
                    return value(o)
                }
                report.compare("exit \(e) confidence[\(i)]", numeric: numeric, analytic: Double(dConfidence[e].data[i]))
            }
        }
        #expect(report.checked == 3 * (4 * 5 + 4))
        #expect(report.passed, "\(report)")
    }

    @Test("The batch objective is the mean of the per-sample cumulative losses, with p = softmax[y] and h = sigmoid")
    func chainByHand() {
        // One exit, one sample, 2 classes: logits (0, ln 3) → softmax (1/4, 3/4); confidence logit
        // 0 → h = 1/2. Label 1: p = 3/4. Backbone 0.5, c = 0.3, λ = 1.
        let outputs = [(logits: Batch(shape: [1, 2], data: [0, Float(log(3.0))]), confidence: Batch(shape: [1, 1], data: [0]))]
        let loss = CumulativeLoss(version: .v2, lambda: 1, costRates: [0.3])
        var recorded: [(Double, [Double], [[Double]], Int)] = []
        let (value, dLogits, dConfidence) = ExitTrainer.objective(outputs, labels: [1], backbone: [0.5], loss: loss) { r, h, probabilities, y in
            recorded.append((r.loss, h, probabilities, y))
        }
        // P0 = ½·¾ + ½·½ = 5/8, C0 = ½·0.3 + ½ = 0.65.
        #expect(close(value, -log(5.0 / 8) + 0.65, 1e-7))
        #expect(recorded.count == 1 && recorded[0].1 == [0.5] && recorded[0].3 == 1)
        #expect(close(recorded[0].2[0][1], 0.75, 1e-7))
        // dL/dp = −h/P0 = −4/5; dp/dz = p(δ − softmax) = ¾·(−¼, ¼).
        #expect(abs(Double(dLogits[0].data[0]) - (-0.8 * 0.75 * -0.25)) < 1e-6)
        #expect(abs(Double(dLogits[0].data[1]) - (-0.8 * 0.75 * 0.25)) < 1e-6)
        // dL/dh = −(p − P1)/P0 + (c − 1) = −(¼)/(5/8) − 0.7 = −1.1; dh/dq = ¼.
        #expect(abs(Double(dConfidence[0].data[0]) - (-1.1 * 0.25)) < 1e-6)

        // Batch mean: two copies of a sample give the same loss and half the gradient each.
        let doubled = [(logits: Batch(shape: [2, 2], data: outputs[0].logits.data + outputs[0].logits.data),
                        confidence: Batch(shape: [2, 1], data: [0, 0]))]
        let (mean, dMean, _) = ExitTrainer.objective(doubled, labels: [1, 1], backbone: [0.5, 0.5], loss: loss)
        #expect(close(mean, value))
        #expect(abs(dMean[0].data[0] - dLogits[0].data[0] / 2) < 1e-7)
    }
}
