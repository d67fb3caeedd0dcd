/// A NumPy `.npy` array (format versions 1.0, 2.0 and 3.0), as written by `np.save`.
///
/// Layout: `\x93NUMPY`, major and minor version bytes, the header length (2 bytes little-endian in
/// 1.0, 4 bytes in 2.0/3.0), a Python dict literal padded with spaces and a newline, then the data in
/// C order. Little-endian `f4`, `f8`, `u1`, `i4` and `i8` arrays are supported.
public struct NPYArray: Equatable, Sendable {
    public enum Storage: Equatable, Sendable {
        case float32([Float])
        case float64([Double])
        case uint8([UInt8])
        case int32([Int32])
        case int64([Int64])

        public var count: Int {
            switch self {
            case let .float32(v): v.count
            case let .float64(v): v.count
            case let .uint8(v): v.count
            case let .int32(v): v.count
            case let .int64(v): v.count
            }
        }

        /// numpy's type string, as written in the header.
        public var descr: String {
            switch self {
            case .float32: "<f4"
            case .float64: "<f8"
            case .uint8: "|u1"
            case .int32: "<i4"
            case .int64: "<i8"
            }
        }

        /// numpy's dtype name, for messages.
        public var dtypeName: String {
            switch self {
            case .float32: "float32"
            case .float64: "float64"
            case .uint8: "uint8"
            case .int32: "int32"
            case .int64: "int64"
            }
        }
    }

    public var shape: [Int]
    public var storage: Storage

