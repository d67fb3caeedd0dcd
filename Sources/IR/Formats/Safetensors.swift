/// A safetensors file, as written by `safetensors.torch.save_file(model.state_dict(), path)`.
///
/// Layout: an 8-byte little-endian header length N, N bytes of JSON
/// `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {..}}`,
/// then the data buffer; offsets are relative to the buffer's start.
///
/// Float tensors (F32, F16, BF16, F64) are converted exactly to float32 (F64 rounds to nearest).
/// Integer and bool tensors, such as BatchNorm's `num_batches_tracked`, are validated but not converted:
/// they are listed in `skipped` so the caller can warn that they are unused.
public struct SafetensorsFile: Equatable, Sendable {
    /// A validated tensor that has no float32 meaning for the network.
    public struct Skipped: Equatable, Sendable {
        public var name: String
        public var dtype: String
        public var shape: [Int]

        public init(name: String, dtype: String, shape: [Int]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
        }
    }

    /// The file name used in error messages.
    public var source: String
    /// The float tensors, converted to float32.
    public var tensors: [String: Tensor]
    /// The names of `tensors`, sorted by code point (as Python's `sorted` does).
    public var order: [String]
    /// The `__metadata__` strings, e.g. `["format": "pt"]`.
    public var metadata: [String: String]
    /// Integer and bool tensors, sorted by name.
    public var skipped: [Skipped]
    /// The I8 and I32 tensors among them, with their values (a quantized network's weights and biases).
    public var integers: [String: IntegerTensor] = [:]

    public init(source: String, tensors: [String: Tensor], metadata: [String: String] = [:], skipped: [Skipped] = []) {
        self.source = source
        self.tensors = tensors
        self.order = tensors.keys.sorted(by: Self.codePointOrder)
        self.metadata = metadata
        self.skipped = skipped.sorted { Self.codePointOrder($0.name, $1.name) }
    }

    /// The tensor `name`, checked to have the shape the network needs.
    public func tensor(_ name: String, shape expected: [Int]) throws(FormatError) -> Tensor {
        guard let tensor = tensors[name] else {
            if let s = skipped.first(where: { $0.name == name }) {
                throw .dtypeMismatch(file: source, what: "tensor '\(name)' values", expected: "F32, F16, BF16 or F64", found: s.dtype)
            }
            throw .missingTensor(file: source, tensor: name)
        }
        guard tensor.shape == expected else {
            throw .shapeMismatch(file: source, tensor: name, expected: expected, found: tensor.shape)
        }
        return tensor
    }

    // MARK: Reading

    /// Reads and validates the file at `path`, which also names it in error messages.
    public static func read(path: String) throws(FormatError) -> SafetensorsFile {
        try decode(ByteIO.readFile(path), source: path)
    }

    /// Validates and decodes file bytes; any byte sequence yields a file or a `FormatError` naming `source`.
    public static func decode(_ bytes: [UInt8], source: String) throws(FormatError) -> SafetensorsFile {
        guard bytes.count >= 8 else {
            throw .truncated(file: source, what: "the header length", needed: 8, available: bytes.count)
        }
        let headerLength = ByteIO.u64(bytes, 0)
        // Compare as UInt64 first: the declared length may not fit in an Int.
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw .headerOutOfBounds(file: source, headerLength: headerLength, available: bytes.count - 8)
        }
        let dataStart = 8 + Int(headerLength)
        let header: HeaderJSON
        do {
            header = try HeaderJSON.parse(bytes[8..<dataStart])
        } catch {
            throw .malformedHeader(file: source, reason: "\(error.reason) at header byte \(error.offset)")
        }
        guard case let .object(entries) = header else {
            throw .malformedHeader(file: source, reason: "expected a JSON object, found \(header.kind)")
        }

        // Validate every entry before converting any, so a bad file fails before any tensor data is allocated.
        var metadata: [String: String] = [:]
        var valid: [Entry] = []
        for (name, value) in entries {
            if name == "__metadata__" {
                metadata = try decodeMetadata(value, source: source)
            } else {
                valid.append(try Entry(name: name, json: value, source: source, bufferSize: bytes.count - dataStart))
            }
        }
        try checkNoOverlap(valid, source: source)

