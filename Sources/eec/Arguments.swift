import Foundation

/// Hand-parsed command-line arguments: `--flag`, `--option value` or `--option=value`, positionals.
struct Arguments {
    var positionals: [String] = []
    var options: [String: String] = [:]
    var flags: Set<String> = []

    /// Bad usage: printed with the command's usage line, exit status 2.
    struct UsageError: Error {
        var message: String
    }

    /// `valued` lists the options that take a value; `switches` the ones that do not.
    init(_ args: [String], valued: Set<String>, switches: Set<String>) throws(UsageError) {
        var i = 0
        while i < args.count {
            let arg = args[i]
            i += 1
            guard arg.hasPrefix("--"), arg.count > 2 else {
                if arg == "-o" && valued.contains("-o") {
                    guard i < args.count else { throw UsageError(message: "option '-o' needs a value") }
                    guard options["-o"] == nil else { throw UsageError(message: "option '-o' given twice") }
                    options["-o"] = args[i]
                    i += 1
                } else if arg.hasPrefix("-") && arg.count > 1 && Double(arg) == nil {
                    throw UsageError(message: "unknown option '\(arg)'")
                } else {
                    positionals.append(arg)
                }
                continue
            }
            var name = arg
            var inlineValue: String?
            if let eq = arg.firstIndex(of: "=") {
                name = String(arg[..<eq])
                inlineValue = String(arg[arg.index(after: eq)...])
            }
            if switches.contains(name) {
                guard inlineValue == nil else { throw UsageError(message: "option '\(name)' takes no value") }
                flags.insert(name)
            } else if valued.contains(name) {
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else {
                    guard i < args.count, !(args[i].hasPrefix("--") && args[i].count > 2) else {
                        throw UsageError(message: "option '\(name)' needs a value")
                    }
                    value = args[i]
                    i += 1
                }
                guard options[name] == nil else { throw UsageError(message: "option '\(name)' given twice") }
                options[name] = value
            } else {
                throw UsageError(message: "unknown option '\(name)'")
            }
        }
    }

    /// The single positional FILE argument.
    func file() throws(UsageError) -> String {
        guard positionals.count == 1 else {
            throw UsageError(message: positionals.isEmpty ? "missing FILE argument" : "expected one FILE, found \(positionals.count) arguments")
        }
        return positionals[0]
    }

    /// A comma-separated list of numbers (`--mean 0.485,0.456,0.406`).
    func floats(_ name: String) throws(UsageError) -> [Float]? {
        guard let text = options[name] else { return nil }
        var values: [Float] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let v = Float(part.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                throw UsageError(message: "option '\(name)' expects comma-separated numbers, found '\(text)'")
            }
            values.append(v)
        }
        return values
    }

    func choice<T: RawRepresentable>(_ name: String, default fallback: T, _ all: [T]) throws(UsageError) -> T where T.RawValue == String {
        guard let text = options[name] else { return fallback }
        guard let value = T(rawValue: text) else {
            throw UsageError(message: "option '\(name)' expects one of \(all.map(\.rawValue).joined(separator: ", ")), found '\(text)'")
        }
        return value
    }
}
