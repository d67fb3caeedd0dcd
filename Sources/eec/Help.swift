/// The help texts, generated from the command declarations (Command.swift).
enum Help {
    static let width = 100

    /// `eec help` / `eec --help`: every command with its synopsis and summary.
    static func commandList(_ commands: [Command]) -> String {
        var text = """
            eec: an early-exit network compiler

            usage: eec <command> [arguments]

            commands:

            """
        let column = min(34, (commands.map { $0.synopsis.count - 4 }.max() ?? 0) + 4)
        for command in commands {
            let synopsis = String(command.synopsis.dropFirst(4)) // without "eec "
            text += entry("  " + synopsis, command.summary, column: column)
        }
        text += "\nRun 'eec help <command>' or 'eec <command> --help' for a command's options, 'eec --version' for the version.\n"
        return text
    }

    /// `eec CMD --help`: the usage line, the summary and details, every option.
    static func command(_ command: Command) -> String {
        var text = command.usage + "\n\n" + wrap(sentence(command.summary), indent: "")
        if !command.details.isEmpty { text += "\n" + command.details + (command.details.hasSuffix("\n") ? "" : "\n") }
        if !command.options.isEmpty {
            text += "\noptions:\n"
            let column = min(26, (command.options.map { $0.synopsis.count }.max() ?? 0) + 4)
            for spec in command.options { text += entry("  " + spec.synopsis, optionHelp(spec), column: column) }
        }
        return text
    }

    /// An option's help line with its default, aliases and whether it is required.
    static func optionHelp(_ spec: OptionSpec) -> String {
        var text = spec.help
        var notes: [String] = []
        if spec.required { notes.append("required") }
        if spec.standalone { notes.append("alone: needs no other argument") }
        if let value = spec.defaultText { notes.append("default \(value)") }
        if !spec.aliases.isEmpty { notes.append("also \(spec.aliases.joined(separator: ", "))") }
        if !notes.isEmpty { text += " (\(notes.joined(separator: "; ")))" }
        return text
    }

    /// The README's command table (`eec help --markdown`): a row per command.
    static func markdown(_ commands: [Command]) -> String {
        var text = "| command | options | what it does |\n|---|---|---|\n"
        for command in commands {
            let optional = command.options.filter { !$0.required }.map { "`\($0.synopsis)`" }.joined(separator: " ")
            text += "| `\(command.synopsis)` | \(optional) | \(command.summary) |\n"
        }
        // Bars inside code spans are a placeholder's alternatives (`N|all`): escaped for the table.
        var out = "", inCode = false
        for c in text {
            if c == "`" { inCode.toggle() }
            out += c == "|" && inCode ? "\\|" : String(c)
        }
        return out
    }

    /// `label` padded to `column`, then `help` wrapped; on the next line when the label is wider.
    static func entry(_ label: String, _ help: String, column: Int) -> String {
        let indent = String(repeating: " ", count: column)
        let body = wrap(help, indent: indent)
        if label.count + 2 <= column { return label + String(repeating: " ", count: column - label.count) + body.dropFirst(column) }
        return label + "\n" + body
    }

    /// `text` in lines of at most `width` columns, each starting with `indent`.
    static func wrap(_ text: String, indent: String) -> String {
        var lines: [String] = []
        var line = indent
        for word in text.split(separator: " ") {
            if line.count > indent.count && line.count + 1 + word.count > width {
                lines.append(line)
                line = indent
            }
            line += (line.count > indent.count ? " " : "") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n") + "\n"
    }

    static func sentence(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.uppercased() + text.dropFirst() + (text.hasSuffix(".") ? "" : ".")
    }
}
