/// The parts of ONNX's `onnx.proto` that eec reads, decoded from the wire format by
/// `ProtobufReader`. Field numbers are those of the ONNX schema (IR versions 3 to 10); fields eec
/// does not use are skipped. Names follow the schema so the code reads against its documentation.
public struct ONNXModel: Sendable {
    public var irVersion: Int64 = 0
    public var producerName = ""
    public var producerVersion = ""
    /// (domain, version); the default domain is "" (also spelled "ai.onnx").
    public var opsetImports: [(domain: String, version: Int64)] = []
    public var graph = ONNXGraph()
    /// Names of model-local functions (FunctionProto): a node calling one is an unsupported op.
    public var functionNames: [String] = []

    /// The version of the default operator set (ai.onnx) the model declares.
    public var defaultOpset: Int64? {
        opsetImports.first { $0.domain == "" || $0.domain == "ai.onnx" }?.version
    }

    /// Decodes a whole `ModelProto`.
    public static func decode(_ bytes: [UInt8]) throws(ImportError) -> ONNXModel {
        var r = ProtobufReader(bytes: bytes, path: "ModelProto")
        var model = ONNXModel()
        var sawGraph = false
        while let f = try r.next() {
            switch f.number {
            case 1: model.irVersion = try r.int64(f, "ir_version")
            case 2: model.producerName = try r.string(f, "producer_name")
            case 3: model.producerVersion = try r.string(f, "producer_version")
            case 7:
                model.graph = try ONNXGraph.decode(try r.message(f, "graph"))
                sawGraph = true
            case 8:
                var m = try r.message(f, "opset_import[\(model.opsetImports.count)]")
                var domain = "", version: Int64 = 0
                while let g = try m.next() {
                    switch g.number {
                    case 1: domain = try m.string(g, "domain")
                    case 2: version = try m.int64(g, "version")
                    default: break
                    }
                }
                model.opsetImports.append((domain, version))
            case 25:
                var m = try r.message(f, "functions[\(model.functionNames.count)]")
                var name = ""
                while let g = try m.next() {
                    if g.number == 1 { name = try m.string(g, "name") }
                }
                model.functionNames.append(name)
            default: break
            }
        }
        guard sawGraph else { throw ImportError("not an ONNX model: ModelProto has no graph (field 7)") }
        return model
    }
}

public struct ONNXGraph: Sendable {
    public var name = ""
    public var nodes: [ONNXNode] = []
    public var initializers: [ONNXTensor] = []
    public var inputs: [ONNXValueInfo] = []
    public var outputs: [ONNXValueInfo] = []
    public var hasSparseInitializers = false

    static func decode(_ reader: ProtobufReader) throws(ImportError) -> ONNXGraph {
        var r = reader
        var g = ONNXGraph()
        while let f = try r.next() {
            switch f.number {
            case 1: g.nodes.append(try ONNXNode.decode(try r.message(f, "node[\(g.nodes.count)]")))
            case 2: g.name = try r.string(f, "name")
            case 5: g.initializers.append(try ONNXTensor.decode(try r.message(f, "initializer[\(g.initializers.count)]")))
            case 11: g.inputs.append(try ONNXValueInfo.decode(try r.message(f, "input[\(g.inputs.count)]")))
            case 12: g.outputs.append(try ONNXValueInfo.decode(try r.message(f, "output[\(g.outputs.count)]")))
            case 15:
                _ = try r.bytesRange(f, "sparse_initializer")
                g.hasSparseInitializers = true
            default: break
            }
        }
        return g
    }
}

public struct ONNXNode: Sendable {
    public var inputs: [String] = []
    public var outputs: [String] = []
    public var name = ""
    public var opType = ""
    public var domain = ""
    public var attributes: [ONNXAttribute] = []
    /// `metadata_props` (IR 10): PyTorch's dynamo exporter writes the module path here.
    public var metadata: [String: String] = [:]
    /// Position in the graph, for messages about unnamed nodes.
    public var index = 0

    /// How messages name the node: `node '/layer1/Mul' (Mul)`.
    public var label: String {
        let id = name.isEmpty ? "#\(index)" : "'\(Self.shorten(name))'"
        return "node \(id) (\(domain.isEmpty || domain == "ai.onnx" ? "" : domain + ".")\(opType))"
    }

    public func attribute(_ name: String) -> ONNXAttribute? { attributes.first { $0.name == name } }

    /// Input `i`, or nil when absent or given as "" (an omitted optional input).
    public func input(_ i: Int) -> String? { i < inputs.count && !inputs[i].isEmpty ? inputs[i] : nil }

    static func shorten(_ s: String) -> String { s.count <= 120 ? s : String(s.prefix(117)) + "..." }

    static func decode(_ reader: ProtobufReader) throws(ImportError) -> ONNXNode {
        var r = reader
        var n = ONNXNode()
        while let f = try r.next() {
            switch f.number {
            case 1: n.inputs.append(try r.string(f, "input"))
            case 2: n.outputs.append(try r.string(f, "output"))
            case 3: n.name = try r.string(f, "name")
            case 4: n.opType = try r.string(f, "op_type")
            case 7: n.domain = try r.string(f, "domain")
            case 5: n.attributes.append(try ONNXAttribute.decode(try r.message(f, "attribute[\(n.attributes.count)]")))
            case 9:
                let (key, value) = try decodeStringPair(try r.message(f, "metadata_props"))
                n.metadata[key] = value
            default: break
            }
        }
        return n
    }
}

