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

    /// Identifiers for a list of names, made unique in order (`a_b`, `a_b_2`, ...). Names in
    /// `reserved` (C keywords, the runtime's names) are never handed out: they get a suffix too.
    public static func unique(_ names: [String], prefix: String = "", reserved: Set<String> = []) -> [String] {
        var table = NameTable(reserved: reserved)
        return names.map { table.claim($0, prefix: prefix) }
    }

    /// C99's keywords and the library names a file-scope function must not take.
    public static let reservedWords: Set<String> = [
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
        "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
        "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
        "volatile", "while", "_Bool", "_Complex", "_Imaginary", "main", "memcpy", "memset", "memmove",
        "memcmp", "malloc", "free", "abort", "exit", "NULL", "size_t", "int32_t", "uint32_t", "uint64_t",
        "uintptr_t",
    ]

    /// A float as a C99 hexadecimal literal: exact, independent of the C compiler's decimal
    /// rounding, and identical on every run (`0x1.8p+1f` for 3).
    public static func hexFloat(_ value: Float) -> String {
        var bytes: [UInt8] = []
        appendHexFloat(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `hexFloat` written straight into a byte buffer: the weights file of a large network holds
    /// millions of these, so no String is made per value.
    public static func appendHexFloat(_ value: Float, to out: inout [UInt8]) {
        func append(_ s: StaticString) {
            s.withUTF8Buffer { out.append(contentsOf: $0) }
        }
        if value.isNaN { return append("(0.0f/0.0f)") }
        if value.isInfinite { return append(value < 0 ? "(-1.0f/0.0f)" : "(1.0f/0.0f)") }
        if value.sign == .minus { out.append(UInt8(ascii: "-")) }
        if value == 0 { return append("0x0p+0f") }
        // Normalize to 1.xxx × 2^e; subnormals are written with the same rule (exact in hex).
        let magnitude = abs(value)
        let exponent = Int(magnitude.exponent)
        var fraction = UInt32((magnitude.significand - 1) * Float(1 << 23)) << 1  // 24 bits, 6 hex digits
        append("0x1")
        if fraction != 0 {
            out.append(UInt8(ascii: "."))
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            while fraction != 0 {
                out.append(hex[Int(fraction >> 20) & 0xF])
                fraction = (fraction << 4) & 0xFF_FFFF
            }
        }
        out.append(UInt8(ascii: "p"))
        out.append(UInt8(ascii: exponent >= 0 ? "+" : "-"))
        out.append(contentsOf: String(exponent.magnitude).utf8)
        out.append(UInt8(ascii: "f"))
    }
}
