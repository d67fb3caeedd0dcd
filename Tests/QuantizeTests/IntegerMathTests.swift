import Foundation
import Testing
import IR
@testable import Quantize

/// The integer semantics against values computed by hand.
struct IntegerMathTests {
    @Test func multiplierEncodesMantissaAndShift() {
        let half = Multiplier(0.5)
        #expect(half == Multiplier(mantissa: 1 << 30, shift: 31))
        #expect(Multiplier(1) == Multiplier(mantissa: 1 << 30, shift: 30))
        #expect(Multiplier(0.75) == Multiplier(mantissa: 3 << 29, shift: 31))
        #expect(abs(Multiplier(0.3).value - 0.3) < 1e-9)
        #expect(Multiplier(0).apply(12345) == 0)
        #expect(Multiplier(1e-30).apply(Int32.max) == 0)
    }

    @Test func multiplierRoundsHalvesUp() {
        let half = Multiplier(0.5)
        #expect(half.apply(3) == 2)      // 1.5 → 2
        #expect(half.apply(-3) == -1)    // −1.5 → −1 (halves toward +∞)
        #expect(half.apply(5) == 3)      // 2.5 → 3
        #expect(half.apply(-5) == -2)    // −2.5 → −2
        #expect(Multiplier(0.3).apply(10) == 3)
        #expect(Multiplier(0.3).apply(-10) == -3)
        #expect(Multiplier(2.5).apply(7) == 18) // 17.5 → 18
        #expect(Multiplier(0.5).apply(Int32.max) == 1 << 30)
    }

    @Test func rescaleOfAddByHand() {
        // a: scale 0.1, z 10; b: scale 0.05, z 0; y: scale 0.2, z 5.
        let ratios = [0.5, 0.25]
        let shift = IntegerMath.rescaleShift(ratios: ratios)
        #expect(shift == 21) // 0.5 · 2^21 = 2^20 < 2^21 ≤ 0.5 · 2^22
        let r = IntegerProgram.Rescale(zeroPoints: [10, 0], multipliers: ratios.map { IntegerMath.rescaleMultiplier($0, shift: shift) },
                                       shift: shift, outputZeroPoint: 5, low: 0)
        // a = 0.1·(30 − 10) = 2, b = 0.05·20 = 1: y = 3 = 0.2·15 → 5 + 15 = 20.
        #expect(r.apply([30, 20]) == 20)
        // a = 0.1·(11 − 10) = 0.1, b = 0.05·1 = 0.05: 0.15 / 0.2 = 0.75 → 1 → 6.
        #expect(r.apply([11, 1]) == 6)
        // a = −1, b = 0: −5 → 0, clamped at 0; with a ReLU's low bound 5 it stays 5.
        #expect(r.apply([0, 0]) == 0)
        var relu = r
        relu.low = 5
        #expect(relu.apply([0, 0]) == 5)
        #expect(r.apply([255, 255]) == 191) // (24.5 + 12.75) / 0.2 = 186.25 → 5 + 186
        #expect(r.apply([255, 255 * 4]) == 255) // clamped
    }

    @Test func roundingDivisionOfPools() {
        #expect(IntegerMath.roundingDivide(10, 4) == 3) // 2.5 → 3
        #expect(IntegerMath.roundingDivide(9, 4) == 2)  // 2.25 → 2
        #expect(IntegerMath.roundingDivide(0, 9) == 0)
        #expect(IntegerMath.roundingShift(6, 2) == 2)   // 1.5 → 2
        #expect(IntegerMath.roundingShift(-6, 2) == -1) // −1.5 → −1
    }

    @Test func inputQuantization() {
        // scale 0.1 (inverse 10), zero point 10.
        #expect(IntegerMath.quantizeInput(0.25, inverseScale: 10, zeroPoint: 10) == 13)  // 2.5 → 3
        #expect(IntegerMath.quantizeInput(-0.25, inverseScale: 10, zeroPoint: 10) == 7)  // −2.5 → −3
        #expect(IntegerMath.quantizeInput(0.24, inverseScale: 10, zeroPoint: 10) == 12)
        #expect(IntegerMath.quantizeInput(.nan, inverseScale: 10, zeroPoint: 10) == 10)
        #expect(IntegerMath.quantizeInput(1e30, inverseScale: 10, zeroPoint: 10) == 255)
        #expect(IntegerMath.quantizeInput(-.infinity, inverseScale: 10, zeroPoint: 10) == 0)
    }

    @Test func activationParametersHoldZero() {
        let relu = ActivationQuant(low: 0, high: 2.55)
        #expect(relu.zeroPoint == 0)
        #expect(abs(relu.scale - 0.01) < 1e-7)
        let signed = ActivationQuant(low: -1, high: 1.55)
        #expect(abs(signed.scale - 0.01) < 1e-7)
        #expect(signed.zeroPoint == 100)
        #expect(ActivationQuant(low: 1, high: 2).zeroPoint == 0) // widened to [0, 2]
    }

    @Test func log2InQ16() {
        #expect(IntegerMath.log2Q16(1 << 30) == 0)
        #expect(IntegerMath.log2Q16(1 << 31) == 65536)
        #expect(IntegerMath.log2Q16(1 << 29) == -65536)
        #expect(abs(IntegerMath.log2Q16(3 << 29) - 38336) <= 1) // log2(1.5) · 65536 = 38336.1, squares truncated
        #expect(IntegerMath.log2Q16(1) == -30 * 65536)
    }

    @Test func confidenceOfIntegerLogits() {
        let unit = Multiplier(1 / M_LN2 * 256) // logits at scale 2^0
        #expect(IntegerMath.confidence([0, 0], octaves: unit) == 0) // p = 1/2
        #expect(IntegerMath.confidence([5], octaves: unit) == .greatestFiniteMagnitude)
        #expect(IntegerMath.confidence([100, 0], octaves: unit) == .greatestFiniteMagnitude) // 144 octaves below: S = 0
        // z = −ln Σ_{k≠m} e^(x_k − x_m); the steps of 1/256 octave bound the error by ln 2 / 512.
        for logits in [[3, 0], [10, 0, 9], [0, 7, 2, 7], [2, 1, 0, -1, -5]] as [[Int32]] {
            let m = logits.max()!
            let first = logits.firstIndex(of: m)!
            let exact = -log(logits.indices.filter { $0 != first }.map { exp(Double(logits[$0] - m)) }.reduce(0, +))
            #expect(abs(Double(IntegerMath.confidence(logits, octaves: unit)) - exact) < M_LN2 / 512 + 1e-4, "\(logits)")
        }
        // At scale 2^−10 the same real logits give the same z within the step.
        let fine = Multiplier(pow(2, -10) / M_LN2 * 256)
        #expect(abs(IntegerMath.confidence([3 << 10, 0], octaves: fine) - IntegerMath.confidence([3, 0], octaves: unit)) < 0.003)
        #expect(IntegerMath.expTable[0] == 1 << 30)
        #expect(IntegerMath.expTable[128] == 759250125) // 2^29.5
    }
}
