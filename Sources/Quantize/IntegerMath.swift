import Foundation

/// The integer semantics of eec's int8 networks, defined once: the reference interpreter calls
/// these functions, and the C kernels are written to compute the same integers with the same
/// operations (docs/quantization.md). Nothing here depends on floating-point rounding except the
/// network's input quantization and its output scaling, which are single IEEE float32 operations
/// whose results C and Swift agree on bit for bit.

/// A positive real multiplier M as a Q31 mantissa and a right shift: M ≈ mantissa · 2^−shift,
/// mantissa in [2^30, 2^31), shift in 1...62. Applying it to an integer x gives
/// round(x · mantissa / 2^shift), halves rounded up (toward +∞), from the exact 64-bit product:
///
///     (int64(x) · mantissa + 2^(shift−1)) >> shift        (arithmetic shift)
///
/// one rounding, unlike gemmlowp's two (SaturatingRoundingDoublingHighMul, then
/// RoundingDivideByPOT): simpler to state and to check, and as cheap on a Cortex-M4 (SMLAL).
public struct Multiplier: Sendable, Equatable, CustomStringConvertible {
    public var mantissa: Int32
    public var shift: Int32

    public init(mantissa: Int32, shift: Int32) {
        self.mantissa = mantissa
        self.shift = shift
    }

    /// The nearest multiplier to `real` (≥ 0, < 2^30); 0 and anything below 2^−31 become a
    /// multiplier that gives 0.
    public init(_ real: Double) {
        guard real.isFinite, real > 0 else {
            self.init(mantissa: 0, shift: 1)
            return
        }
        // real = f · 2^e with f in [0.5, 1): mantissa = round(f · 2^31), shift = 31 − e.
        var e = Int(real.exponent) + 1
        var m = (real.significand / 2 * 2147483648.0).rounded()
        if m >= 2147483648.0 { m /= 2; e += 1 }
        let shift = 31 - e
        if shift > 62 {
            self.init(mantissa: 0, shift: 1)
        } else {
            precondition(shift >= 1, "multiplier \(real) too large")
            self.init(mantissa: Int32(m), shift: Int32(shift))
        }
    }

    /// round(x · M), halves up.
    @inline(__always)
    public func apply(_ x: Int32) -> Int64 {
        (Int64(x) * Int64(mantissa) + (Int64(1) << (shift - 1))) >> shift
    }

    public var value: Double { Double(mantissa) * pow(2, -Double(shift)) }
    public var description: String { "\(mantissa)·2^-\(shift)" }
}

/// Fixed-point helpers every int8 op uses.
public enum IntegerMath {
    /// Clamps to lo...hi.
    @inline(__always)
    public static func clamp(_ x: Int64, _ lo: Int32, _ hi: Int32) -> Int32 {
        Int32(min(max(x, Int64(lo)), Int64(hi)))
    }

    /// The shift of the rescaling of `add` and `concat`: every input's multiplier is
    /// round(s_i / s_y · 2^shift) < 2^21, so a term (q − z)·M stays below 2^29 and the sum of
    /// two below 2^30: the whole computation is int32 (vectorizes; one MLA each on a Cortex-M4).
    public static func rescaleShift(ratios: [Double]) -> Int32 {
        let largest = ratios.max() ?? 1
        var shift: Int32 = 30
        while shift > 1 && largest * pow(2, Double(shift)) >= 2097152 { shift -= 1 }
        return shift
    }

    /// round(ratio · 2^shift) as a rescaling multiplier.
    public static func rescaleMultiplier(_ ratio: Double, shift: Int32) -> Int32 {
        Int32(min(2097151, (ratio * pow(2, Double(shift))).rounded()))
    }

    /// (t + 2^(shift−1)) >> shift: rounding to nearest, halves up.
    @inline(__always)
    public static func roundingShift(_ t: Int32, _ shift: Int32) -> Int32 {
        (t + (1 << (shift - 1))) >> shift
    }

