/// Splits one line of `.eeir` into tokens. Lines are independent, so an error costs one line,
/// never the rest of the file.
struct Token: Equatable {
    enum Kind: Equatable {
        case name(String)
        case int(Int)
        case float(Double)
        case punct(UInt8)
    }

    var kind: Kind
    var offset: Int
}

struct LexedLine {
    var tokens: [Token] = []
    /// The text of a comment that is the whole line (after the `#`).
    var fullLineComment: String?
    /// The first lexical error of the line (the rest of the line is not tokenized).
    var error: (message: String, offset: Int)?
}

enum Lexer {
    static let maxNameLength = 1024

    static func lex(_ bytes: [UInt8], from start: Int, to end: Int) -> LexedLine {
        var line = LexedLine()
        var i = start
        while i < end {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                i += 1
            case UInt8(ascii: "#"):
                if line.tokens.isEmpty {
                    var text = String(decoding: bytes[(i + 1)..<end], as: UTF8.self)
                    while text.last == "\r" || text.last == " " || text.last == "\t" { text.removeLast() }
                    line.fullLineComment = text
                }
                return line
            case _ where isNameStart(b):
                let begin = i
                i += 1
                while i < end {
                    if isNameByte(bytes[i]) {
                        i += 1
                    } else if bytes[i] == UInt8(ascii: "."), i + 1 < end, isNameByte(bytes[i + 1]) {
                        i += 2
                    } else {
                        break
                    }
                }
                guard i - begin <= maxNameLength else {
                    line.error = ("name is longer than \(maxNameLength) characters", begin)
                    return line
                }
                line.tokens.append(Token(kind: .name(String(decoding: bytes[begin..<i], as: UTF8.self)), offset: begin))
            case _ where isDigit(b) || (b == UInt8(ascii: "-") && i + 1 < end && isDigit(bytes[i + 1])):
                let begin = i
                switch lexNumber(bytes, &i, end) {
                case .success(let kind): line.tokens.append(Token(kind: kind, offset: begin))
                case .failure(let error):
                    line.error = (error.message, begin)
                    return line
                }
            case UInt8(ascii: "="), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ","),
                 UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: ":"):
                line.tokens.append(Token(kind: .punct(b), offset: i))
                i += 1
            default:
                if b >= 0x80 {
                    line.error = ("non-ASCII byte \(hex(b)) (only comments may hold non-ASCII text)", i)
                } else if b < 0x20 || b == 0x7F {
                    line.error = ("unexpected control character \(hex(b))", i)
                } else {
                    line.error = ("unexpected character '\(Character(UnicodeScalar(b)))'", i)
                }
                return line
            }
        }
        return line
    }

    private struct NumberError: Error { var message: String }

    /// `-?[0-9]+` is an integer; a fraction or an exponent makes it a float.
    private static func lexNumber(_ bytes: [UInt8], _ i: inout Int, _ end: Int) -> Result<Token.Kind, NumberError> {
        let begin = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        while i < end, isDigit(bytes[i]) { i += 1 }
        var isFloat = false
        if i + 1 < end, bytes[i] == UInt8(ascii: "."), isDigit(bytes[i + 1]) {
            isFloat = true
            i += 1
            while i < end, isDigit(bytes[i]) { i += 1 }
        }
        if i < end, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            var j = i + 1
            if j < end, bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-") { j += 1 }
            if j < end, isDigit(bytes[j]) {
                isFloat = true
                i = j
                while i < end, isDigit(bytes[i]) { i += 1 }
            }
        }
        if i < end, isNameByte(bytes[i]) || bytes[i] == UInt8(ascii: ".") {
            var j = i
            while j < end, isNameByte(bytes[j]) || bytes[j] == UInt8(ascii: ".") { j += 1 }
            let text = String(decoding: bytes[begin..<j], as: UTF8.self)
            return .failure(NumberError(message: "malformed number '\(text.prefix(40))\(text.count > 40 ? "..." : "")'"))
        }
        let text = String(decoding: bytes[begin..<i], as: UTF8.self)
        if isFloat {
            guard let value = Double(text), value.isFinite else {
                return .failure(NumberError(message: "float literal '\(text.prefix(40))\(text.count > 40 ? "..." : "")' is out of range"))
            }
            return .success(.float(value))
        }
        guard let value = Int(text) else {
            return .failure(NumberError(message: "integer literal '\(text.prefix(40))\(text.count > 40 ? "..." : "")' is too large"))
        }
        return .success(.int(value))
    }

    /// `0x01`, `0xFF`: a byte as written in a diagnostic.
    static func hex(_ b: UInt8) -> String {
        let digits = String(b, radix: 16, uppercase: true)
        return "0x" + (digits.count < 2 ? "0" : "") + digits
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    static func isNameStart(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || b == UInt8(ascii: "_")
    }

    static func isNameByte(_ b: UInt8) -> Bool { isNameStart(b) || isDigit(b) }
}
