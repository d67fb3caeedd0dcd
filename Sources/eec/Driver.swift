import Foundation
import IR

/// `eec COMMAND ...`: dispatches to one command (declared in `commands`, see Command.swift) and
/// maps its outcome to an exit status.
enum Driver {
    /// The version `eec --version` prints. Generated files never carry it (they stay
    /// byte-identical across versions that generate the same code).
    static let version = "eec 0.2.0"

    /// The real entry point: writes to the process's streams.
    static func main(_ args: [String]) -> Int32 {
        var console = Console(passthrough: true)
        return run(args, &console)
    }

    static func run(_ args: [String], _ console: inout Console) -> Int32 {
        guard let name = args.first else {
            console.error(Help.commandList(commands))
            return ExitStatus.badUsage
        }
        if name == "--help" || name == "-h" { return run(["help"] + args.dropFirst(), &console) }
        if name == "--version" || name == "version" {
            console.print(version)
            return ExitStatus.ok
        }
        guard let command = commands.first(where: { $0.name == name }) else {
            var message = "eec: error: unknown command '\(name)'"
            if let guess = Spelling.closest(to: name, in: commands.map(\.name)) { message += "; did you mean '\(guess)'?" }
            console.error(message + "\nRun 'eec --help' for the commands.")
            return ExitStatus.badUsage
        }
        let rest = Array(args.dropFirst())
        if rest.contains("--help") || rest.contains("-h") {
            console.write(Help.command(command))
            return ExitStatus.ok
        }
        do {
            let parsed = try ParsedArguments(rest, for: command)
            return try command.run(parsed, &console)
        } catch let error as UsageError {
            console.error("eec \(name): error: \(error.message)\n\(command.usage)\nRun 'eec \(name) --help' for the options.")
            return ExitStatus.badUsage
        } catch let error as InputError {
            console.error(error.message)
            return ExitStatus.badInput
        } catch {
            console.error("eec \(name): error: \(error)")
            return ExitStatus.badInput
        }
    }

    /// Every command, in the order `eec help` lists them.
    static let commands: [Command] = [checkCommand, fmtCommand, statsCommand, runCommand, compileCommand, benchCommand, benchCCommand,
                                      benchSwiftCommand, trainCommand, calibrateCommand, quantizeCommand, importCommand, helpCommand]
}

enum HelpOptions {
    static let markdown = Option<Bool>.flag("--markdown", help: "print the README's command table instead (a row per command)")
}

/// `eec help [COMMAND]`.
let helpCommand = Command(
    name: "help", summary: "list the commands, or show one command's options",
    positionals: .optional("COMMAND"), options: [HelpOptions.markdown],
    rules: [.check { args throws(UsageError) in
        guard let name = args.positionals.first else { return }
        guard args[HelpOptions.markdown] == false else { throw UsageError(message: "--markdown prints every command; give no COMMAND") }
        guard Driver.commands.contains(where: { $0.name == name }) else {
            var message = "unknown command '\(name)'"
            if let guess = Spelling.closest(to: name, in: Driver.commands.map(\.name)) { message += "; did you mean '\(guess)'?" }
            throw UsageError(message: message)
        }
    }]
) { args, console in
    if args[HelpOptions.markdown] {
        console.write(Help.markdown(Driver.commands))
    } else if let command = Driver.commands.first(where: { $0.name == args.positionals.first }) {
        console.write(Help.command(command))
    } else {
        console.write(Help.commandList(Driver.commands))
    }
    return ExitStatus.ok
}

/// Loads and verifies FILE, printing its warnings; a bad file is an `InputError` with every diagnostic.
func loadGraph(_ path: String, _ console: inout Console) throws(InputError) -> VerifiedGraph {
    switch VerifiedGraph.load(path: path) {
    case .success(let (graph, warnings)):
        if !warnings.isEmpty, let data = FileManager.default.contents(atPath: path) {
            let source = SourceFile(name: path, bytes: [UInt8](data))
            for warning in warnings { console.error(warning.rendered(in: source)) }
        }
        return graph
    case .failure(let failure):
        throw InputError(message: failure.message)
    }
}