    /// An array from a shape and values in C order; the count must match the shape.
    public init(shape: [Int], storage: Storage) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(storage.count == shape.reduce(1, *), "\(storage.count) values for shape \(shape)")
        self.shape = shape
        self.storage = storage
    }

    /// A float32 array with the tensor's shape and values.
    public init(_ tensor: Tensor) {
        self.init(shape: tensor.shape, storage: .float32(tensor.data))
    }

    public var count: Int { storage.count }

    // MARK: Reading

    /// Reads and validates the file at `path`, which also names it in error messages.
    public static func read(path: String) throws(FormatError) -> NPYArray {
        try decode(ByteIO.readFile(path), source: path)
    }

    /// Validates and decodes file bytes; any byte sequence yields an array or a `FormatError` naming `source`.
    public static func decode(_ bytes: [UInt8], source: String) throws(FormatError) -> NPYArray {
        guard bytes.count >= 10 else {
            throw .truncated(file: source, what: "the .npy preamble", needed: 10, available: bytes.count)
        }
        guard bytes[0..<6].elementsEqual(magic) else { throw .badMagic(file: source, expected: "NumPy .npy") }
        let (major, minor) = (bytes[6], bytes[7])
        guard (1...3).contains(major), minor == 0 else {
            throw .unsupportedVersion(file: source, version: "\(major).\(minor)")
        }
        let lengthSize = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthSize else {
            throw .truncated(file: source, what: "the header length", needed: 8 + lengthSize, available: bytes.count)
        }
        let headerLength = major == 1 ? UInt64(ByteIO.u16(bytes, 8)) : UInt64(ByteIO.u32(bytes, 8))
        let headerStart = 8 + lengthSize
        guard headerLength <= UInt64(bytes.count - headerStart) else {
            throw .headerOutOfBounds(file: source, headerLength: headerLength, available: bytes.count - headerStart)
        }
        let dataStart = headerStart + Int(headerLength)
        let header = try parseHeader(bytes[headerStart..<dataStart], utf8: major == 3, source: source)

        let (expected, overflow) = header.count.multipliedReportingOverflow(by: header.kind.size)
        guard !overflow else {
            throw .invalidShape(file: source, tensor: nil, shape: header.shapeText, reason: "byte count overflows")
        }
        let found = bytes.count - dataStart
        guard expected == found else {
            throw .byteCountMismatch(file: source, tensor: nil, shape: header.shape, dtype: header.descr, expected: expected, found: found)
        }
        return NPYArray(shape: header.shape, storage: header.kind.load(bytes, from: dataStart, count: header.count))
    }

    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// What the header dict says, validated.
    private struct Header {
        var descr: String
        var kind: Kind
        var shape: [Int]
        /// The shape as written, for messages.
        var shapeText: String
        var count: Int
    }

    private static func parseHeader(_ bytes: ArraySlice<UInt8>, utf8: Bool, source: String) throws(FormatError) -> Header {
        func malformed(_ reason: String) -> FormatError { .malformedHeader(file: source, reason: reason) }
        // Versions 1.0 and 2.0 are latin-1, which maps each byte to the scalar of the same value.
        let text: String
        if utf8 {
            guard let s = String(validating: bytes, as: UTF8.self) else { throw malformed("header is not valid UTF-8") }
            text = s
        } else {
            text = String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        }
        let dict: PythonLiteral
        do {
            dict = try PythonLiteral.parse(text)
        } catch {
            throw malformed("\(error.reason) at header character \(error.offset)")
        }
        guard case .dict = dict else { throw malformed("expected a dict, found \(dict.excerpt)") }
        guard let descrValue = dict["descr"], let fortranValue = dict["fortran_order"], let shapeValue = dict["shape"] else {
            throw malformed("the dict must have the keys 'descr', 'fortran_order' and 'shape'")
        }

        guard case let .string(descr) = descrValue else {
            throw .unsupportedDType(file: source, tensor: nil, dtype: descrValue.excerpt, supported: Kind.supported)
        }
        let kind = try Kind(descr: descr, source: source)

        guard case let .bool(fortran) = fortranValue else { throw malformed("'fortran_order' must be True or False") }
        guard !fortran else { throw .fortranOrder(file: source) }

        guard case let .tuple(dims) = shapeValue else { throw malformed("'shape' must be a tuple, found \(shapeValue.excerpt)") }
        var shape: [Int] = []
        var count = 1
        for dim in dims {
            guard case let .integer(digits) = dim else { throw malformed("'shape' must contain integers, found \(shapeValue.excerpt)") }
            guard let d = Int(digits), d >= 0 else {
                let reason = digits.hasPrefix("-") ? "negative dimension" : "dimension too large"
                throw .invalidShape(file: source, tensor: nil, shape: shapeValue.excerpt, reason: reason)
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw .invalidShape(file: source, tensor: nil, shape: shapeValue.excerpt, reason: "element count overflows")
            }
            shape.append(d)
            count = product
        }
        return Header(descr: descr, kind: kind, shape: shape, shapeText: shapeValue.excerpt, count: count)
    }

    /// An element type, from numpy's type string.
    private enum Kind {
        case f4, f8, u1, i4, i8

        static let supported = ["<f4", "<f8", "|u1", "<i4", "<i8"]

        init(descr: String, source: String) throws(FormatError) {
            // A byte-order character, then the type code; no character means native (little-endian here).
            var code = Substring(descr)
            var order: Character = "="
            if let first = code.first, "<>|=!".contains(first) {
                order = first
                code = code.dropFirst()
            }
            switch code {
            case "f4": self = .f4
            case "f8": self = .f8
            case "u1": self = .u1
            case "i4": self = .i4
            case "i8": self = .i8
            default: throw .unsupportedDType(file: source, tensor: nil, dtype: descr, supported: Kind.supported)
            }
            // Byte order is meaningless for single bytes, so '>u1' is as good as '|u1'.
            if (order == ">" || order == "!") && size > 1 { throw .bigEndian(file: source, descr: descr) }
        }

        var size: Int {
            switch self {
            case .u1: 1
            case .f4, .i4: 4
            case .f8, .i8: 8
            }
        }

        func load(_ bytes: [UInt8], from start: Int, count: Int) -> Storage {
            switch self {
            case .f4: .float32((0..<count).map { Float(bitPattern: ByteIO.u32(bytes, start + 4 * $0)) })
            case .f8: .float64((0..<count).map { Double(bitPattern: ByteIO.u64(bytes, start + 8 * $0)) })
            case .u1: .uint8(Array(bytes[start..<start + count]))
            case .i4: .int32((0..<count).map { Int32(bitPattern: ByteIO.u32(bytes, start + 4 * $0)) })
            case .i8: .int64((0..<count).map { Int64(bitPattern: ByteIO.u64(bytes, start + 8 * $0)) })
            }
        }
    }

    // MARK: Writing

    /// The bytes `np.save` writes for this array: the oldest format version that fits (1.0 unless the
    /// header exceeds 64 KiB), header keys sorted, spare spaces so the shape can grow in place, and
    /// padding so the data starts at a multiple of 64 bytes.
    public func encode() -> [UInt8] {
        precondition(storage.count == shape.reduce(1, *), "\(storage.count) values for shape \(shape)")
        let shapeText = "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
        var header = "{'descr': '\(storage.descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // numpy leaves room for the first axis to grow to 21 digits.
        if let first = shape.first { header += String(repeating: " ", count: max(0, 21 - String(first).count)) }

        var bytes = Self.magic
        let textLength = header.utf8.count + 1  // + the final newline
        var lengthSize = 2
        var padding = 64 - (8 + lengthSize + textLength) % 64
        if textLength + padding > Int(UInt16.max) {
            lengthSize = 4
            padding = 64 - (8 + lengthSize + textLength) % 64
            bytes += [2, 0]
            ByteIO.append(UInt32(textLength + padding), to: &bytes)
        } else {
            bytes += [1, 0]
            ByteIO.append(UInt16(textLength + padding), to: &bytes)
        }
        bytes += Array(header.utf8)
        bytes += repeatElement(UInt8(ascii: " "), count: padding)
        bytes.append(UInt8(ascii: "\n"))

        switch storage {
        case let .float32(v): for x in v { ByteIO.append(x.bitPattern, to: &bytes) }
        case let .float64(v): for x in v { ByteIO.append(x.bitPattern, to: &bytes) }
        case let .uint8(v): bytes += v
        case let .int32(v): for x in v { ByteIO.append(x, to: &bytes) }
        case let .int64(v): for x in v { ByteIO.append(x, to: &bytes) }
        }
        return bytes
    }

    public func write(to path: String) throws(FormatError) {
        try ByteIO.writeFile(encode(), to: path)
    }
}
