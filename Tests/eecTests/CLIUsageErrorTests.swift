import Foundation
import Testing
import IR
@testable import eec

/// Usage errors generated from the declarations: status 2, the message, the usage line, and
/// always before any file is read (every FILE here does not exist).
@Suite struct CLIUsageErrorTests {
    static let missing = "/nonexistent/x.eeir"

    /// (arguments, the error message after "eec CMD: error: ").
    static let cases: [([String], String)] = [
        // Unknown options, with the closest declared one suggested.
        (["train", missing, "--weights", "w", "--data", "d", "-o", "o", "--epoch", "3"], "unknown option '--epoch'; did you mean '--epochs'?"),
        (["compile", missing, "--brnaches", "3"], "unknown option '--brnaches'; did you mean '--branches'?"),
        (["calibrate", missing, "--weights", "w", "--data", "d", "--seed", "1"], "unknown option '--seed'"),
        // Missing required options and positionals.
        (["train", missing, "--data", "d", "-o", "o"], "missing --weights W"),
        (["train", missing, "--weights", "w", "--data", "d"], "missing -o OUT"),
        (["calibrate", missing, "--weights", "w"], "missing --data X.npy"),
        (["bench", "--repeat", "3"], "missing FILE argument"),
        (["help", "run", "compile"], "expected at most one COMMAND, found 2 arguments"),
        // Values of the wrong kind, with the kind expected.
        (["train", missing, "--weights", "w", "--data", "d", "-o", "o", "--epochs", "2.5"], "option '--epochs' expects a whole number from 1 to 100000, found '2.5'"),
        (["train", missing, "--weights", "w", "--data", "d", "-o", "o", "--lr", "fast"], "option '--lr' expects a number from 1e-09 to 10, found 'fast'"),
        (["train", missing, "--weights", "w", "--data", "d", "-o", "o", "--loss", "v0"], "option '--loss' expects one of v2, v1, found 'v0'"),
        (["calibrate", missing, "--weights", "w", "--data", "d", "--margin", "2x"], "option '--margin' expects standard errors from 0 to 10 (e.g. 1) or a share such as 0.3%, found '2x'"),
        (["calibrate", missing, "--weights", "w", "--data", "d", "--backend", "gpu"], "option '--backend' expects one of interp, c, found 'gpu'"),
        (["run", missing, "--data", "d", "--samples", "5:3"], "option '--samples' expects A:B with 0 <= A < B, found '5:3'"),
        (["run", missing, "--input", "d", "--exit-after", "maxpool,pool"], "option '--exit-after' expects op names separated by commas, such as maxpool or concat, found 'maxpool,pool'"),
        (["bench-c", "--target", "cortex-m7"], "option '--target' expects one of cortex-m4, found 'cortex-m7'"),
        (["help", "--markdown=yes"], "option '--markdown' takes no value"),
        (["help", "compiel"], "unknown command 'compiel'; did you mean 'compile'?"),
        // The alias is the same option.
        (["run", missing, "--data", "a.npy", "--input", "b.npy"], "option '--input' given twice"),
        // Options that do not go together, or that the rest of the command line leaves unused.
        (["run", missing, "--data", "d", "--mean", "0.5"], "--mean and --std go together"),
        (["run", missing, "--data", "d", "--branches", "3", "--thresholds", "0.5,0.5"], "--thresholds gives 2 values for 3 exits"),
        (["compile", missing, "--threshold", "0.3"], "--threshold sets the thresholds compiled into the code: it needs --emit c or --emit swift"),
        (["compile", missing, "--thresholds", "0.3", "--emit", "ir"], "--thresholds sets the thresholds compiled into the code: it needs --emit c or --emit swift"),
        (["compile", missing, "--emit", "dot", "--json"], "--json shapes the printed plan: it does not go with --emit"),
        (["compile", missing, "--emit", "c", "-o", "d", "--head-linears-only"], "--head-linears-only shapes the printed plan: it does not go with --emit"),
        (["compile", missing, "--emit", "ir", "--align", "64"], "--align sets the arena's alignment: --emit ir and dot have no arena"),
        (["compile", missing, "--print-after-all", "--print-after", "segment"], "--print-after-all prints after every pass, --print-after after one; give one"),
        (["bench-c", missing, "--branches", "3"], "--branches needs --target cortex-m4: the host timing runs the backbone alone"),
        (["bench-c", missing, "--target", "cortex-m4", "--runs", "5"], "--runs times the host build; --target counts instructions, which need one run"),
        (["train", missing, "--weights", "w", "--data", "d", "-o", "o", "--confidence", "softmax", "--loss", "v1"],
         "--loss shapes the cost-aware loss of a learnt confidence; with --confidence softmax each classifier learns alone"),
        (["train", missing, "--weights", "w", "--data", "d", "-o", "o", "--warmup", "0", "--distill", "2"],
         "--distill teaches the classifiers learning alone (the --warmup epochs, or --confidence softmax); --warmup 0 leaves none"),
        (["help", "run", "--markdown"], "--markdown prints every command; give no COMMAND"),
        (["compile", missing, "--exit-at", "layer1.2", "--distribution", "golden"], "--distribution places N exits (--branches N); --exit-at names them"),
        (["run", missing, "--data", "d", "--branches", "all", "--distribution", "golden"], "--distribution places N exits (--branches N); --branches all puts one at every candidate"),
        (["compile", missing, "--exit-block", "sdn"], "--exit-block shapes the exits, but there are none: give --branches N, --branches all or --exit-at (or --weights with trained exits)"),
        (["run", missing, "--data", "d", "--branches", "0", "--confidence", "softmax"], "--confidence shapes the exits, but there are none: give --branches N, --branches all or --exit-at (or --weights with trained exits)"),
    ]

