import Foundation
import Testing
@testable import eec

/// The command declarations, the help generated from them and the README's command table agree:
/// every documented option is accepted, every accepted option is documented.
@Suite struct CLIDeclarationTests {
    /// One row of the README's command table: the synopsis and the option code spans.
    struct Row {
        var synopsis: String
        var options: [String]
    }

    /// The rows of the table under "## Commands" (header `| command | options | what it does |`).
    static func readmeRows() throws -> [String: Row] {
        let readme = try String(contentsOf: CLI.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex(of: "## Commands"), "README has no '## Commands' section")
        let header = try #require(lines[start...].firstIndex(of: "| command | options | what it does |"), "no command table under '## Commands'")
        var rows: [String: Row] = [:]
        for line in lines[(header + 2)...] {
            guard line.hasPrefix("|") else { break }
            let cells = splitCells(line)
            try #require(cells.count == 3, "a command row has 3 cells: \(line)")
            let synopsis = codeSpans(cells[0])
            try #require(synopsis.count == 1, "the first cell is one code span: \(line)")
            let words = synopsis[0].split(separator: " ")
            try #require(words.count >= 2 && words[0] == "eec", "the synopsis starts with 'eec CMD': \(line)")
            let name = String(words[1])
            #expect(rows[name] == nil, "two rows for \(name)")
            rows[name] = Row(synopsis: synopsis[0], options: codeSpans(cells[1]))
        }
        return rows
    }

    /// Cells split at bars that are not escaped (`N\|all`).
    static func splitCells(_ line: String) -> [String] {
        var cells: [String] = [], cell = "", previous: Character = " "
        for c in line.dropFirst() {
            if c == "|" && previous != "\\" {
                cells.append(cell.trimmingCharacters(in: .whitespaces))
                cell = ""
            } else {
                cell.append(c)
            }
            previous = c
        }
        return cells
    }

