import Foundation
import IR

/// A `TensorProto`: an initializer, a `Constant`'s value, or an attribute tensor, with its values as
/// encoded; `constant(_:modelDirectory:)` converts them.
public struct ONNXTensor: Sendable {
    public var name = ""
    public var dims: [Int64] = []
    public var dataType: Int32 = 0
    public var rawData: [UInt8]?
    public var floatBits: [UInt32] = []
    public var int32Data: [Int64] = []
    public var int64Data: [Int64] = []
    public var doubleBits: [UInt64] = []
    public var uint64Data: [UInt64] = []
    public var stringCount = 0
    /// `external_data` entries (location, offset, length, checksum) when `dataLocation` is 1.
    public var externalData: [String: String] = [:]
    public var dataLocation: Int32 = 0
    public var isSegment = false

    static func decode(_ reader: ProtobufReader) throws(ImportError) -> ONNXTensor {
        var r = reader
        var t = ONNXTensor()
        while let f = try r.next() {
            switch f.number {
            case 1: try r.repeatedVarints(f, "dims", into: &t.dims)
            case 2: t.dataType = try r.int32(f, "data_type")
            case 3:
                _ = try r.bytesRange(f, "segment")
                t.isSegment = true
            case 4: try r.repeatedFixed32(f, "float_data", into: &t.floatBits)
            case 5: try r.repeatedVarints(f, "int32_data", into: &t.int32Data)
            case 6:
                _ = try r.bytesRange(f, "string_data")
                t.stringCount += 1
            case 7: try r.repeatedVarints(f, "int64_data", into: &t.int64Data)
            case 8: t.name = try r.string(f, "name")
            case 9: t.rawData = try r.data(f, "raw_data")
            case 10: try r.repeatedFixed64(f, "double_data", into: &t.doubleBits)
            case 11:
                var values: [Int64] = []
                try r.repeatedVarints(f, "uint64_data", into: &values)
                t.uint64Data += values.map { UInt64(bitPattern: $0) }
            case 13:
                let (key, value) = try decodeStringPair(try r.message(f, "external_data"))
                t.externalData[key] = value
            case 14: t.dataLocation = try r.int32(f, "data_location")
            default: break
            }
        }
        return t
    }
}

/// `TensorProto.DataType` codes and what eec makes of them.
enum ONNXDataType {
    static let float: Int32 = 1, uint8: Int32 = 2, int8: Int32 = 3, uint16: Int32 = 4, int16: Int32 = 5
    static let int32: Int32 = 6, int64: Int32 = 7, string: Int32 = 8, bool: Int32 = 9, float16: Int32 = 10
    static let double: Int32 = 11, uint32: Int32 = 12, uint64: Int32 = 13, bfloat16: Int32 = 16

    static func name(_ code: Int32) -> String {
        let names: [Int32: String] = [
            0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64",
            8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64",
            15: "COMPLEX128", 16: "BFLOAT16", 17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2",
            20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4", 23: "FLOAT4E2M1",
        ]
        return names[code] ?? "type \(code)"
    }

    static func isFloat(_ code: Int32) -> Bool { [float, float16, double, bfloat16].contains(code) }
    static func isInteger(_ code: Int32) -> Bool {
        [uint8, int8, uint16, int16, int32, int64, bool, uint32, uint64].contains(code)
    }

    /// Bytes per element in `raw_data`.
    static func size(_ code: Int32) -> Int? {
        switch code {
        case uint8, int8, bool: 1
        case uint16, int16, float16, bfloat16: 2
        case float, int32, uint32: 4
        case int64, double, uint64: 8
        default: nil
        }
    }

    static let supported = "FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT8/16/32/64, UINT8/16/32/64, BOOL"
}

extension ONNXTensor {
    /// Largest tensor eec converts: 2^28 elements (1 GiB of float32), far beyond a CNN for a
    /// microcontroller, small enough that a hostile shape cannot exhaust memory.
    static let maxElements = 1 << 28

