/// Why a weights, input or label file could not be read or does not fit the network.
///
/// Every case names the file (as the user gave it) so that `description` can be printed as is,
/// like a compiler diagnostic: `weights.safetensors: tensor 'fc.weight' has shape [10,32], expected [10,64]`.
public enum FormatError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened, read or written.
    case io(file: String, reason: String)
    /// The file ends before a fixed-size part of its layout (`what`) is complete.
    case truncated(file: String, what: String, needed: Int, available: Int)
    /// Not a file of the expected kind (wrong magic bytes).
    case badMagic(file: String, expected: String)
    /// A format version this reader does not know.
    case unsupportedVersion(file: String, version: String)
    /// The header's declared length runs past the end of the file.
    case headerOutOfBounds(file: String, headerLength: UInt64, available: Int)
    /// The header (JSON or Python literal) is not well formed or lacks a required field.
    case malformedHeader(file: String, reason: String)
    /// A tensor's header entry is well-formed JSON but not a valid entry.
    case invalidEntry(file: String, tensor: String, reason: String)
    /// A dtype this reader cannot convert to float32; `tensor` is nil for single-array files.
    case unsupportedDType(file: String, tensor: String?, dtype: String, supported: [String])
    /// A big-endian array (numpy `>` byte order).
    case bigEndian(file: String, descr: String)
    /// A numpy array stored in column-major order.
    case fortranOrder(file: String)
    /// A negative dimension or a shape whose element count overflows.
    case invalidShape(file: String, tensor: String?, shape: String, reason: String)
    /// A tensor's data range is reversed or runs past the end of the data buffer.
    case dataOutOfBounds(file: String, tensor: String, begin: UInt64, end: UInt64, available: Int)
    /// Two tensors' data ranges overlap (the format requires disjoint ranges).
    case overlappingData(file: String, tensor: String, begin: Int, end: Int, other: String, otherBegin: Int, otherEnd: Int)
    /// The data size does not match the shape and dtype.
    case byteCountMismatch(file: String, tensor: String?, shape: [Int], dtype: String, expected: Int, found: Int)
    /// A tensor the network needs is not in the file.
    case missingTensor(file: String, tensor: String)
    /// A tensor has a different shape from the one the network needs.
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    /// An array has the wrong element type for its use (e.g. float labels).
    case dtypeMismatch(file: String, what: String, expected: String, found: String)
    /// Images whose shape fits neither accepted layout for the network's input.
    case imageShape(file: String, sample: [Int], found: [Int], dtype: String)
    /// Mean/std that do not fit the input channels, or a std that would divide by zero.
    case badNormalization(file: String, reason: String)
    /// A class label outside `0..<classes`.
    case labelOutOfRange(file: String, index: Int, label: Int64, classes: Int)

    public var description: String {
        switch self {
        case let .io(file, reason):
            return "\(file): error: \(reason)"
        case let .truncated(file, what, needed, available):
            return "\(file): error: file is truncated: \(what) needs \(needed) bytes, only \(available) available"
        case let .badMagic(file, expected):
            return "\(file): error: not a \(expected) file (bad magic bytes)"
        case let .unsupportedVersion(file, version):
            return "\(file): error: unsupported format version \(version)"
        case let .headerOutOfBounds(file, length, available):
            return "\(file): error: header length \(length) exceeds the \(available) bytes after the length field"
        case let .malformedHeader(file, reason):
            return "\(file): error: malformed header: \(reason)"
        case let .invalidEntry(file, tensor, reason):
            return "\(file): error: tensor '\(tensor)': \(reason)"
        case let .unsupportedDType(file, tensor, dtype, supported):
            let list = supported.joined(separator: ", ")
            return "\(file): error: \(subject(tensor)) has unsupported dtype \(dtype) (supported: \(list))"
        case let .bigEndian(file, descr):
            return "\(file): error: big-endian data ('\(descr)') not supported; save a little-endian array (arr.astype(arr.dtype.newbyteorder('<')))"
        case let .fortranOrder(file):
            return "\(file): error: Fortran order not supported; save with np.ascontiguousarray"
        case let .invalidShape(file, tensor, shape, reason):
            return "\(file): error: \(subject(tensor)) has invalid shape \(shape): \(reason)"
        case let .dataOutOfBounds(file, tensor, begin, end, available):
            return "\(file): error: tensor '\(tensor)' has data_offsets [\(begin),\(end)] outside the \(available)-byte data buffer"
        case let .overlappingData(file, tensor, begin, end, other, otherBegin, otherEnd):
            return "\(file): error: tensor '\(tensor)' has data_offsets [\(begin),\(end)] overlapping tensor '\(other)' at [\(otherBegin),\(otherEnd)]"
        case let .byteCountMismatch(file, tensor, shape, dtype, expected, found):
            return "\(file): error: \(subject(tensor)) of shape \(Tensor.describe(shape)) and dtype \(dtype) needs \(expected) bytes, found \(found)"
        case let .missingTensor(file, tensor):
            return "\(file): error: no tensor '\(tensor)'"
        case let .shapeMismatch(file, tensor, expected, found):
            return "\(file): error: tensor '\(tensor)' has shape \(Tensor.describe(found)), expected \(Tensor.describe(expected))"
        case let .dtypeMismatch(file, what, expected, found):
            return "\(file): error: \(what) have dtype \(found), expected \(expected)"
        case let .imageShape(file, sample, found, dtype):
            // The accepted layouts, with N for the batch axis.
            func batch(_ dims: [Int]) -> String { "[" + (["N"] + dims.map(String.init)).joined(separator: ",") + "]" }
            var layouts: [String] = []
            if sample.count == 3 { layouts.append("\(batch([sample[1], sample[2], sample[0]])) (uint8)") }
            layouts.append("\(batch(sample)) (float32)")
            let expected = layouts.joined(separator: " or ")
            return "\(file): error: images have shape \(Tensor.describe(found)) (\(dtype)), expected \(expected) for input \(Tensor.describe([1] + sample))"
        case let .badNormalization(file, reason):
            return "\(file): error: \(reason)"
        case let .labelOutOfRange(file, index, label, classes):
            return "\(file): error: label \(label) at index \(index) is outside 0..<\(classes)"
        }
    }

    /// "tensor 'x'" in multi-tensor files, "array" in single-array files.
    private func subject(_ tensor: String?) -> String {
        tensor.map { "tensor '\($0)'" } ?? "array"
    }
}