        var tensors: [String: Tensor] = [:]
        var skipped: [Skipped] = []
        var integers: [String: IntegerTensor] = [:]
        for entry in valid {
            switch entry.dtype {
            case let .float(kind):
                let data = kind.convert(bytes, from: dataStart + entry.begin, count: entry.count)
                tensors[entry.name] = Tensor(shape: entry.shape, data: data)
            case let .other(dtype, _):
                skipped.append(Skipped(name: entry.name, dtype: dtype, shape: entry.shape))
                if let kind = IntegerTensor.Kind(rawValue: dtype) {
                    integers[entry.name] = IntegerTensor(kind, shape: entry.shape,
                                                         values: kind.convert(bytes, from: dataStart + entry.begin, count: entry.count))
                }
            }
        }
        var file = SafetensorsFile(source: source, tensors: tensors, metadata: metadata, skipped: skipped)
        file.integers = integers
        return file
    }

    /// The reference implementation rejects overlapping data too; here it also bounds memory: without it,
    /// a small file could point thousands of entries at the same megabytes and decode to gigabytes.
    private static func checkNoOverlap(_ entries: [Entry], source: String) throws(FormatError) {
        let ranges = entries.filter { $0.end > $0.begin }.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        for (previous, next) in zip(ranges, ranges.dropFirst()) where next.begin < previous.end {
            throw .overlappingData(file: source, tensor: next.name, begin: next.begin, end: next.end,
                                   other: previous.name, otherBegin: previous.begin, otherEnd: previous.end)
        }
    }

    private static func decodeMetadata(_ json: HeaderJSON, source: String) throws(FormatError) -> [String: String] {
        guard case let .object(pairs) = json else {
            throw .malformedHeader(file: source, reason: "__metadata__ must be an object, found \(json.kind)")
        }
        var metadata: [String: String] = [:]
        for (key, value) in pairs {
            guard case let .string(s) = value else {
                throw .malformedHeader(file: source, reason: "__metadata__ value for \"\(key)\" must be a string, found \(value.kind)")
            }
            metadata[key] = s
        }
        return metadata
    }

    // MARK: Writing

    /// The file bytes for float32 tensors: deterministic and byte-identical for equal inputs.
    ///
    /// Tensors are laid out in name order (code point order) with no gaps; each header entry is
    /// `{"dtype":"F32","shape":[..],"data_offsets":[b,e]}` (the reference field order), `__metadata__`
    /// (keys sorted) comes last and is omitted when empty; no whitespace, and the JSON is padded with
    /// spaces to a multiple of 8 bytes, as the reference writer does, so the data stays aligned.
    /// A tensor may not be named `__metadata__`.
    /// `integers` are written as I8 or I32 tensors, among the float ones in name order.
    public static func encode(tensors: [String: Tensor], integers: [String: IntegerTensor] = [:],
                              metadata: [String: String] = [:]) -> [UInt8] {
        precondition(tensors["__metadata__"] == nil && integers["__metadata__"] == nil, "a tensor cannot be named __metadata__")
        precondition(Set(tensors.keys).isDisjoint(with: integers.keys), "a tensor name is both float and integer")
        let names = (Array(tensors.keys) + Array(integers.keys)).sorted(by: codePointOrder)
        var fields: [String] = []
        var offset = 0
        for name in names {
            let (dtype, size, shape) = if let t = tensors[name] { ("F32", 4 * t.count, t.shape) } else if let t = integers[name] {
                (t.kind.rawValue, t.kind.size * t.values.count, t.shape)
            } else { ("F32", 0, [0]) }
            let end = offset + size
            let spelled = shape.map(String.init).joined(separator: ",")
            fields.append("\(jsonQuoted(name)):{\"dtype\":\"\(dtype)\",\"shape\":[\(spelled)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted(by: codePointOrder).map { "\(jsonQuoted($0)):\(jsonQuoted(metadata[$0] ?? ""))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + offset)
        ByteIO.append(UInt64(header.count), to: &bytes)
        bytes.append(contentsOf: header)
        for name in names {
            if let tensor = tensors[name] {
                for value in tensor.data { ByteIO.append(value.bitPattern, to: &bytes) }
            } else if let tensor = integers[name] {
                for value in tensor.values {
                    if tensor.kind == .i8 { bytes.append(UInt8(bitPattern: Int8(truncatingIfNeeded: value))) } else { ByteIO.append(UInt32(bitPattern: value), to: &bytes) }
                }
            }
        }
        return bytes
    }

    public static func write(tensors: [String: Tensor], integers: [String: IntegerTensor] = [:],
                             metadata: [String: String] = [:], to path: String) throws(FormatError) {
        try ByteIO.writeFile(encode(tensors: tensors, integers: integers, metadata: metadata), to: path)
    }

    /// Code point order, which for UTF-8 is byte order: stable across platforms and matches Python's `sorted`.
    static func codePointOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}

/// An I8 or I32 tensor of a safetensors file (a quantized network's weights, biases and zero
/// points), its values widened to Int32.
public struct IntegerTensor: Equatable, Sendable {
    public enum Kind: String, Sendable {
        case i8 = "I8", i32 = "I32"

        var size: Int { self == .i8 ? 1 : 4 }

        func convert(_ bytes: [UInt8], from start: Int, count: Int) -> [Int32] {
            switch self {
            case .i8: (0..<count).map { Int32(Int8(bitPattern: bytes[start + $0])) }
            case .i32: (0..<count).map { Int32(bitPattern: ByteIO.u32(bytes, start + 4 * $0)) }
            }
        }
    }

    public var kind: Kind
    public var shape: [Int]
    public var values: [Int32]

    /// `values.count` must equal the product of `shape`; I8 values must lie in -128...127.
    public init(_ kind: Kind, shape: [Int], values: [Int32]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        precondition(kind == .i32 || values.allSatisfy { (-128...127).contains($0) }, "I8 values out of range")
        self.kind = kind
        self.shape = shape
        self.values = values
    }
}

