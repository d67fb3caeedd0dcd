/// Reads `.eeir` text into a `Graph`, one line at a time.
///
/// A line with a syntax error is reported and skipped; the names it would have defined are
/// remembered as `poisoned`, so the verifier does not report every later use as unknown.
public struct ParseResult: Sendable {
    /// The graph as far as it could be read: missing `model`/`input`/`output` are empty names.
    public var graph: Graph
    public var poisoned: Set<String>
    public var diagnostics: DiagnosticList
    /// Where each statement keyword was written (for "missing"/"duplicate" errors).
    public var modelLocation: SourceLocation?
}

public enum Parser {
    public static func parse(_ source: SourceFile, errorLimit: Int = DiagnosticList.defaultLimit) -> ParseResult {
        var state = ParserState(source: source, diagnostics: DiagnosticList(limit: errorLimit))
        for lineNumber in 1...source.lineStarts.count {
            let start = source.lineStarts[lineNumber - 1]
            let end = lineNumber < source.lineStarts.count ? source.lineStarts[lineNumber] - 1 : source.bytes.count
            // "found end of line" points just after the text, before a CRLF file's '\r'.
            let textEnd = end > start && source.bytes[end - 1] == UInt8(ascii: "\r") ? end - 1 : end
            state.parseLine(Lexer.lex(source.bytes, from: start, to: end), lineEnd: textEnd)
        }
        return state.finish()
    }
}

private struct SyntaxError: Error {
    var message: String
    var offset: Int
}

private struct ParserState {
    let source: SourceFile
    var diagnostics: DiagnosticList
    var model: String?
    var headerComments: [String] = []
    var modelLocation: SourceLocation?
    var input: Input?
    var nodes: [Node] = []
    var exits: [Exit] = []
    var segments: [Segment] = []
    var output: Output?
    var poisoned: Set<String> = []
    /// Statement keywords seen, even on lines with errors: a malformed `input` line is reported
    /// once, not a second time as a missing `input` statement.
    var keywordsSeen: Set<String> = []
    var pending = Trivia()
    var sawBlank = false

    init(source: SourceFile, diagnostics: DiagnosticList) {
        self.source = source
        self.diagnostics = diagnostics
    }

    mutating func parseLine(_ line: LexedLine, lineEnd: Int) {
        if let comment = line.fullLineComment {
            pending.comments.append(comment)
            return
        }
        if line.tokens.isEmpty && line.error == nil {
            // A blank line separates groups; it is kept (once) only between statements.
            if pending.comments.isEmpty { sawBlank = true } else { pending.comments.append("") }
            return
        }
        var trivia = pending
        trivia.blankLineBefore = sawBlank && (model != nil || input != nil || !nodes.isEmpty)
        // A blank line inside a comment block stays inside it; a trailing one is dropped.
        while trivia.comments.last == "" { trivia.comments.removeLast() }
        pending = Trivia()
        sawBlank = false

        var cursor = TokenCursor(tokens: line.tokens, lineEnd: lineEnd)
        do {
            try parseStatement(&cursor, trivia: trivia)
        } catch {
            // A lexical error truncates the tokens, so it is the real cause of a parse failure.
            let cause = line.error ?? (error.message, error.offset)
            report(cause.message, at: cause.offset)
            if let name = cursor.definedName { poisoned.insert(name) }
            return
        }
        if let error = line.error {
            report(error.message, at: error.offset)
            if let name = cursor.definedName { poisoned.insert(name) }
        }
    }

    mutating func report(_ message: String, at offset: Int) {
        diagnostics.error(message, at: source.location(of: offset))
    }

    func location(_ offset: Int) -> SourceLocation { source.location(of: offset) }