    /// The shape as Ints, checked: no negative dimension, no overflowing element count.
    func shape(_ what: String) throws(ImportError) -> [Int] {
        var shape: [Int] = []
        var count = 1
        for d in dims {
            guard d >= 0, let dim = Int(exactly: d) else { throw ImportError("\(what) has a negative dimension in \(dims)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= Self.maxElements else {
                throw ImportError("\(what) of shape \(dims) has more than \(Self.maxElements) elements")
            }
            shape.append(dim)
            count = product
        }
        return shape
    }

    /// The values, converted: float types to Float, integer and bool types to Int64. `what` names the
    /// tensor in messages; `modelDirectory` is where external data files are looked up.
    func constant(_ what: String, modelDirectory: String?) throws(ImportError) -> Constant {
        guard !isSegment else { throw ImportError("\(what) is a segment of a larger tensor, which eec does not read") }
        let shape = try shape(what)
        let count = shape.reduce(1, *)
        let type = dataType
        guard ONNXDataType.isFloat(type) || ONNXDataType.isInteger(type) else {
            throw ImportError("\(what) has data type \(ONNXDataType.name(type)); supported: \(ONNXDataType.supported)")
        }
        var raw = rawData
        if dataLocation == 1 {
            raw = try readExternal(what, modelDirectory: modelDirectory)
        }
        if let raw {
            guard let size = ONNXDataType.size(type) else { throw ImportError("\(what): no raw layout for \(ONNXDataType.name(type))") }
            guard raw.count == count * size else {
                throw ImportError("\(what) of shape \(dims) and type \(ONNXDataType.name(type)) needs \(count * size) bytes of data, found \(raw.count)")
            }
            return Constant(shape: shape, elementType: type, values: Self.decodeRaw(raw, type: type, count: count))
        }
        func check(_ found: Int, _ field: String) throws(ImportError) {
            guard found == count else {
                throw ImportError("\(what) of shape \(dims) needs \(count) values, \(field) holds \(found)")
            }
        }
        switch type {
        case ONNXDataType.float:
            try check(floatBits.count, "float_data")
            return Constant(shape: shape, elementType: type, values: .floats(floatBits.map { Float(bitPattern: $0) }))
        case ONNXDataType.double:
            try check(doubleBits.count, "double_data")
            return Constant(shape: shape, elementType: type, values: .floats(doubleBits.map { Float(Double(bitPattern: $0)) }))
        case ONNXDataType.float16, ONNXDataType.bfloat16:
            // Stored as the 16 bits in int32_data.
            try check(int32Data.count, "int32_data")
            let bits = int32Data.map { UInt16(truncatingIfNeeded: $0) }
            let values = type == ONNXDataType.float16 ? bits.map(HalfFloat.float(fromHalf:)) : bits.map(HalfFloat.float(fromBFloat16:))
            return Constant(shape: shape, elementType: type, values: .floats(values))
        case ONNXDataType.int64:
            try check(int64Data.count, "int64_data")
            return Constant(shape: shape, elementType: type, values: .ints(int64Data))
        case ONNXDataType.uint32, ONNXDataType.uint64:
            try check(uint64Data.count, "uint64_data")
            return Constant(shape: shape, elementType: type, values: .ints(uint64Data.map { Int64(truncatingIfNeeded: $0) }))
        default:
            try check(int32Data.count, "int32_data")
            return Constant(shape: shape, elementType: type, values: .ints(int32Data.map { Int64(Int32(truncatingIfNeeded: $0)) }))
        }
    }

    private static func decodeRaw(_ raw: [UInt8], type: Int32, count: Int) -> Constant.Values {
        func le(_ at: Int, _ size: Int) -> UInt64 { ProtobufReader.littleEndian(raw, at, size) }
        switch type {
        case ONNXDataType.float:
            return .floats(raw.withUnsafeBytes { p in (0..<count).map { Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } })
        case ONNXDataType.double: return .floats((0..<count).map { Float(Double(bitPattern: le(8 * $0, 8))) })
        case ONNXDataType.float16: return .floats((0..<count).map { HalfFloat.float(fromHalf: UInt16(le(2 * $0, 2))) })
        case ONNXDataType.bfloat16: return .floats((0..<count).map { HalfFloat.float(fromBFloat16: UInt16(le(2 * $0, 2))) })
        case ONNXDataType.int64, ONNXDataType.uint64: return .ints((0..<count).map { Int64(bitPattern: le(8 * $0, 8)) })
        case ONNXDataType.int32: return .ints((0..<count).map { Int64(Int32(truncatingIfNeeded: le(4 * $0, 4))) })
        case ONNXDataType.uint32: return .ints((0..<count).map { Int64(le(4 * $0, 4)) })
        case ONNXDataType.int16: return .ints((0..<count).map { Int64(Int16(truncatingIfNeeded: le(2 * $0, 2))) })
        case ONNXDataType.uint16: return .ints((0..<count).map { Int64(le(2 * $0, 2)) })
        case ONNXDataType.int8: return .ints(raw.prefix(count).map { Int64(Int8(bitPattern: $0)) })
        default: return .ints(raw.prefix(count).map { Int64($0) })  // uint8, bool
        }
    }

    /// The bytes of an external data file, relative to the model's folder (as the ONNX spec requires:
    /// no absolute paths, nothing outside the folder).
    private func readExternal(_ what: String, modelDirectory: String?) throws(ImportError) -> [UInt8] {
        guard let location = externalData["location"], !location.isEmpty else {
            throw ImportError("\(what) is stored externally but names no location")
        }
        guard !location.hasPrefix("/"), !location.split(separator: "/").contains(".."), !location.contains("\\") else {
            throw ImportError("\(what) names external data '\(location)' outside the model's folder; the location must be a relative path inside it")
        }
        guard let modelDirectory else {
            throw ImportError("\(what) is stored in external file '\(location)', but the model was not read from a file")
        }
        let path = modelDirectory.isEmpty ? location : modelDirectory + "/" + location
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImportError("\(what): cannot read external data file '\(path)'")
        }
        let offset = Int(externalData["offset"] ?? "0") ?? -1
        let length = externalData["length"].map { Int($0) ?? -1 } ?? max(-1, data.count - max(0, offset))
        guard offset >= 0, length >= 0, offset <= data.count, length <= data.count - offset else {
            throw ImportError("\(what): external data offset \(externalData["offset"] ?? "0") and length \(externalData["length"] ?? "(rest)") do not fit file '\(path)' of \(data.count) bytes")
        }
        return [UInt8](data[offset..<(offset + length)])
    }
}

