import Foundation

/// Little-endian loads and stores, plus whole-file I/O mapped to `FormatError`.
///
/// Loads take offsets the caller has already checked against `bytes.count`; the format readers
/// validate every range before converting, so a hostile file never reaches an out-of-range index.
enum ByteIO {
    static func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 {
        UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }

    static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(u16(bytes, at)) | UInt32(u16(bytes, at + 2)) << 16
    }

    static func u64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        UInt64(u32(bytes, at)) | UInt64(u32(bytes, at + 4)) << 32
    }

    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    static func readFile(_ path: String) throws(FormatError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .io(file: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw .io(file: path, reason: "is a directory, expected a file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .io(file: path, reason: "cannot read file")
        }
        return [UInt8](data)
    }

    /// Writes atomically so an interrupted run never leaves a half-written weights file behind.
    static func writeFile(_ bytes: [UInt8], to path: String) throws(FormatError) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .io(file: path, reason: "cannot write file: \(error.localizedDescription)")
        }
    }
}

/// Exact conversions of 16-bit floats to Float, by bit manipulation so they behave the same on every
/// platform (Swift's `Float16` is unavailable on some) and keep NaN payloads.
public enum HalfFloat {
    /// IEEE 754 binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
    public static func float(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        switch (exponent, mantissa) {
        case (0x1F, _):
            // Infinity or NaN: all-ones exponent, payload moved to the top of the float mantissa.
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        case (0, 0):
            return Float(bitPattern: sign)  // signed zero
        case (0, _):
            // Subnormal: mantissa × 2^-24. Normalise so the leading 1 becomes implicit;
            // every half subnormal is a normal float.
            var m = mantissa
            var e: UInt32 = 127 - 14  // float biased exponent of 2^-14
            while m & 0x400 == 0 {
                m <<= 1
                e -= 1
            }
            return Float(bitPattern: sign | e << 23 | (m & 0x3FF) << 13)
        default:
            // Normal: rebias the exponent from 15 to 127.
            return Float(bitPattern: sign | (exponent + 127 - 15) << 23 | mantissa << 13)
        }
    }

    /// bfloat16 is the top half of a float32, so widening is a shift.
    public static func float(fromBFloat16 b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }
}
