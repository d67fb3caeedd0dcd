import IR

/// A command line parsed against a command's declaration: every option known and its value
/// checked, the positionals counted, the rules applied. Read with the declared handles:
/// `args[TrainOptions.epochs]` is an `Int`, the default when not given.
struct ParsedArguments: Sendable {
    var positionals: [String] = []
    /// Converted values by declared name (not by the alias the user typed).
    private var values: [String: any Sendable] = [:]

    /// Parses `args` (the words after the command name) for `command`.
    init(_ args: [String], for command: Command) throws(UsageError) {
        var bySpelling: [String: OptionSpec] = [:]
        for spec in command.options { for spelling in spec.spellings { bySpelling[spelling] = spec } }
        var i = 0
        var onlyPositionals = false
        while i < args.count {
            let arg = args[i]
            i += 1
            if onlyPositionals || !Self.looksLikeOption(arg) {
                positionals.append(arg)
                continue
            }
            if arg == "--" {
                onlyPositionals = true
                continue
            }
            var name = arg
            var inline: String?
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
                name = String(arg[..<eq])
                inline = String(arg[arg.index(after: eq)...])
            }
            guard let spec = bySpelling[name] else {
                var message = "unknown option '\(name)'"
                if let guess = Spelling.closest(to: name, in: bySpelling.keys) { message += "; did you mean '\(guess)'?" }
                throw UsageError(message: message)
            }
            let text: String
            if spec.isSwitch {
                guard inline == nil else { throw UsageError(message: "option '\(name)' takes no value") }
                text = ""
            } else if let inline {
                text = inline
            } else {
                guard i < args.count, !(args[i].hasPrefix("--") && args[i].count > 2) else {
                    throw UsageError(message: "option '\(name)' needs a value (\(spec.placeholder ?? ""))")
                }
                text = args[i]
                i += 1
            }
            guard values[spec.name] == nil else { throw UsageError(message: "option '\(name)' given twice") }
            guard let value = spec.convert(text) else {
                throw UsageError(message: "option '\(name)' expects \(spec.expected), found '\(text)'")
            }
            values[spec.name] = value
        }
        // An option that does its job alone (`--list-passes`) needs no FILE or required option.
        if command.options.contains(where: { $0.standalone && values[$0.name] != nil }) {
            for rule in command.rules { try rule.check(self) }
            return
        }
        try command.positionals.check(positionals)
        for spec in command.options where spec.required && values[spec.name] == nil {
            throw UsageError(message: "missing \(spec.synopsis)")
        }
        for rule in command.rules { try rule.check(self) }
    }

    /// `-o`, `--json`; not `-`, `-0.5` or a plain word.
    static func looksLikeOption(_ arg: String) -> Bool {
        arg.hasPrefix("-") && arg.count > 1 && Double(arg) == nil
    }

    /// The option's value, or its default when not given.
    subscript<Value>(_ option: Option<Value>) -> Value {
        guard let stored = values[option.name] else { return option.fallback }
        return (stored as? Value) ?? option.fallback
    }

    /// Whether the option was given (under any of its spellings), whatever its value type.
    func has(_ option: any DeclaredOption) -> Bool { values[option.spec.name] != nil }

    /// The one positional of a `.one` command (the parser has checked there is one).
    var file: String { positionals.first ?? "" }
}