    /// round(sum / count) for sum ≥ 0, halves up: the average pools' division.
    @inline(__always)
    public static func roundingDivide(_ sum: Int32, _ count: Int32) -> Int32 {
        (sum + count / 2) / count
    }

    /// The network input x (float32) as uint8 with scale 1/inverseScale and zero point z:
    /// v = x · inverseScale (one float32 multiply), rounded to nearest with halves away from zero
    /// (truncate, then compare the exact remainder with ±0.5), plus z, clamped to 0...255; NaN
    /// gives z (real zero). |v| is clamped to 2^20 first so the conversion never overflows.
    @inline(__always)
    public static func quantizeInput(_ x: Float, inverseScale: Float, zeroPoint: Int32) -> Int32 {
        var v = x * inverseScale
        if !(v == v) { return zeroPoint }
        if v > 1048576 { v = 1048576 }
        if v < -1048576 { v = -1048576 }
        var t = Int32(v)
        let f = v - Float(t)
        if f >= 0.5 { t += 1 }
        if f <= -0.5 { t -= 1 }
        return min(max(t + zeroPoint, 0), 255)
    }

    // MARK: The exit confidence

    /// 2^30 · 2^(−j/256), rounded, j = 0...255: e^(−t) = 2^(−t/ln 2) in steps of 1/256 of an
    /// octave. The generated C holds the same table as data.
    public static let expTable: [Int32] = (0..<256).map { Int32((pow(2.0, 30 - Double($0) / 256)).rounded()) }

    /// Fraction bits of the confidence logit's base-2 logarithm.
    public static let logFractionBits = 16
    /// ln 2 / 2^16: the confidence logit is −L · this, L the Q16 log2 of the odds' inverse.
    public static let logUnit = Float(M_LN2 / 65536)

    /// The confidence of int8 class logits q (one scale 2^−exponent): the logit of the largest
    /// softmax probability, z = ln(p / (1 − p)) = −ln S, S = Σ_{i≠m} e^((q_i − q_m) · 2^−exponent),
    /// m the first argmax, computed in integers:
    ///   u_i = round((q_m − q_i) · 2^−exponent / ln 2 · 256)  (`octaves`, a Multiplier), the
    ///         exponent in 1/256 octaves; a term is expTable[u & 255] >> (u >> 8), 0 from 31 octaves;
    ///   S   = Σ terms (Q30, int64);
    ///   L   = log2(S / 2^30) in Q16: the integer part from the highest set bit, 16 fraction bits
    ///         by repeated squaring of the Q30 mantissa, each square truncated (>> 30);
    ///   z   = float(−L) · (ln 2 / 2^16): one exact float multiply.
    /// One class, or S = 0 (every other class 31 octaves below), gives the largest finite float.
    public static func confidence(_ q: [Int32], octaves: Multiplier) -> Float {
        guard !q.isEmpty else { return .greatestFiniteMagnitude }
        var m = 0
        for i in q.indices where q[i] > q[m] { m = i }
        var sum: Int64 = 0
        for i in q.indices where i != m {
            let u = octaves.apply(q[m] &- q[i])
            if u < 31 * 256 { sum += Int64(expTable[Int(u & 255)] >> Int32(u >> 8)) }
        }
        guard sum > 0 else { return .greatestFiniteMagnitude }
        return Float(-log2Q16(sum)) * logUnit
    }

    /// log2(s / 2^30) in Q16 for s > 0, as `confidence` describes.
    public static func log2Q16(_ s: Int64) -> Int64 {
        var e: Int64 = 0
        while (s >> e) > 1 { e += 1 }
        var x = e >= 30 ? s >> (e - 30) : s << (30 - e)
        var frac: Int64 = 0
        for i in 0..<logFractionBits {
            x = (x * x) >> 30
            if x >= (Int64(1) << 31) {
                x >>= 1
                frac |= Int64(1) << (logFractionBits - 1 - i)
            }
        }
        return (e - 30) * 65536 + frac
    }
}