/// A `StringStringEntryProto`: key = 1, value = 2.
func decodeStringPair(_ reader: ProtobufReader) throws(ImportError) -> (String, String) {
    var r = reader
    var key = "", value = ""
    while let f = try r.next() {
        switch f.number {
        case 1: key = try r.string(f, "key")
        case 2: value = try r.string(f, "value")
        default: break
        }
    }
    return (key, value)
}

public struct ONNXAttribute: Sendable {
    /// `AttributeProto.AttributeType`.
    public enum Kind: Int32, Sendable {
        case undefined = 0, float = 1, int = 2, string = 3, tensor = 4, graph = 5, floats = 6, ints = 7,
             strings = 8, tensors = 9, graphs = 10, sparseTensor = 11, sparseTensors = 12, typeProto = 13,
             typeProtos = 14

        var name: String {
            switch self {
            case .undefined: "UNDEFINED"
            case .float: "FLOAT"
            case .int: "INT"
            case .string: "STRING"
            case .tensor: "TENSOR"
            case .graph: "GRAPH"
            case .floats: "FLOATS"
            case .ints: "INTS"
            case .strings: "STRINGS"
            case .tensors: "TENSORS"
            case .graphs: "GRAPHS"
            case .sparseTensor: "SPARSE_TENSOR"
            case .sparseTensors: "SPARSE_TENSORS"
            case .typeProto: "TYPE_PROTO"
            case .typeProtos: "TYPE_PROTOS"
            }
        }
    }

    public var name = ""
    public var kind: Kind = .undefined
    public var f: Float = 0
    public var i: Int64 = 0
    public var s: [UInt8] = []
    public var t: ONNXTensor?
    public var floats: [Float] = []
    public var ints: [Int64] = []
    public var strings: [[UInt8]] = []
    /// Set inside function bodies: the attribute refers to the caller's. eec reads no functions.
    public var refAttrName = ""
    /// Sub-graphs (If/Loop bodies) are decoded only to validate them; eec does not translate them.
    public var hasGraph = false

    public var string: String { String(decoding: s, as: UTF8.self) }

    static func decode(_ reader: ProtobufReader) throws(ImportError) -> ONNXAttribute {
        var r = reader
        var a = ONNXAttribute()
        var floatBits: [UInt32] = []
        var kindCode: Int32?
        while let f = try r.next() {
            switch f.number {
            case 1: a.name = try r.string(f, "name")
            case 20: kindCode = try r.int32(f, "type")
            case 2: a.f = try r.float(f, "f")
            case 3: a.i = try r.int64(f, "i")
            case 4: a.s = try r.data(f, "s")
            case 5: a.t = try ONNXTensor.decode(try r.message(f, "t"))
            case 6, 11:
                _ = try ONNXGraph.decode(try r.message(f, f.number == 6 ? "g" : "graphs"))
                a.hasGraph = true
            case 7: try r.repeatedFixed32(f, "floats", into: &floatBits)
            case 8: try r.repeatedVarints(f, "ints", into: &a.ints)
            case 9: a.strings.append(try r.data(f, "strings"))
            case 21: a.refAttrName = try r.string(f, "ref_attr_name")
            default: break
            }
        }
        a.floats = floatBits.map { Float(bitPattern: $0) }
        if let kindCode {
            guard let kind = Kind(rawValue: kindCode) else {
                throw ImportError("attribute '\(a.name)' has unknown type \(kindCode)")
            }
            a.kind = kind
        } else {
            // IR version 1 files may omit `type`; infer it from the one field present.
            if a.t != nil { a.kind = .tensor } else if !a.ints.isEmpty { a.kind = .ints } else if !a.floats.isEmpty { a.kind = .floats } else if !a.s.isEmpty { a.kind = .string }
        }
        return a
    }
}

public struct ONNXValueInfo: Sendable {
    public enum Dimension: Equatable, Sendable, CustomStringConvertible {
        case value(Int64)
        case parameter(String)
        case unknown

        public var description: String {
            switch self {
            case .value(let v): "\(v)"
            case .parameter(let name): "symbolic ('\(name)')"
            case .unknown: "unknown"
            }
        }
    }

    public var name = ""
    /// `TensorProto.DataType` of a tensor type, nil when the type is not a tensor or not given.
    public var elementType: Int32?
    /// nil when the shape is not given.
    public var shape: [Dimension]?

    static func decode(_ reader: ProtobufReader) throws(ImportError) -> ONNXValueInfo {
        var r = reader
        var v = ONNXValueInfo()
        while let f = try r.next() {
            switch f.number {
            case 1: v.name = try r.string(f, "name")
            case 2:
                var type = try r.message(f, "type")
                while let g = try type.next() {
                    guard g.number == 1 else { continue }
                    var tensor = try type.message(g, "tensor_type")
                    while let h = try tensor.next() {
                        switch h.number {
                        case 1: v.elementType = try tensor.int32(h, "elem_type")
                        case 2: v.shape = try decodeShape(try tensor.message(h, "shape"))
                        default: break
                        }
                    }
                }
            default: break
            }
        }
        return v
    }

    static func decodeShape(_ reader: ProtobufReader) throws(ImportError) -> [Dimension] {
        var r = reader
        var dims: [Dimension] = []
        while let f = try r.next() {
            guard f.number == 1 else { continue }
            var d = try r.message(f, "dim[\(dims.count)]")
            var dim = Dimension.unknown
            while let g = try d.next() {
                switch g.number {
                case 1: dim = .value(try d.int64(g, "dim_value"))
                case 2: dim = .parameter(try d.string(g, "dim_param"))
                default: break
                }
            }
            dims.append(dim)
        }
        return dims
    }
}
