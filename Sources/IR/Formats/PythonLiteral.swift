/// The subset of Python literals that `.npy` headers use, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3000, 32, 32, 3), }`.
///
/// numpy reads headers with `ast.literal_eval`; this accepts the same shapes of text (either quote style,
/// trailing commas, Python 2 `L` suffixes) without evaluating anything, and bounds nesting depth.
enum PythonLiteral: Equatable {
    case dict([(key: PythonLiteral, value: PythonLiteral)])
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case string(String)
    /// Integers keep their text; the caller decides what range it accepts.
    case integer(String)
    case bool(Bool)
    case none

    static func == (a: PythonLiteral, b: PythonLiteral) -> Bool {
        switch (a, b) {
        case let (.dict(x), .dict(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.tuple(x), .tuple(y)), let (.list(x), .list(y)): return x == y
        case let (.string(x), .string(y)), let (.integer(x), .integer(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.none, .none): return true
        default: return false
        }
    }

    /// The value of `'key'` in a dict.
    subscript(key: String) -> PythonLiteral? {
        guard case let .dict(pairs) = self else { return nil }
        return pairs.first { $0.key == .string(key) }?.value
    }

    /// Python's repr-like rendering, for messages.
    var text: String {
        switch self {
        case let .dict(pairs): "{" + pairs.map { "\($0.key.text): \($0.value.text)" }.joined(separator: ", ") + "}"
        case let .tuple(items): "(" + items.map(\.text).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case let .list(items): "[" + items.map(\.text).joined(separator: ", ") + "]"
        case let .string(s): "'\(s)'"
        case let .integer(n): n
        case let .bool(b): b ? "True" : "False"
        case .none: "None"
        }
    }

    /// `text`, shortened for error messages so a hostile header cannot flood the terminal.
    var excerpt: String {
        let full = text
        return full.count <= 60 ? full : full.prefix(57) + "..."
    }

    static func parse(_ text: String) throws(PythonLiteralError) -> PythonLiteral {
        var parser = LiteralParser(scalars: Array(text.unicodeScalars))
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == parser.scalars.count else { throw parser.error("unexpected text after the literal") }
        return value
    }
}

struct PythonLiteralError: Error, Equatable {
    var offset: Int
    var reason: String
}

private struct LiteralParser {
    let scalars: [Unicode.Scalar]
    var index = 0
    static let maxDepth = 32

    func error(_ reason: String) -> PythonLiteralError { PythonLiteralError(offset: index, reason: reason) }

    var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    mutating func skipWhitespace() {
        while let c = peek, c == " " || c == "\t" || c == "\n" || c == "\r" { index += 1 }
    }

    mutating func value(depth: Int) throws(PythonLiteralError) -> PythonLiteral {
        guard depth < Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth) levels") }
        skipWhitespace()
        guard let c = peek else { throw error("unexpected end of header") }
        switch c {
        case "{": return try dict(depth: depth)
        case "(": return .tuple(try sequence(close: ")", depth: depth))
        case "[": return .list(try sequence(close: "]", depth: depth))
        case "'", "\"": return .string(try string())
        case "-", "+", "0"..."9": return try integer()
        default:
            var word = ""
            while let c = peek, c.properties.isAlphabetic || c == "_" { word.unicodeScalars.append(c); index += 1 }
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default: throw error(word.isEmpty ? "unexpected character '\(c)'" : "unexpected name '\(word)'")
            }
        }
    }

    /// Items separated by commas, with an optional trailing comma.
    mutating func sequence(close: Unicode.Scalar, depth: Int) throws(PythonLiteralError) -> [PythonLiteral] {
        index += 1
        var items: [PythonLiteral] = []
        while true {
            skipWhitespace()
            if peek == close { index += 1; return items }
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            if peek == "," { index += 1; continue }
            guard peek == close else { throw error("expected ',' or '\(close)'") }
        }
    }

    mutating func dict(depth: Int) throws(PythonLiteralError) -> PythonLiteral {
        index += 1
        var pairs: [(key: PythonLiteral, value: PythonLiteral)] = []
        var seen: Set<String> = []  // keys by their text: a linear scan would be quadratic on hostile headers
        while true {
            skipWhitespace()
            if peek == "}" { index += 1; return .dict(pairs) }
            let keyStart = self
            let key = try value(depth: depth + 1)
            guard seen.insert(key.text).inserted else { throw keyStart.error("duplicate key \(key.excerpt)") }
            skipWhitespace()
            guard peek == ":" else { throw error("expected ':' after key \(key.excerpt)") }
            index += 1
            pairs.append((key, try value(depth: depth + 1)))
            skipWhitespace()
            if peek == "," { index += 1; continue }
            guard peek == "}" else { throw error("expected ',' or '}'") }
        }
    }

    /// Decimal integers only (numpy writes nothing else); a trailing `L` is Python 2's long suffix.
    mutating func integer() throws(PythonLiteralError) -> PythonLiteral {
        var text = ""
        if let c = peek, c == "-" || c == "+" {
            if c == "-" { text = "-" }
            index += 1
        }
        while let c = peek, ("0"..."9").contains(c) { text.unicodeScalars.append(c); index += 1 }
        guard text.last?.isNumber == true else { throw error("expected digits") }
        if peek == "L" || peek == "l" { index += 1 }
        if let c = peek, c == "." || c == "e" || c == "E" || c == "j" { throw error("only integers are supported") }
        return .integer(text)
    }

    mutating func string() throws(PythonLiteralError) -> String {
        guard let quote = peek else { throw error("expected a string") }
        index += 1
        var s = ""
        while true {
            guard let c = peek, c != "\n" else { throw error("unterminated string") }
            index += 1
            if c == quote { return s }
            if c == "\\" {
                guard let e = peek else { throw error("unterminated string") }
                index += 1
                switch e {
                case "\\", "'", "\"": s.unicodeScalars.append(e)
                case "n": s += "\n"
                case "t": s += "\t"
                default: throw error("unsupported escape '\\\(e)' in string")
                }
            } else {
                s.unicodeScalars.append(c)
            }
        }
    }
}