    /// The code spans of a cell, escaped bars unescaped.
    static func codeSpans(_ cell: String) -> [String] {
        cell.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }.map { $0.element.replacingOccurrences(of: "\\|", with: "|") }
    }

    @Test func readmeTableMatchesTheDeclarations() throws {
        let rows = try Self.readmeRows()
        #expect(Set(rows.keys) == Set(Driver.commands.map(\.name)), "README rows vs commands")
        for command in Driver.commands {
            guard let row = rows[command.name] else { continue }
            // The synopsis: the positionals and the required options, as the usage line has them.
            #expect(row.synopsis == command.synopsis, "\(command.name): README says '\(row.synopsis)'")
            // Every documented option is accepted, written as declared (its name or an alias, its placeholder).
            var documented = Set<String>()
            for span in row.options {
                let spelling = String(span.split(separator: " ").first ?? "")
                guard let spec = command.options.first(where: { $0.spellings.contains(spelling) }) else {
                    Issue.record("\(command.name): the README documents '\(span)', which the command does not accept")
                    continue
                }
                #expect(span == spec.placeholder.map { "\(spelling) \($0)" } ?? spelling,
                        "\(command.name): README '\(span)', declared '\(spec.synopsis)'")
                documented.insert(spec.name)
            }
            // Every accepted option is documented, in the synopsis (required ones) or the options cell.
            for spec in command.options where !spec.required {
                #expect(documented.contains(spec.name), "\(command.name): '\(spec.synopsis)' is accepted but not in the README")
            }
            for spec in command.options where spec.required {
                #expect(row.synopsis.contains(spec.synopsis), "\(command.name): required '\(spec.synopsis)' missing from the synopsis")
            }
        }
    }

    /// `eec help --markdown` gives the README's first two columns exactly.
    @Test func markdownHelpIsTheReadmeTable() throws {
        let r = CLI.run("help", "--markdown")
        #expect(r.status == 0, "\(r.transcript)")
        let generated = r.out.split(separator: "\n").dropFirst(2).map { line in Array(Self.splitCells(String(line)).prefix(2)) }
        let readme = try String(contentsOf: CLI.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex(of: "| command | options | what it does |"))
        let documented = lines[(header + 2)...].prefix { $0.hasPrefix("|") }.map { Array(Self.splitCells($0).prefix(2)) }
        #expect(Array(documented) == generated)
    }

    /// Every declared option (each spelling) reaches the parser as known: whatever else is wrong
    /// with the command line, it is not an unknown option.
    @Test func everyDeclaredOptionIsAccepted() {
        for command in Driver.commands {
            for spec in command.options {
                for spelling in spec.spellings {
                    let r = CLI.run([command.name, spelling] + (spec.isSwitch ? [] : ["x"]) + ["/nonexistent/file"])
                    #expect(!r.err.contains("unknown option"), "\(command.name) \(spelling): \(r.transcript)")
                }
            }
        }
    }

    /// `eec CMD --help` shows the usage line and every option with its placeholder, aliases and
    /// default; `eec help CMD` is the same text.
    @Test func commandHelpListsEveryOption() {
        for command in Driver.commands {
            let r = CLI.run(command.name, "--help")
            #expect(r.status == 0)
            #expect(r.out.hasPrefix(command.usage + "\n"), "\(command.name): \(r.out.prefix(200))")
            let lines = r.out.split(separator: "\n").map(String.init)
            for spec in command.options {
                let line = lines.firstIndex { $0.hasPrefix("  \(spec.synopsis) ") || $0 == "  \(spec.synopsis)" }
                #expect(line != nil, "\(command.name) --help does not list '\(spec.synopsis)'")
                let help = r.out.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
                if let value = spec.defaultText { #expect(help.contains("default \(value)"), "\(command.name) \(spec.name): no default shown") }
                for alias in spec.aliases { #expect(help.contains("also \(alias)"), "\(command.name) \(spec.name): alias \(alias) not shown") }
            }
            #expect(CLI.run("help", command.name).out == r.out)
        }
    }

    /// `eec help` lists every command with its synopsis.
    @Test func commandListHasEveryCommand() {
        let r = CLI.run("help")
        for command in Driver.commands {
            #expect(r.out.contains("\n  \(command.synopsis.dropFirst(4))"), "\(command.name) missing from eec help")
        }
    }

    /// Every `eec` command line in the README's examples is a valid command line (its files
    /// aside): an example cannot keep an option that was renamed or removed.
    @Test func readmeExamplesParse() throws {
        let readme = try String(contentsOf: CLI.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var variables: [String: [String]] = [:]
        var pending = ""
        var checked = 0
        for raw in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            // Shell variables set in an example (`N="--mean ..."`) are expanded where used.
            for assignment in line.split(separator: ";") {
                let parts = assignment.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].allSatisfy({ $0.isLetter || $0 == "_" }), !parts[0].isEmpty {
                    variables[String(parts[0])] = parts[1].replacingOccurrences(of: "\"", with: "").split(separator: " ").map(String.init)
                }
            }
            line = line.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\\") {
                pending += line.dropLast() + " "
                continue
            }
            let command = pending + line
            pending = ""
            guard let range = command.range(of: "swift run -c release eec ") else { continue }
            let words = command[range.upperBound...].split(separator: " ").flatMap { word in
                word.hasPrefix("$") && !word.contains("/") ? variables[String(word.dropFirst())] ?? [String(word)] : [String(word)]
            }
            let name = try #require(words.first)
            let declared = try #require(Driver.commands.first { $0.name == name }, "README example of an unknown command: \(command)")
            do {
                _ = try ParsedArguments(Array(words.dropFirst()), for: declared)
            } catch {
                Issue.record("README example does not parse: \(command)\n\(error.message)")
            }
            checked += 1
        }
        #expect(checked >= 10, "found only \(checked) examples")
    }

    /// For every command: an unknown option, and a bad value of every option whose kind can be
    /// wrong, are usage errors (2) reported before any file is read (FILE does not exist).
    @Test func badValuesAreUsageErrorsBeforeAnyFileIsRead() {
        let missing = "/nonexistent/x"
        for command in Driver.commands {
            let unknown = CLI.run(command.name, missing, "--no-such-option")
            #expect(unknown.status == 2 && unknown.err.contains("unknown option '--no-such-option'"), "\(command.name): \(unknown.transcript)")
            for spec in command.options where !spec.isSwitch && !["a path", "names separated by commas"].contains(spec.expected) {
                let r = CLI.run(command.name, missing, spec.name, "%bad%")
                #expect(r.status == 2, "\(command.name) \(spec.name): \(r.transcript)")
                #expect(r.err.hasPrefix("eec \(command.name): error: option '\(spec.name)' expects \(spec.expected), found '%bad%'\n"),
                        "\(command.name) \(spec.name): \(r.transcript)")
            }
        }
    }

    @Test func declarationsAreWellFormed() {
        for command in Driver.commands {
            var seen = Set<String>()
            for spec in command.options {
                for spelling in spec.spellings {
                    #expect(seen.insert(spelling).inserted, "\(command.name): '\(spelling)' declared twice")
                    #expect(spelling.hasPrefix("--") || spelling.count == 2, "\(command.name): '\(spelling)' is not --long or -x")
                }
                #expect(!spec.help.isEmpty, "\(command.name) \(spec.name): no help")
                #expect(!spec.help.contains("\n"), "\(command.name) \(spec.name): help is one paragraph")
            }
        }
    }
}