/// A tensor whose values the importer knows: weights, and everything constant folding computes.
public struct Constant: Equatable, Sendable {
    public enum Values: Equatable, Sendable {
        case floats([Float])
        case ints([Int64])
    }

    public var shape: [Int]
    /// The ONNX data type it has in the graph (Cast changes it).
    public var elementType: Int32
    public var values: Values

    public var count: Int { shape.reduce(1, *) }

    public var floats: [Float] {
        switch values {
        case .floats(let v): v
        case .ints(let v): v.map { Float($0) }
        }
    }

    public var ints: [Int64] {
        switch values {
        case .ints(let v): v
        case .floats(let v): v.map { $0.isFinite && abs($0) < 9.2e18 ? Int64($0) : 0 }
        }
    }

    public var isFloat: Bool { if case .floats = values { true } else { false } }

    public var tensor: Tensor { Tensor(shape: shape, data: floats) }

    /// The same values under another shape (same element count).
    func reshaped(_ shape: [Int]) -> Constant { Constant(shape: shape, elementType: elementType, values: values) }

    /// Elements picked by index, kept in the same kind.
    func gathering(_ indices: [Int], shape: [Int]) -> Constant {
        switch values {
        case .floats(let v): Constant(shape: shape, elementType: elementType, values: .floats(indices.map { v[$0] }))
        case .ints(let v): Constant(shape: shape, elementType: elementType, values: .ints(indices.map { v[$0] }))
        }
    }
}
