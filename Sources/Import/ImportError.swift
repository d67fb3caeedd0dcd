/// Why an ONNX model could not be imported, as one compiler-style line:
/// `model.onnx: error: node '/layer1/Mul' (Mul): op Mul is not supported; supported: Add, ...`.
///
/// The decoder and the translator fill in `message`; the importer adds the file name.
public struct ImportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The model file as the user named it (empty until the importer sets it).
    public var file: String
    public var message: String

    public init(file: String = "", _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { file.isEmpty ? "error: \(message)" : "\(file): error: \(message)" }

    /// Bytes that are not a valid protobuf encoding of the ONNX messages.
    static func malformed(path: String, offset: Int, reason: String) -> ImportError {
        ImportError("malformed ONNX protobuf at byte \(offset) (in \(path)): \(reason)")
    }

    /// A node eec cannot translate; `what` says which value, `supported` what would work.
    static func unsupported(_ node: ONNXNode, _ what: String, supported: String? = nil) -> ImportError {
        var message = "\(node.label): \(what)"
        if let supported { message += "; supported: \(supported)" }
        return ImportError(message)
    }
}