    @Test(arguments: cases.indices)
    func usageError(index: Int) throws {
        let (args, message) = Self.cases[index]
        let command = try #require(Driver.commands.first { $0.name == args[0] })
        let r = CLI.run(args)
        #expect(r.status == 2, "\(args): \(r.transcript)")
        #expect(r.out.isEmpty, "\(args)")
        #expect(r.err == "eec \(args[0]): error: \(message)\n\(command.usage)\nRun 'eec \(args[0]) --help' for the options.\n", "\(args): \(r.transcript)")
    }

    /// `--input` is `--data` under another name, for every command that reads data.
    @Test func inputIsAnAliasOfData() {
        for args in [["run"], ["train", "--weights", "w", "-o", "o"], ["calibrate", "--weights", "w"]] {
            let r = CLI.run(args + [Self.missing, "--input", "/nonexistent/x.npy"])
            // Past the command line: the missing FILE is bad input.
            #expect(r.status == 1 && r.err.hasPrefix("\(Self.missing): error: cannot read file"), "\(args): \(r.transcript)")
        }
    }

    /// `--samples` now limits the plain (backbone-only) run too; it used to be ignored there.
    @Test func samplesLimitThePlainRun() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let input = dir.path("x.npy")
        try NPYArray(shape: [5, 3, 32, 32], storage: .float32((0..<(5 * 3 * 32 * 32)).map { Float($0 % 7) / 7 })).write(to: input)
        let r = CLI.run("run", CLI.example("resnet20"), "--data", input, "--samples", "1:3")
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.out.contains("2 samples"), "\(r.transcript)")
    }

    /// `-o` without `--emit` writes the plan (it used to be ignored).
    @Test func compileWritesThePlanToOut() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let r = CLI.run("compile", CLI.example("resnet20"), "--branches", "2", "-o", dir.path("plan.txt"))
        #expect(r.status == 0, "\(r.transcript)")
        #expect(try dir.read("plan.txt") == CLI.run("compile", CLI.example("resnet20"), "--branches", "2").out)
    }

    /// `--list-passes` needs no FILE.
    @Test func listPassesAlone() {
        let r = CLI.run("compile", "--list-passes")
        #expect(r.status == 0 && r.out.hasPrefix("insert-exits"), "\(r.transcript)")
    }
}
