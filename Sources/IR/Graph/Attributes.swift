/// A value written after `key=` in a node.
public enum AttributeValue: Equatable, Sendable, CustomStringConvertible {
    case int(Int)
    case float(Double)
    case bool(Bool)
    case ints([Int])

    /// The canonical spelling: shortest round-trip floats, `[a, b]` lists.
    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .float(let v): return Attributes.format(v)
        case .bool(let v): return v ? "true" : "false"
        case .ints(let v): return "[" + v.map(String.init).joined(separator: ", ") + "]"
        }
    }

    var kindName: String {
        switch self {
        case .int: return "an integer"
        case .float: return "a float"
        case .bool: return "a boolean"
        case .ints: return "a list"
        }
    }
}

/// A node's keyword attributes. Values are checked against the op's schema by the verifier, so
/// the typed accessors below fall back to the schema default instead of trapping.
public struct Attributes: Equatable, Sendable {
    public private(set) var values: [String: AttributeValue] = [:]

    public init(_ values: [String: AttributeValue] = [:]) {
        self.values = values
    }

    public subscript(key: String) -> AttributeValue? {
        get { values[key] }
        set { values[key] = newValue }
    }

    public func int(_ key: String, default fallback: Int = 0) -> Int {
        if case .int(let v)? = values[key] { return v }
        return fallback
    }

    public func bool(_ key: String, default fallback: Bool = false) -> Bool {
        if case .bool(let v)? = values[key] { return v }
        return fallback
    }

    public func float(_ key: String, default fallback: Double = 0) -> Double {
        switch values[key] {
        case .float(let v)?: return v
        case .int(let v)?: return Double(v)
        default: return fallback
        }
    }

    /// A `[h, w]` pair written either as one integer or as a two-element list.
    public func pair(_ key: String, default fallback: Int = 0) -> (Int, Int) {
        switch values[key] {
        case .int(let v)?: return (v, v)
        case .ints(let v)? where v.count == 2: return (v[0], v[1])
        default: return (fallback, fallback)
        }
    }

    /// Floats print in Swift's shortest round-trip form (`1e-05`, `0.001`, `2.0`), so they read
    /// back to the same Double and print the same way again.
    static func format(_ v: Double) -> String { "\(v)" }
}
