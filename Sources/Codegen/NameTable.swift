/// Hands out unique C identifiers: the first claim of a name gets it as it is (made a valid
/// identifier), later ones a numeric suffix.
struct NameTable {
    private var taken: Set<String>

    init(reserved: Set<String>) {
        taken = reserved
    }

    mutating func reserve(_ name: String) { taken.insert(name) }

    /// `prefix` followed by `name` made an identifier, with a suffix if that is taken.
    mutating func claim(_ name: String, prefix: String = "") -> String {
        let base = prefix + CNames.identifier(name)
        var candidate = base
        var n = 1
        while taken.contains(candidate) {
            n += 1
            candidate = "\(base)_\(n)"
        }
        taken.insert(candidate)
        return candidate
    }
}
