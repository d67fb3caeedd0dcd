/// A minimal JSON reader for file headers (safetensors).
///
/// Written by hand rather than using JSONSerialization so that every input, however hostile, ends in a
/// value or a positioned error: numbers keep their text (offsets are u64, beyond Double's exact range),
/// duplicate keys are rejected instead of silently overwritten, and nesting depth is bounded.
enum HeaderJSON {
    case object([(key: String, value: HeaderJSON)])
    case array([HeaderJSON])
    case string(String)
    /// The number's source text, e.g. `-12`, `3.5e2`.
    case number(String)
    case bool(Bool)
    case null

    /// A short name for messages ("expected an array, found a string").
    var kind: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }

    /// The value as an unsigned integer, if it is written as one (no sign, fraction or exponent) and fits.
    var unsignedInteger: UInt64? {
        guard case let .number(text) = self, !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { return nil }
        return UInt64(text)
    }

    /// Parses one JSON value followed only by whitespace.
    static func parse(_ bytes: ArraySlice<UInt8>) throws(HeaderJSONError) -> HeaderJSON {
        var parser = JSONTextParser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.endIndex else { throw parser.error("unexpected text after the JSON value") }
        return value
    }
}

struct HeaderJSONError: Error, Equatable {
    /// Offset from the start of the JSON text.
    var offset: Int
    var reason: String
}

private struct JSONTextParser {
    let bytes: ArraySlice<UInt8>
    var index: Int
    /// Headers nest three levels deep; anything much deeper is an attack on the stack.
    static let maxDepth = 32

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    func error(_ reason: String) -> HeaderJSONError {
        HeaderJSONError(offset: index - bytes.startIndex, reason: reason)
    }

    var peek: UInt8? { index < bytes.endIndex ? bytes[index] : nil }

    mutating func skipWhitespace() {
        while let b = peek, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { index += 1 }
    }

    mutating func expect(_ literal: String, _ value: HeaderJSON) throws(HeaderJSONError) -> HeaderJSON {
        for b in literal.utf8 {
            guard peek == b else { throw error("invalid literal, expected '\(literal)'") }
            index += 1
        }
        return value
    }

    mutating func value(depth: Int) throws(HeaderJSONError) -> HeaderJSON {
        guard depth < JSONTextParser.maxDepth else { throw error("nesting deeper than \(JSONTextParser.maxDepth) levels") }
        skipWhitespace()
        guard let b = peek else { throw error("unexpected end of JSON") }
        switch b {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character '\(UnicodeScalar(b))'")
        }
    }

    mutating func object(depth: Int) throws(HeaderJSONError) -> HeaderJSON {
        index += 1  // {
        var members: [(key: String, value: HeaderJSON)] = []
        var seen: Set<String> = []
        skipWhitespace()
        if peek == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyStart = self
            let key = try string()
            guard seen.insert(key).inserted else { throw keyStart.error("duplicate key \"\(key)\"") }
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(key)\"") }
            index += 1
            members.append((key, try value(depth: depth + 1)))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(members)
            default: throw error("expected ',' or '}' in object")
            }
        }
    }

    mutating func array(depth: Int) throws(HeaderJSONError) -> HeaderJSON {
        index += 1  // [
        var elements: [HeaderJSON] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") { index += 1; return .array(elements) }
        while true {
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(elements)
            default: throw error("expected ',' or ']' in array")
            }
        }
    }

    /// Checks the number grammar and keeps the text; interpretation is the caller's business.
    mutating func number() throws(HeaderJSONError) -> HeaderJSON {
        let start = index
        func digits(_ p: inout JSONTextParser) -> Int {
            let s = p.index
            while let b = p.peek, b >= 0x30 && b <= 0x39 { p.index += 1 }
            return p.index - s
        }
        if peek == UInt8(ascii: "-") { index += 1 }
        let intStart = index
        guard digits(&self) > 0 else { throw error("expected digits in number") }
        if bytes[intStart] == UInt8(ascii: "0") && index - intStart > 1 { throw error("leading zero in number") }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw error("expected digits after '.'") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw error("expected digits in exponent") }
        }
        return .number(String(decoding: bytes[start..<index], as: UTF8.self))
    }

    mutating func string() throws(HeaderJSONError) -> String {
        index += 1  // opening quote
        var utf8: [UInt8] = []
        while true {
            guard let b = peek else { throw error("unterminated string") }
            index += 1
            switch b {
            case UInt8(ascii: "\""):
                guard let s = String(validating: utf8, as: UTF8.self) else { throw error("string is not valid UTF-8") }
                return s
            case UInt8(ascii: "\\"):
                try escape(into: &utf8)
            case 0..<0x20:
                throw error("control character in string")
            default:
                utf8.append(b)
            }
        }
    }

    mutating func escape(into utf8: inout [UInt8]) throws(HeaderJSONError) {
        guard let e = peek else { throw error("unterminated escape") }
        index += 1
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F, UInt8(ascii: "b"): 0x08,
            UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
        ]
        if let c = simple[e] { utf8.append(c); return }
        guard e == UInt8(ascii: "u") else { throw error("invalid escape '\\\(UnicodeScalar(e))'") }
        var code = UInt32(try hex4())
        if (0xD800..<0xDC00).contains(code) {
            // A high surrogate must be followed by an escaped low surrogate.
            guard peek == UInt8(ascii: "\\") else { throw error("unpaired surrogate in \\u escape") }
            index += 1
            guard peek == UInt8(ascii: "u") else { throw error("unpaired surrogate in \\u escape") }
            index += 1
            let low = UInt32(try hex4())
            guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in \\u escape") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
        utf8.append(contentsOf: scalar.utf8)
    }

    mutating func hex4() throws(HeaderJSONError) -> UInt16 {
        var v: UInt16 = 0
        for _ in 0..<4 {
            guard let b = peek, let d = hexValue(b) else { throw error("expected 4 hex digits in \\u escape") }
            v = v << 4 | UInt16(d)
            index += 1
        }
        return v
    }

    func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }
}

/// JSON text for a string, escaping only what JSON requires (non-ASCII stays UTF-8, like the reference writer).
func jsonQuoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
