import IR
@testable import Import

/// A protobuf writer and a small ONNX model builder, for fixtures: written independently of the
/// decoder (from the wire-format and onnx.proto specifications), so a test reads what it wrote.
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func key(_ field: Int, _ wireType: Int) { varint(UInt64(field << 3 | wireType)) }

    mutating func int(_ field: Int, _ value: Int64) {
        key(field, 0)
        varint(UInt64(bitPattern: value))
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value.bitPattern >> (8 * UInt32(i)))) }
    }

    mutating func data(_ field: Int, _ value: [UInt8]) {
        key(field, 2)
        varint(UInt64(value.count))
        bytes += value
    }

    mutating func string(_ field: Int, _ value: String) { data(field, Array(value.utf8)) }

    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        build(&inner)
        data(field, inner.bytes)
    }

    /// Repeated int64 as one packed field.
    mutating func packed(_ field: Int, _ values: [Int64]) {
        var inner = ProtoWriter()
        for v in values { inner.varint(UInt64(bitPattern: v)) }
        data(field, inner.bytes)
    }
}

/// A tensor for an initializer or attribute.
struct TensorSpec {
    var name = ""
    var dims: [Int]
    var floats: [Float]?
    var ints: [Int64]?
    /// Float values in raw_data (as exporters write weights) instead of float_data.
    var raw = true
    /// Written to this external file (relative to the model) instead of inside the model.
    var external: String?

    static func floats(_ name: String, _ dims: [Int], _ values: [Float], raw: Bool = true) -> TensorSpec {
        TensorSpec(name: name, dims: dims, floats: values, raw: raw)
    }

    static func ints(_ name: String, _ values: [Int64], dims: [Int]? = nil) -> TensorSpec {
        TensorSpec(name: name, dims: dims ?? [values.count], ints: values, raw: false)
    }

    var rawBytes: [UInt8] {
        if let floats { return floats.flatMap { f in (0..<4).map { UInt8(truncatingIfNeeded: f.bitPattern >> (8 * UInt32($0))) } } }
        return (ints ?? []).flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: v) >> (8 * UInt64($0))) } }
    }

    func write(_ w: inout ProtoWriter) {
        for d in dims { w.int(1, Int64(d)) }
        w.int(2, floats != nil ? 1 : 7)
        if !name.isEmpty { w.string(8, name) }
        if let external {
            w.message(13) { $0.string(1, "location"); $0.string(2, external) }
            w.int(14, 1)
        } else if raw {
            w.data(9, rawBytes)
        } else if let floats {
            var inner = ProtoWriter()
            for f in floats { for i in 0..<4 { inner.bytes.append(UInt8(truncatingIfNeeded: f.bitPattern >> (8 * UInt32(i)))) } }
            w.data(4, inner.bytes)
        } else if let ints {
            w.packed(7, ints)
        }
    }
}

enum AttrValue {
    case int(Int64)
    case ints([Int64])
    case float(Float)
    case string(String)
    case tensor(TensorSpec)
}

struct NodeSpec {
    var op: String
    var inputs: [String]
    var outputs: [String]
    var name = ""
    var attributes: [(String, AttrValue)] = []
    var domain = ""
    var metadata: [(String, String)] = []

    init(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "", _ attributes: [(String, AttrValue)] = []) {
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.name = name
        self.attributes = attributes
    }

    func write(_ w: inout ProtoWriter) {
        for i in inputs { w.string(1, i) }
        for o in outputs { w.string(2, o) }
        if !name.isEmpty { w.string(3, name) }
        w.string(4, op)
        if !domain.isEmpty { w.string(7, domain) }
        for (key, value) in attributes {
            w.message(5) { a in
                a.string(1, key)
                switch value {
                case .int(let v): a.int(20, 2); a.int(3, v)
                case .ints(let v): a.int(20, 7); for x in v { a.int(8, x) }
                case .float(let v): a.int(20, 1); a.float(2, v)
                case .string(let v): a.int(20, 3); a.string(4, v)
                case .tensor(let t): a.int(20, 4); a.message(5) { t.write(&$0) }
                }
            }
        }
        for (key, value) in metadata { w.message(9) { $0.string(1, key); $0.string(2, value) } }
    }
}

/// A one-input, one-output ONNX model.
struct ModelSpec {
    var opset: Int64 = 17
    var inputName = "x"
    var inputDims: [Int] = [1, 2, 4, 4]
    var nodes: [NodeSpec] = []
    var initializers: [TensorSpec] = []
    var output = "y"
    /// Input dimensions written as symbols (`dim_param`) instead of sizes.
    var inputDimParams: [Int: String] = [:]

    func encode() -> [UInt8] {
        var w = ProtoWriter()
        w.int(1, 8)
        w.string(2, "eec-tests")
        w.message(7) { g in
            for n in nodes { g.message(1) { n.write(&$0) } }
            g.string(2, "test")
            for t in initializers { g.message(5) { t.write(&$0) } }
            g.message(11) { v in
                v.string(1, inputName)
                v.message(2) { t in
                    t.message(1) { tt in
                        tt.int(1, 1)
                        tt.message(2) { s in
                            for (i, d) in inputDims.enumerated() {
                                s.message(1) { dim in if let p = inputDimParams[i] { dim.string(2, p) } else { dim.int(1, Int64(d)) } }
                            }
                        }
                    }
                }
            }
            g.message(12) { v in
                v.string(1, output)
                // float32 [?, ?]: the shape is left to inference.
                v.message(2) { t in t.message(1) { tt in tt.int(1, 1); tt.message(2) { s in s.message(1) { _ in }; s.message(1) { _ in } } } }
            }
        }
        w.message(8) { $0.string(1, ""); $0.int(2, opset) }
        return w.bytes
    }

    func importModel(directory: String? = nil) throws(ImportError) -> ImportedModel {
        try ONNXImporter.importModel(bytes: encode(), source: "test.onnx", modelDirectory: directory, modelName: "test")
    }
}

/// Deterministic values in [-1, 1).
func seeded(_ count: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in rng.uniform(-1, 1) }
}