    mutating func parseStatement(_ c: inout TokenCursor, trivia: Trivia) throws(SyntaxError) {
        let first = try c.name("a statement")
        if c.peekPunct(UInt8(ascii: "=")) {
            c.definedName = first.name
            try parseNode(&c, name: first, trivia: trivia)
            return
        }
        keywordsSeen.insert(first.name)
        switch first.name {
        case "model":
            let name = try c.name("a model name after 'model'")
            try c.end()
            if model != nil {
                throw SyntaxError(message: "duplicate 'model' statement", offset: first.offset)
            }
            // Out of order, but kept: the rest of the file still reads normally.
            if input != nil || !nodes.isEmpty || !exits.isEmpty || output != nil {
                report("'model' must be the first statement", at: first.offset)
            }
            model = name.name
            headerComments = trivia.comments
            modelLocation = location(first.offset)
        case "input":
            let name = try c.name("an input name after 'input'")
            c.definedName = name.name
            try c.punct(":", "after the input name")
            let type = try c.name("a tensor type such as f32[1,3,32,32]")
            guard type.name == "f32" else {
                throw SyntaxError(message: "unsupported element type '\(type.name)'; only f32 is supported", offset: type.offset)
            }
            let dims = try c.intList("the input shape")
            try c.end()
            guard dims.values.count >= 2, dims.values[0] == 1 else {
                throw SyntaxError(message: "input shape must be [1, C, ...] (batch 1; a batch is run sample by sample), found \(Tensor.describe(dims.values))", offset: dims.offset)
            }
            if let bad = dims.values.firstIndex(where: { $0 < 1 || $0 > ShapeRules.maxElements }) {
                throw SyntaxError(message: "input dimension \(dims.values[bad]) is out of range", offset: dims.offset)
            }
            guard elementCount(dims.values) <= ShapeRules.maxElements else {
                throw SyntaxError(message: "input shape \(Tensor.describe(dims.values)) is too large (more than 2^31 elements)", offset: dims.offset)
            }
            if input != nil {
                throw SyntaxError(message: "duplicate 'input' statement (a network has one input)", offset: first.offset)
            }
            guard output == nil else { throw SyntaxError(message: "'input' after 'output'", offset: first.offset) }
            if !nodes.isEmpty || !exits.isEmpty {
                report("'input' must come before the nodes and exits (right after 'model')", at: first.offset)
            }
            input = Input(name: name.name, shape: dims.values, trivia: trivia, location: location(name.offset))
        case "exit":
            let (name, fields) = try parseFields(&c, statement: "exit", keys: ["classifier", "confidence"])
            guard output == nil else { throw SyntaxError(message: "'exit' after 'output'", offset: first.offset) }
            exits.append(Exit(name: name.name, classifier: fields[0].name, confidence: fields[1].name,
                              trivia: trivia, location: location(name.offset),
                              operandLocations: [location(fields[0].offset), location(fields[1].offset)]))
        case "segment":
            let (name, fields) = try parseFields(&c, statement: "segment", keys: ["input", "output"])
            guard output == nil else { throw SyntaxError(message: "'segment' after 'output'", offset: first.offset) }
            segments.append(Segment(name: name.name, input: fields[0].name, output: fields[1].name,
                                    trivia: trivia, location: location(name.offset)))
        case "output":
            let name = try c.name("the output name after 'output'")
            try c.end()
            if output != nil {
                throw SyntaxError(message: "duplicate 'output' statement (the final exit is the one output)", offset: first.offset)
            }
            output = Output(name: name.name, trivia: trivia, location: location(name.offset))
        default:
            throw SyntaxError(message: "expected '=' after '\(first.name.prefix(60))', or a statement keyword (model, input, exit, segment, output)", offset: c.offset)
        }
    }