// MARK: - Header entries

/// The safetensors dtypes this reader knows.
enum SafetensorsDType: Equatable {
    enum FloatKind: Equatable {
        case f64, f32, f16, bf16

        var size: Int {
            switch self {
            case .f64: 8
            case .f32: 4
            case .f16, .bf16: 2
            }
        }

        func convert(_ bytes: [UInt8], from start: Int, count: Int) -> [Float] {
            switch self {
            case .f64: (0..<count).map { Float(Double(bitPattern: ByteIO.u64(bytes, start + 8 * $0))) }
            case .f32: (0..<count).map { Float(bitPattern: ByteIO.u32(bytes, start + 4 * $0)) }
            case .f16: (0..<count).map { HalfFloat.float(fromHalf: ByteIO.u16(bytes, start + 2 * $0)) }
            case .bf16: (0..<count).map { HalfFloat.float(fromBFloat16: ByteIO.u16(bytes, start + 2 * $0)) }
            }
        }
    }

    case float(FloatKind)
    /// An integer or bool dtype: its name and element size.
    case other(String, size: Int)

    static let floats: [String: FloatKind] = ["F64": .f64, "F32": .f32, "F16": .f16, "BF16": .bf16]
    static let others: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "U16": 2, "I16": 2, "U32": 4, "I32": 4, "U64": 8, "I64": 8,
    ]

    init?(_ name: String) {
        if let kind = Self.floats[name] {
            self = .float(kind)
        } else if let size = Self.others[name] {
            self = .other(name, size: size)
        } else {
            return nil
        }
    }

    var size: Int {
        switch self {
        case let .float(kind): kind.size
        case let .other(_, size): size
        }
    }
}

/// One validated header entry: its data range lies inside the buffer and matches shape × dtype size.
private struct Entry {
    var name: String
    var dtype: SafetensorsDType
    var shape: [Int]
    var count: Int
    /// The data range, relative to the start of the data buffer.
    var begin: Int
    var end: Int

    init(name: String, json: HeaderJSON, source: String, bufferSize: Int) throws(FormatError) {
        func invalid(_ reason: String) -> FormatError { .invalidEntry(file: source, tensor: name, reason: reason) }
        guard case let .object(fields) = json else { throw invalid("expected an object, found \(json.kind)") }
        func field(_ key: String) throws(FormatError) -> HeaderJSON {
            guard let value = fields.first(where: { $0.key == key })?.value else { throw invalid("missing \"\(key)\"") }
            return value
        }

        guard case let .string(dtypeName) = try field("dtype") else { throw invalid("\"dtype\" must be a string") }
        guard let dtype = SafetensorsDType(dtypeName) else {
            throw .unsupportedDType(file: source, tensor: name, dtype: dtypeName, supported: ["F32", "F16", "BF16", "F64"])
        }

        let shapeJSON = try field("shape")
        guard case let .array(dims) = shapeJSON else { throw invalid("\"shape\" must be an array, found \(shapeJSON.kind)") }
        // The shape as written, for messages (shortened: a hostile header could hold millions of dims).
        var shapeText: String {
            let full = "[" + dims.map { if case let .number(n) = $0 { n } else { "?" } }.joined(separator: ",") + "]"
            return full.count <= 60 ? full : full.prefix(57) + "..."
        }
        var shape: [Int] = []
        var count = 1
        for dim in dims {
            guard let d = dim.unsignedInteger else {
                if case let .number(n) = dim, n.hasPrefix("-") {
                    throw .invalidShape(file: source, tensor: name, shape: shapeText, reason: "negative dimension")
                }
                throw invalid("\"shape\" must contain non-negative integers, found \(dim.kind) \(shapeText)")
            }
            guard d <= UInt64(Int.max) else {
                throw .invalidShape(file: source, tensor: name, shape: shapeText, reason: "dimension too large")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow else {
                throw .invalidShape(file: source, tensor: name, shape: shapeText, reason: "element count overflows")
            }
            shape.append(Int(d))
            count = product
        }

        let offsetsJSON = try field("data_offsets")
        guard case let .array(offsets) = offsetsJSON, offsets.count == 2,
              let begin = offsets[0].unsignedInteger, let end = offsets[1].unsignedInteger
        else { throw invalid("\"data_offsets\" must be [begin, end] with non-negative integers") }
        guard begin <= end, end <= UInt64(bufferSize) else {
            throw .dataOutOfBounds(file: source, tensor: name, begin: begin, end: end, available: bufferSize)
        }

        let (expected, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow else {
            throw .invalidShape(file: source, tensor: name, shape: shapeText, reason: "byte count overflows")
        }
        let found = Int(end - begin)
        guard expected == found else {
            throw .byteCountMismatch(file: source, tensor: name, shape: shape, dtype: dtypeName, expected: expected, found: found)
        }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.count = count
        self.begin = Int(begin)
        self.end = Int(end)
    }
}
