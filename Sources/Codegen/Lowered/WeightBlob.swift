/// Every weight the generated code reads, in one float array: each tensor starts at a multiple of
/// 16 floats (64 bytes, a cache line), and is named for the comments of the weights file.
public struct WeightBlob: Sendable {
    /// One tensor in the blob: `node.tensor`, its layout in words, and where it lies (in floats).
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var layout: String
        public var offset: Int
        public var count: Int
    }

    public private(set) var values: [Float] = []
    public private(set) var entries: [Entry] = []
    /// An int8 network's weights: int8 values, each tensor at a multiple of 64 bytes; entries
    /// then count bytes. A blob holds floats or int8, never both.
    public private(set) var bytes: [Int8] = []
    public var isInt8: Bool { !bytes.isEmpty }

    static let alignment = 16

    /// Appends a tensor and returns its offset, in floats.
    mutating func add(_ name: String, layout: String, _ data: [Float]) -> Int {
        while values.count % Self.alignment != 0 { values.append(0) }
        let offset = values.count
        values += data
        entries.append(Entry(name: name, layout: layout, offset: offset, count: data.count))
        return offset
    }

    /// Appends an int8 tensor and returns its offset, in bytes.
    mutating func add(_ name: String, layout: String, int8 data: [Int8]) -> Int {
        while bytes.count % (4 * Self.alignment) != 0 { bytes.append(0) }
        let offset = bytes.count
        bytes += data
        entries.append(Entry(name: name, layout: layout, offset: offset, count: data.count))
        return offset
    }

    /// The blob padded to a whole number of alignment units (so its size is a multiple of 64 bytes).
    mutating func finish() {
        while values.count % Self.alignment != 0 { values.append(0) }
        while bytes.count % (4 * Self.alignment) != 0 { bytes.append(0) }
    }
}