    /// `NAME(key=name, key=name)` with exactly `keys`, in any order. Returns the names in `keys` order.
    func parseFields(_ c: inout TokenCursor, statement: String, keys: [String]) throws(SyntaxError)
        -> ((name: String, offset: Int), [(name: String, offset: Int)]) {
        let name = try c.name("a name after '\(statement)'")
        try c.punct("(", "after the \(statement) name")
        var operands: [String: (name: String, offset: Int)] = [:]
        let expected = keys.map { "'\($0)'" }.joined(separator: " or ")
        while true {
            let key = try c.name("\(expected)")
            guard keys.contains(key.name) else {
                throw SyntaxError(message: "unknown \(statement) field '\(key.name.prefix(60))'; expected \(expected)", offset: key.offset)
            }
            guard operands[key.name] == nil else {
                throw SyntaxError(message: "duplicate \(statement) field '\(key.name)'", offset: key.offset)
            }
            try c.punct("=", "after '\(key.name)'")
            operands[key.name] = try c.name("a node name")
            if c.peekPunct(UInt8(ascii: ")")) { break }
            try c.punct(",", "or ')' between \(statement) fields")
        }
        let close = try c.punct(")", "")
        try c.end()
        var values: [(name: String, offset: Int)] = []
        for key in keys {
            guard let value = operands[key] else {
                throw SyntaxError(message: "\(statement) '\(name.name.prefix(60))' needs a '\(key)=' field", offset: close)
            }
            values.append(value)
        }
        return (name, values)
    }

    mutating func parseNode(_ c: inout TokenCursor, name: (name: String, offset: Int), trivia: Trivia) throws(SyntaxError) {
        try c.punct("=", "")
        let opToken = try c.name("an op name")
        guard let op = OpKind(rawValue: opToken.name) else {
            var message = "unknown op '\(opToken.name.prefix(60))'"
            if let guess = Spelling.closest(to: opToken.name, in: OpKind.allCases.map(\.name)) {
                message += "; did you mean '\(guess)'?"
            }
            throw SyntaxError(message: message, offset: opToken.offset)
        }
        try c.punct("(", "after the op name")
        var inputs: [String] = []
        var inputLocations: [SourceLocation] = []
        var attributes = Attributes()
        var attributeLocations: [String: SourceLocation] = [:]
        if !c.peekPunct(UInt8(ascii: ")")) {
            while true {
                let arg = try c.name("an input name or an attribute")
                if c.peekPunct(UInt8(ascii: "=")) {
                    try c.punct("=", "")
                    guard attributes[arg.name] == nil else {
                        throw SyntaxError(message: "duplicate attribute '\(arg.name)'", offset: arg.offset)
                    }
                    attributes[arg.name] = try c.value()
                    attributeLocations[arg.name] = location(arg.offset)
                } else {
                    guard attributes.values.isEmpty else {
                        throw SyntaxError(message: "input '\(arg.name.prefix(60))' after keyword attributes; inputs come first", offset: arg.offset)
                    }
                    if c.peekValue() {
                        throw SyntaxError(message: "expected '=' after attribute name '\(arg.name.prefix(60))', found \(c.describeNext())", offset: c.offset)
                    }
                    inputs.append(arg.name)
                    inputLocations.append(location(arg.offset))
                }
                if c.peekPunct(UInt8(ascii: ")")) { break }
                try c.punct(",", "or ')' between arguments")
            }
        }
        let close = try c.punct(")", "")
        try c.end()
        guard output == nil else { throw SyntaxError(message: "node after 'output'; 'output' is the last statement", offset: name.offset) }
        let locations = NodeLocations(name: location(name.offset), op: location(opToken.offset), inputs: inputLocations,
                                      attributes: attributeLocations, closingParen: location(close))
        nodes.append(Node(name: name.name, op: op, inputs: inputs, attributes: attributes, trivia: trivia, locations: locations))
    }

