import Foundation
import Testing
@testable import Training

@Suite("Adam")
struct AdamTests {
    @Test("Two steps by hand: moments, bias correction, update")
    func twoStepsByHand() {
        var adam = Adam(learningRate: 0.01)
        var parameters: [[Float]] = [[1, -2], [0.5]]
        let g1: [[Float]] = [[0.1, -0.3], [0.2]]
        adam.update(&parameters, g1)
        // Step 1: m = 0.1·g, v = 0.001·g²; m̂ = m/(1 − 0.9) = g, v̂ = v/(1 − 0.999) = g²;
        // the update is lr·g/(|g| + 1e-8): lr·sign(g) up to 1e-7 relative.
        let expected1: [[Double]] = [[1 - 0.01 * 0.1 / (0.1 + 1e-8), -2 + 0.01 * 0.3 / (0.3 + 1e-8)], [0.5 - 0.01 * 0.2 / (0.2 + 1e-8)]]
        for t in 0..<2 {
            for i in parameters[t].indices { #expect(abs(Double(parameters[t][i]) - expected1[t][i]) < 1e-7) }
        }
        #expect(abs(parameters[0][0] - 0.99) < 1e-6 && abs(parameters[0][1] - -1.99) < 1e-6 && abs(parameters[1][0] - 0.49) < 1e-6)

        let after1 = parameters.map { $0.map(Double.init) }
        let g2: [[Float]] = [[-0.2, -0.3], [0]]
        adam.update(&parameters, g2)
        // Step 2, element [0][0]: g1 = 0.1, g2 = −0.2.
        //   m = 0.9·(0.1·0.1) + 0.1·(−0.2) = 0.009 − 0.02 = −0.011
        //   v = 0.999·(0.001·0.01) + 0.001·0.04 = 0.00000999 + 0.00004 = 0.00004999
        //   m̂ = −0.011/(1 − 0.81) = −0.011/0.19,  v̂ = 0.00004999/(1 − 0.998001) = 0.00004999/0.001999
        //   θ −= 0.01·m̂/(√v̂ + 1e-8)
        let mHat = -0.011 / 0.19, vHat = 0.00004999 / 0.001999
        let expected00 = after1[0][0] - 0.01 * mHat / (vHat.squareRoot() + 1e-8)
        #expect(abs(Double(parameters[0][0]) - expected00) < 1e-6)
        #expect(abs(Double(parameters[0][0]) - 0.993661) < 1e-5)  // 0.99 + 0.01·0.0578947/0.158138
        // Element [0][1]: the same gradient twice: m̂ = g and v̂ = g², so again lr·sign(g).
        #expect(abs(Double(parameters[0][1]) - (after1[0][1] + 0.01)) < 1e-6)
        // Element [1][0]: a zero gradient still moves by the momentum:
        //   m = 0.9·0.02 = 0.018, v = 0.999·0.00004 = 0.00003996;
        //   m̂ = 0.018/0.19, v̂ = 0.00003996/0.001999.
        let expected10 = after1[1][0] - 0.01 * (0.018 / 0.19) / ((0.00003996 / 0.001999).squareRoot() + 1e-8)
        #expect(abs(Double(parameters[1][0]) - expected10) < 1e-6)
    }

    @Test("Steps are invariant to the gradient's scale (above ε) and follow a constant gradient at lr per step")
    func scaleInvariance() {
        var a = Adam(learningRate: 1e-3), b = Adam(learningRate: 1e-3)
        var x: [[Float]] = [[0, 0, 0]], y: [[Float]] = [[0, 0, 0]]
        for _ in 0..<10 {
            a.update(&x, [[1, -2, 0.5]])
            b.update(&y, [[100, -200, 50]])
        }
        for i in 0..<3 {
            #expect(abs(x[0][i] - y[0][i]) < 1e-6)
            #expect(abs(abs(x[0][i]) - 0.01) < 1e-5)
        }
    }
}
