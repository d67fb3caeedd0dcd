/// Builds C source a line at a time with four-space indentation, so every emitter writes code
/// that reads (and diffs) like hand-written C.
struct CWriter {
    private(set) var text = ""
    private var depth = 0

    /// One line at the current indentation; an empty string gives an empty line.
    mutating func line(_ s: String = "") {
        if !s.isEmpty { text += String(repeating: "    ", count: depth) + s }
        text += "\n"
    }

    /// `header {`, the body one level deeper, then `}` (plus `trailer`, e.g. `;`).
    mutating func block(_ header: String, trailer: String = "", _ body: (inout CWriter) -> Void) {
        line(header + " {")
        depth += 1
        body(&self)
        depth -= 1
        line("}" + trailer)
    }

    /// A function definition: the signature, then the body between braces on lines of their own.
    mutating func function(_ signature: String, _ body: (inout CWriter) -> Void) {
        line(signature)
        line("{")
        depth += 1
        body(&self)
        depth -= 1
        line("}")
    }

    /// `if (condition) { ... } else { ... }`.
    mutating func ifElse(_ condition: String, _ then: (inout CWriter) -> Void, else otherwise: (inout CWriter) -> Void) {
        line("if (\(condition)) {")
        depth += 1
        then(&self)
        depth -= 1
        line("} else {")
        depth += 1
        otherwise(&self)
        depth -= 1
        line("}")
    }

    /// A `/* ... */` comment; several lines become a block comment.
    mutating func comment(_ lines: [String]) {
        if lines.count == 1 {
            line("/* \(lines[0]) */")
            return
        }
        line("/* " + lines[0])
        for l in lines.dropFirst() { line(l.isEmpty ? " *" : " * " + l) }
        // (lines are never written with trailing blanks: generated files diff cleanly)
        line(" */")
    }

    mutating func comment(_ s: String) { comment([s]) }

    /// Statements joined on lines of at most `perLine` each (unrolled per-pixel code).
    mutating func statements(_ items: [String], perLine: Int) {
        var i = 0
        while i < items.count {
            line(items[i..<min(items.count, i + perLine)].joined(separator: " "))
            i += perLine
        }
    }
}

/// Integers written with thousands separators in comments (`2,375,680 MACs`).
func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return n < 0 ? "-" + out : out
}
