import Foundation
import IR

/// `eec COMMAND ...`: dispatches to one command and maps its outcome to an exit status.
enum Driver {
    static let usage = """
        eec: an early-exit network compiler

        usage: eec <command> [options] FILE

        commands:
          check FILE      parse and verify a .eeir file
          fmt FILE        print a .eeir file in canonical form
          stats FILE      per-node shapes, parameters and cost
          run FILE        run a batch through the reference interpreter
          compile FILE    place exits, fuse, segment and plan memory; print the plan or the IR
          bench FILE...   time the front end (parse, verify, cost)
          bench-c [FILE]  time the generated C (latency, GFLOP/s, % of peak, Cortex-M4 code size)
          bench-swift [FILE]  time the generated Swift beside the C (latency, GFLOP/s, speed ratio, code size)
          train FILE      train exit heads on a frozen backbone (PTEE)
          calibrate FILE  choose the exits to keep and their thresholds for an accuracy budget

        Run 'eec <command> --help' for a command's options, 'eec --version' for the version.
        """

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
            console.error(usage)
            return ExitStatus.badUsage
        }
        if name == "--help" || name == "-h" || name == "help" {
            console.print(usage)
            return ExitStatus.ok
        }
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
            console.print(command.help)
            return ExitStatus.ok
        }
        do {
            let parsed = try Arguments(rest, valued: command.valued, switches: command.switches)
            return try command.run(parsed, &console)
        } catch let error as Arguments.UsageError {
            let usageLine = command.help.split(separator: "\n").first.map(String.init) ?? "usage: eec \(name)"
            console.error("eec \(name): error: \(error.message)\n\(usageLine)\nRun 'eec \(name) --help' for the options.")
            return ExitStatus.badUsage
        } catch let error as InputError {
            console.error(error.message)
            return ExitStatus.badInput
        } catch {
            console.error("eec \(name): error: \(error)")
            return ExitStatus.badInput
        }
    }

    static let commands: [Command] = [checkCommand, fmtCommand, statsCommand, runCommand, compileCommand, benchCommand, benchCCommand, benchSwiftCommand, trainCommand, calibrateCommand]
}

/// One subcommand: its options and what it does.
struct Command: Sendable {
    var name: String
    var help: String
    var valued: Set<String> = []
    var switches: Set<String> = []
    var run: @Sendable (Arguments, inout Console) throws -> Int32
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
