/// Typed access to a node's attributes. A wrong type is an error naming the node and attribute;
/// `checkAttributes` rejects any attribute the translation of an op does not read, so nothing a
/// model says is silently dropped.
extension ONNXNode {
    func checkAttributes(_ known: Set<String>) throws(ImportError) {
        for a in attributes where !known.contains(a.name) {
            let list = known.isEmpty ? "none" : known.sorted().joined(separator: ", ")
            throw ImportError.unsupported(self, "attribute '\(a.name)' is not supported for \(opType)", supported: list)
        }
        for a in attributes where !a.refAttrName.isEmpty {
            throw ImportError.unsupported(self, "attribute '\(a.name)' refers to a function attribute ('\(a.refAttrName)')")
        }
    }

    private func typed(_ name: String, _ kind: ONNXAttribute.Kind) throws(ImportError) -> ONNXAttribute? {
        guard let a = attribute(name) else { return nil }
        guard a.kind == kind else {
            throw ImportError.unsupported(self, "attribute '\(name)' has type \(a.kind.name), expected \(kind.name)")
        }
        return a
    }

    func int(_ name: String) throws(ImportError) -> Int64? { try typed(name, .int)?.i }

    func int(_ name: String, default fallback: Int64) throws(ImportError) -> Int64 { try int(name) ?? fallback }

    func ints(_ name: String) throws(ImportError) -> [Int64]? { try typed(name, .ints)?.ints }

    func float(_ name: String) throws(ImportError) -> Float? { try typed(name, .float)?.f }

    func string(_ name: String) throws(ImportError) -> String? { try typed(name, .string)?.string }

    func tensor(_ name: String) throws(ImportError) -> ONNXTensor? { try typed(name, .tensor)?.t }

    /// An INTS attribute converted to Int, each value checked to lie in `range`.
    func intList(_ name: String, in range: ClosedRange<Int64> = -(1 << 40)...(1 << 40)) throws(ImportError) -> [Int]? {
        guard let values = try ints(name) else { return nil }
        for v in values where !range.contains(v) {
            throw ImportError.unsupported(self, "attribute '\(name)' holds \(v), outside \(range.lowerBound)...\(range.upperBound)")
        }
        return values.map { Int($0) }
    }
}
