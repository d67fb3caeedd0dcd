/// One message about a source file, printed as a compiler prints it:
///
///     resnet.eeir:7:21: error: unknown name 'relu0'
///     layer1.0.conv1 = conv2d(relu0, out=16, kernel=3)
///                             ^
public struct Diagnostic: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        case error, warning, note
    }

    public var severity: Severity
    public var location: SourceLocation
    public var message: String

    public init(_ severity: Severity, at location: SourceLocation, _ message: String) {
        self.severity = severity
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(severity.rawValue): \(message)" }

    /// The full text: `file:line:col: severity: message`, the source line, and a caret under the column.
    public func rendered(in source: SourceFile) -> String {
        var text = "\(source.name):\(location.line):\(location.column): \(severity.rawValue): \(message)\n"
        let line = source.lineBytes(location.line)
        // Show the line as printable ASCII so a diagnostic about a bad byte stays readable;
        // long lines are cut so the caret stays on screen.
        let limit = 200
        var shown = ""
        var caretColumn = location.column
        var start = line.startIndex
        if caretColumn > limit {
            start = line.startIndex + (caretColumn - limit / 2 - 1)
            caretColumn = limit / 2 + 4
            shown = "..."
        }
        for b in line[start...].prefix(limit) {
            shown.append(b >= 0x20 && b < 0x7F ? Character(UnicodeScalar(b)) : (b == 9 ? " " : "?"))
        }
        if line.count - (start - line.startIndex) > limit { shown += "..." }
        text += shown + "\n"
        text += String(repeating: " ", count: max(0, caretColumn - 1)) + "^\n"
        return text
    }
}

/// Collects diagnostics up to a cap, as clang does (`-ferror-limit`): a file with a systematic
/// mistake should not print thousands of errors.
public struct DiagnosticList: Sendable {
    public static let defaultLimit = 20
    public private(set) var items: [Diagnostic] = []
    public private(set) var errorCount = 0
    public let limit: Int

    public init(limit: Int = DiagnosticList.defaultLimit) {
        self.limit = limit
    }

    public var hasErrors: Bool { errorCount > 0 }
    public var isFull: Bool { errorCount >= limit }

    public mutating func error(_ message: String, at location: SourceLocation) {
        errorCount += 1
        if errorCount <= limit { items.append(Diagnostic(.error, at: location, message)) }
    }

    public mutating func warning(_ message: String, at location: SourceLocation) {
        items.append(Diagnostic(.warning, at: location, message))
    }

    public mutating func note(_ message: String, at location: SourceLocation) {
        if errorCount <= limit { items.append(Diagnostic(.note, at: location, message)) }
    }

    /// Puts the diagnostics in source order, so that the parser's and the verifier's read top to
    /// bottom as one list. Stable, and a note stays right after the error it belongs to.
    public mutating func sortByLocation() {
        var groups: [[Diagnostic]] = []
        for item in items {
            if item.severity == .note, !groups.isEmpty { groups[groups.count - 1].append(item) } else { groups.append([item]) }
        }
        items = groups.enumerated()
            .sorted { ($0.element[0].location, $0.offset) < ($1.element[0].location, $1.offset) }
            .flatMap(\.element)
    }

    /// Everything rendered, with clang's closing line when the cap was hit.
    public func rendered(in source: SourceFile) -> String {
        var text = items.map { $0.rendered(in: source) }.joined()
        if errorCount > limit {
            text += "error: too many errors emitted (\(errorCount) in all), stopping now\n"
        }
        return text
    }
}
