/// A reader of the protocol buffers wire format, written for untrusted files: every length is checked
/// against the end of its enclosing message, varints stop at 10 bytes, and nesting is bounded, so any
/// byte sequence yields values or an `ImportError` naming the field and the byte offset, never a trap.
///
/// Wire types: 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit. Groups (3, 4) are obsolete and
/// rejected, as are 6 and 7. Unknown fields are skipped after their bounds are checked.
struct ProtobufReader {
    /// The whole file; `position` and `end` index into it, so offsets in messages are file offsets.
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    /// Where in the message tree this reader is, e.g. `ModelProto.graph.node[3]`, for messages.
    let path: String
    /// How many messages enclose this one.
    let depth: Int

    /// Deeper than any ONNX model needs (Model → Graph → Node → Attribute → Graph ... subgraphs);
    /// low enough that the recursive decoders cannot exhaust the stack.
    static let maxDepth = 64

    init(bytes: [UInt8], path: String) {
        self.init(bytes: bytes, range: 0..<bytes.count, path: path, depth: 0)
    }

    private init(bytes: [UInt8], range: Range<Int>, path: String, depth: Int) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.path = path
        self.depth = depth
    }

    enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5

        var name: String {
            switch self {
            case .varint: "varint"
            case .fixed64: "64-bit"
            case .lengthDelimited: "length-delimited"
            case .fixed32: "32-bit"
            }
        }
    }

    /// One field as read from the wire: its number, wire type, value, and where its key started.
    struct Field {
        enum Value {
            case varint(UInt64)
            case fixed64(UInt64)
            case fixed32(UInt32)
            case bytes(Range<Int>)
        }

        var number: Int
        var value: Value
        var offset: Int

        var wireType: WireType {
            switch value {
            case .varint: .varint
            case .fixed64: .fixed64
            case .fixed32: .fixed32
            case .bytes: .lengthDelimited
            }
        }
    }

    var isAtEnd: Bool { position >= end }

    /// The next field, or nil at the end of the message.
    mutating func next() throws(ImportError) -> Field? {
        guard position < end else { return nil }
        let offset = position
        let key = try varint(what: "a field key")
        let number = key >> 3
        guard number >= 1, number <= 536_870_911 else {
            throw malformed("invalid field number \(number)", at: offset)
        }
        let rawType = UInt8(key & 7)
        guard let wireType = WireType(rawValue: rawType) else {
            let reason = rawType == 3 || rawType == 4 ? "groups are not supported" : "no such wire type"
            throw malformed("field \(number) has wire type \(rawType) (\(reason))", at: offset)
        }
        let value: Field.Value
        switch wireType {
        case .varint:
            value = .varint(try varint(what: "field \(number)"))
        case .fixed64:
            value = .fixed64(try fixed(8, what: "field \(number)"))
        case .fixed32:
            value = .fixed32(UInt32(truncatingIfNeeded: try fixed(4, what: "field \(number)")))
        case .lengthDelimited:
            let lengthAt = position
            let length = try varint(what: "the length of field \(number)")
            // Compare as UInt64 first: the length may not fit in an Int.
            guard length <= UInt64(end - position) else {
                throw malformed("field \(number) declares \(length) bytes at byte \(lengthAt), only \(end - position) remain in the enclosing message", at: offset)
            }
            let start = position
            position += Int(length)
            value = .bytes(start..<position)
        }
        return Field(number: Int(number), value: value, offset: offset)
    }

    // MARK: Field values, checked against the wire type the schema expects

    func expect(_ field: Field, _ type: WireType, _ name: String) throws(ImportError) {
        guard field.wireType == type else {
            throw malformed("field \(field.number) (\(name)) has wire type \(field.wireType.name), expected \(type.name)", at: field.offset)
        }
    }

    func int64(_ field: Field, _ name: String) throws(ImportError) -> Int64 {
        try expect(field, .varint, name)
        guard case .varint(let v) = field.value else { return 0 }
        return Int64(bitPattern: v)
    }

    /// An int32 or enum: encoded as a sign-extended varint, so any value must fit 32 bits.
    func int32(_ field: Field, _ name: String) throws(ImportError) -> Int32 {
        let v = try int64(field, name)
        guard let narrow = Int32(exactly: v) else {
            throw malformed("field \(field.number) (\(name)) holds \(v), which does not fit 32 bits", at: field.offset)
        }
        return narrow
    }

    func float(_ field: Field, _ name: String) throws(ImportError) -> Float {
        try expect(field, .fixed32, name)
        guard case .fixed32(let v) = field.value else { return 0 }
        return Float(bitPattern: v)
    }

    func bytesRange(_ field: Field, _ name: String) throws(ImportError) -> Range<Int> {
        try expect(field, .lengthDelimited, name)
        guard case .bytes(let r) = field.value else { return 0..<0 }
        return r
    }

    func data(_ field: Field, _ name: String) throws(ImportError) -> [UInt8] {
        Array(bytes[try bytesRange(field, name)])
    }

    /// A string field; ONNX names are UTF-8, and invalid sequences are repaired rather than trusted.
    func string(_ field: Field, _ name: String) throws(ImportError) -> String {
        String(decoding: bytes[try bytesRange(field, name)], as: UTF8.self)
    }

    /// A reader of the embedded message in `field`, one level deeper.
    func message(_ field: Field, _ name: String) throws(ImportError) -> ProtobufReader {
        let range = try bytesRange(field, name)
        let childPath = path + "." + name
        guard depth + 1 <= Self.maxDepth else {
            throw ImportError.malformed(path: childPath, offset: field.offset,
                                        reason: "messages nested more than \(Self.maxDepth) deep")
        }
        return ProtobufReader(bytes: bytes, range: range, path: childPath, depth: depth + 1)
    }

    /// Appends a repeated scalar, packed (one length-delimited field) or not (one field per value):
    /// parsers must accept both, whatever the schema says.
    func repeatedVarints(_ field: Field, _ name: String, into values: inout [Int64]) throws(ImportError) {
        switch field.value {
        case .varint(let v): values.append(Int64(bitPattern: v))
        case .bytes(let range):
            var packed = ProtobufReader(bytes: bytes, range: range, path: path + "." + name, depth: depth)
            while !packed.isAtEnd { values.append(Int64(bitPattern: try packed.varint(what: "a packed \(name) value"))) }
        default: try expect(field, .varint, name)
        }
    }

    func repeatedFixed32(_ field: Field, _ name: String, into values: inout [UInt32]) throws(ImportError) {
        var wide: [UInt64] = []
        try repeatedFixed(field, name, size: 4, into: &wide)
        values += wide.map { UInt32(truncatingIfNeeded: $0) }
    }

    func repeatedFixed64(_ field: Field, _ name: String, into values: inout [UInt64]) throws(ImportError) {
        try repeatedFixed(field, name, size: 8, into: &values)
    }

    /// 32- or 64-bit values, one per field or packed in one length-delimited field.
    private func repeatedFixed(_ field: Field, _ name: String, size: Int, into values: inout [UInt64]) throws(ImportError) {
        switch field.value {
        case .fixed32(let v) where size == 4: values.append(UInt64(v))
        case .fixed64(let v) where size == 8: values.append(v)
        case .bytes(let range):
            guard range.count % size == 0 else {
                throw malformed("packed field \(field.number) (\(name)) holds \(range.count) bytes, not a multiple of \(size)", at: field.offset)
            }
            values.reserveCapacity(values.count + range.count / size)
            for at in stride(from: range.lowerBound, to: range.upperBound, by: size) { values.append(littleEndian(at, size)) }
        default: try expect(field, size == 4 ? .fixed32 : .fixed64, name)
        }
    }

    // MARK: Primitives

    private mutating func varint(what: String) throws(ImportError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else {
                throw malformed("\(what) is truncated: its varint runs past the end of the message", at: start)
            }
            guard shift < 64 else {
                throw malformed("\(what) is a varint longer than 10 bytes", at: start)
            }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    private mutating func fixed(_ size: Int, what: String) throws(ImportError) -> UInt64 {
        guard end - position >= size else {
            throw malformed("\(what) needs \(size) bytes, only \(end - position) remain", at: position)
        }
        let v = littleEndian(position, size)
        position += size
        return v
    }

    private func littleEndian(_ at: Int, _ size: Int) -> UInt64 { Self.littleEndian(bytes, at, size) }

    /// The `size`-byte little-endian value at `at` (also how `raw_data` stores tensor elements).
    static func littleEndian(_ bytes: [UInt8], _ at: Int, _ size: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<size { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        return v
    }

    func malformed(_ reason: String, at offset: Int) -> ImportError {
        .malformed(path: path, offset: offset, reason: reason)
    }
}