    mutating func finish() -> ParseResult {
        let endLocation = source.location(of: source.bytes.count)
        if model == nil && !keywordsSeen.contains("model") { diagnostics.error("missing 'model NAME' statement", at: SourceLocation(line: 1, column: 1)) }
        if input == nil && !keywordsSeen.contains("input") { diagnostics.error("missing 'input NAME: f32[...]' statement", at: modelLocation ?? SourceLocation(line: 1, column: 1)) }
        if output == nil && !keywordsSeen.contains("output") { diagnostics.error("missing 'output NAME' statement at the end of the file", at: endLocation) }
        var trailing = pending.comments
        while trailing.last == "" { trailing.removeLast() }
        let graph = Graph(model: model ?? "", headerComments: headerComments, input: input ?? Input(name: "", shape: []), nodes: nodes, exits: exits,
                          segments: segments, output: output ?? Output(name: ""), trailingComments: trailing)
        return ParseResult(graph: graph, poisoned: poisoned, diagnostics: diagnostics, modelLocation: modelLocation)
    }
}

/// Walks the tokens of one line.
private struct TokenCursor {
    let tokens: [Token]
    let lineEnd: Int
    var index = 0
    /// The name a node or input statement defines, once it is known.
    var definedName: String?

    init(tokens: [Token], lineEnd: Int) {
        self.tokens = tokens
        self.lineEnd = lineEnd
    }

    var offset: Int { index < tokens.count ? tokens[index].offset : lineEnd }

    func describeNext() -> String {
        guard index < tokens.count else { return "end of line" }
        switch tokens[index].kind {
        case .name(let n): return "'\(n.prefix(60))'"
        case .int(let v): return "'\(v)'"
        case .float(let v): return "'\(v)'"
        case .punct(let p): return "'\(Character(UnicodeScalar(p)))'"
        }
    }

    mutating func name(_ what: String) throws(SyntaxError) -> (name: String, offset: Int) {
        if index < tokens.count, case .name(let n) = tokens[index].kind {
            index += 1
            return (n, tokens[index - 1].offset)
        }
        throw SyntaxError(message: "expected \(what), found \(describeNext())", offset: offset)
    }

    /// Whether the next token starts an attribute value that cannot be anything else.
    func peekValue() -> Bool {
        guard index < tokens.count else { return false }
        switch tokens[index].kind {
        case .int, .float, .punct(UInt8(ascii: "[")): return true
        default: return false
        }
    }

    func peekPunct(_ p: UInt8) -> Bool {
        index < tokens.count && tokens[index].kind == .punct(p)
    }

    @discardableResult
    mutating func punct(_ p: Character, _ context: String) throws(SyntaxError) -> Int {
        let byte = p.asciiValue ?? 0
        if peekPunct(byte) {
            index += 1
            return tokens[index - 1].offset
        }
        let suffix = context.isEmpty ? "" : " \(context)"
        throw SyntaxError(message: "expected '\(p)'\(suffix), found \(describeNext())", offset: offset)
    }

    mutating func end() throws(SyntaxError) {
        guard index == tokens.count else {
            throw SyntaxError(message: "unexpected \(describeNext()) at the end of the statement", offset: offset)
        }
    }

    mutating func intList(_ what: String) throws(SyntaxError) -> (values: [Int], offset: Int) {
        let open = try punct("[", "to start \(what)")
        var values: [Int] = []
        while true {
            guard index < tokens.count, case .int(let v) = tokens[index].kind else {
                throw SyntaxError(message: "expected an integer in \(what), found \(describeNext())", offset: offset)
            }
            values.append(v)
            index += 1
            if peekPunct(UInt8(ascii: "]")) { break }
            try punct(",", "or ']' in \(what)")
        }
        index += 1
        return (values, open)
    }

    mutating func value() throws(SyntaxError) -> AttributeValue {
        guard index < tokens.count else {
            throw SyntaxError(message: "expected an attribute value, found end of line", offset: offset)
        }
        switch tokens[index].kind {
        case .int(let v):
            index += 1
            return .int(v)
        case .float(let v):
            index += 1
            return .float(v)
        case .name("true"):
            index += 1
            return .bool(true)
        case .name("false"):
            index += 1
            return .bool(false)
        case .punct(UInt8(ascii: "[")):
            return .ints(try intList("the list").values)
        default:
            throw SyntaxError(message: "expected an attribute value (integer, float, true, false or [list]), found \(describeNext())", offset: offset)
        }
    }
}
