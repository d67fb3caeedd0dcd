/// How IR names and numbers are spelled in generated C: stable, readable, and exact.
public enum CNames {
    /// `layer2.1.conv1` → `layer2_1_conv1`; the mapping is fixed so generated code diffs cleanly.
    /// A leading digit gets an underscore prefix; two names that collide get distinct suffixes
    /// from the caller (see `CNames.unique`).
    public static func identifier(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars {
            let c = Character(scalar)
            out.append(c.isASCII && (c.isLetter || c.isNumber) ? c : "_")
        }
        if let first = out.first, first.isNumber { out = "_" + out }
        return out.isEmpty ? "_" : out
    }

    /// Identifiers for a list of names, made unique in order (`a_b`, `a_b_2`, ...).
    public static func unique(_ names: [String], prefix: String = "") -> [String] {
        var seen: [String: Int] = [:]
        return names.map { name in
            let base = prefix + identifier(name)
            let n = (seen[base] ?? 0) + 1
            seen[base] = n
            return n == 1 ? base : "\(base)_\(n)"
        }
    }

    /// A float as a C99 hexadecimal literal: exact, independent of the C compiler's decimal
    /// rounding, and identical on every run (`0x1.8p+1f` for 3).
    public static func hexFloat(_ value: Float) -> String {
        if value.isNaN { return "(0.0f/0.0f)" }
        if value.isInfinite { return value < 0 ? "(-1.0f/0.0f)" : "(1.0f/0.0f)" }
        if value == 0 { return value.sign == .minus ? "-0x0p+0f" : "0x0p+0f" }
        let sign = value.sign == .minus ? "-" : ""
        let magnitude = abs(value)
        // Normalize to 1.xxx × 2^e; subnormals are written with the same rule (exact in hex).
        let exponent = Int(magnitude.exponent)
        let significand = magnitude.significand  // in [1, 2)
        var fraction = UInt32((significand - 1) * Float(1 << 23))  // 23 fraction bits
        var digits = ""
        // 23 bits → 6 hex digits after shifting left by 1 to make 24 bits; trim trailing zeros.
        fraction <<= 1
        for shift in stride(from: 20, through: 0, by: -4) {
            digits.append(String((fraction >> UInt32(shift)) & 0xF, radix: 16))
        }
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(sign)0x1\(digits.isEmpty ? "" : "." + digits)p\(exponent >= 0 ? "+" : "")\(exponent)f"
    }
}
