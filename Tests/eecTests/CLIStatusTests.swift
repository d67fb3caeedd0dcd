import Foundation
import Testing
import IR
@testable import eec

/// Exit statuses (0 ok, 1 bad input, 2 bad usage), their messages, and `--help`.
@Suite struct CLIStatusTests {
    // MARK: --help

    @Test(arguments: ["--help", "-h", "help"])
    func topLevelHelp(flag: String) {
        let r = CLI.run(flag)
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.out.hasPrefix("eec: an early-exit network compiler"))
        #expect(r.out.contains("usage: eec <command> [arguments]"))
        for command in Driver.commands { #expect(r.out.contains("  \(command.name) "), "\(command.name) not listed") }
        #expect(r.err.isEmpty)
    }

    @Test func noArgumentsIsUsageErrorOnStderr() {
        let r = CLI.run([])
        #expect(r.status == 2)
        #expect(r.out.isEmpty)
        #expect(r.err.contains("usage: eec <command>"))
    }

    /// Every declared command, so a new one is covered without editing this list.
    @Test(arguments: Driver.commands.map(\.name))
    func commandHelp(command: String) {
        for flag in ["--help", "-h"] {
            let r = CLI.run(command, flag)
            #expect(r.status == 0, "\(r.transcript)")
            #expect(r.out.hasPrefix("usage: eec \(command) "), "\(r.transcript)")
            #expect(r.err.isEmpty)
        }
        // --help wins over other arguments, even bad ones.
        let r = CLI.run(command, "--no-such-option", "nosuchfile.eeir", "--help")
        #expect(r.status == 0)
        #expect(r.out.hasPrefix("usage: eec \(command) "))
    }

    // MARK: Bad usage (2)

    @Test func unknownCommandSuggestsClosest() {
        let r = CLI.run("chek", CLI.example("resnet20"))
        #expect(r.status == 2)
        #expect(r.out.isEmpty)
        #expect(r.err.hasPrefix("eec: error: unknown command 'chek'; did you mean 'check'?\n"), "\(r.transcript)")
        #expect(r.err.contains("Run 'eec --help' for the commands."))

        let c = CLI.run("compiel")
        #expect(c.status == 2)
        #expect(c.err.contains("did you mean 'compile'?"))

        let far = CLI.run("xyzzyplugh")
        #expect(far.status == 2)
        #expect(far.err.contains("unknown command 'xyzzyplugh'"))
        #expect(!far.err.contains("did you mean"))
    }

    @Test func unknownOption() {
        let r = CLI.run("stats", CLI.example("resnet20"), "--bogus")
        #expect(r.status == 2)
        #expect(r.out.isEmpty)
        #expect(r.err.hasPrefix("eec stats: error: unknown option '--bogus'\n"), "\(r.transcript)")
        #expect(r.err.contains("usage: eec stats FILE"))

        let short = CLI.run("check", "-x", CLI.example("resnet20"))
        #expect(short.status == 2)
        #expect(short.err.contains("unknown option '-x'"))

        let inline = CLI.run("fmt", "--annotate=yes", CLI.example("resnet20"))
        #expect(inline.status == 2)
        #expect(inline.err.contains("option '--annotate' takes no value"))
    }

    @Test(arguments: ["check", "fmt", "stats", "run", "compile"])
    func missingFile(command: String) {
        let args = command == "run" ? [command, "--input", "x.npy"] : [command]
        let r = CLI.run(args)
        #expect(r.status == 2, "\(r.transcript)")
        #expect(r.err.hasPrefix("eec \(command): error: missing FILE argument\n"), "\(r.transcript)")
        #expect(r.out.isEmpty)
    }

    @Test func twoFiles() {
        let r = CLI.run("check", CLI.example("resnet20"), CLI.example("resnet32"))
        #expect(r.status == 2)
        #expect(r.err.contains("expected one FILE, found 2 arguments"))
    }

    @Test func optionMissingItsValue() {
        for (args, option) in [(["fmt", CLI.example("resnet20"), "-o"], "-o"),
                               (["stats", CLI.example("resnet20"), "--cost"], "--cost"),
                               (["run", CLI.example("resnet20"), "--input"], "--input"),
                               (["compile", CLI.example("resnet20"), "--branches"], "--branches")] {
            let r = CLI.run(args)
            #expect(r.status == 2, "\(args): \(r.transcript)")
            #expect(r.err.contains("error: option '\(option)' needs a value"), "\(args): \(r.transcript)")
        }
    }

    @Test func optionGivenTwice() {
        let r = CLI.run("stats", CLI.example("resnet20"), "--cost", "macs", "--cost=eenets")
        #expect(r.status == 2)
        #expect(r.err.contains("option '--cost' given twice"))
    }

    @Test func outputOptionTwice() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let r = CLI.run("fmt", CLI.example("resnet20"), "-o", dir.path("a.eeir"), "-o", dir.path("b.eeir"))
        #expect(r.status == 2, "\(r.transcript)")
        #expect(r.err.hasPrefix("eec fmt: error: option '-o' given twice\n"), "\(r.transcript)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("a.eeir")))
        #expect(!FileManager.default.fileExists(atPath: dir.path("b.eeir")))
    }

    @Test(arguments: ["check", "stats"])
    func outputOptionOnACommandWithoutOne(command: String) throws {
        // `-o` is not silently ignored where the command has no output file.
        let dir = try CLITempDir()
        defer { dir.remove() }
        let r = CLI.run(command, CLI.example("resnet20"), "-o", dir.path("out.txt"))
        #expect(r.status == 2, "\(r.transcript)")
        #expect(r.err.hasPrefix("eec \(command): error: unknown option '-o'\n"), "\(r.transcript)")
        #expect(r.out.isEmpty)
    }

    @Test func badCostValue() {
        for command in ["stats", "compile"] {
            let r = CLI.run(command, CLI.example("resnet20"), "--cost", "flops")
            #expect(r.status == 2, "\(command): \(r.transcript)")
            #expect(r.err.hasPrefix("eec \(command): error: option '--cost' expects one of macs, eenets, found 'flops'\n"),
                    "\(r.transcript)")
            #expect(r.out.isEmpty)
        }
    }

    @Test func badDistribution() {
        let r = CLI.run("compile", CLI.example("resnet20"), "--branches", "3", "--distribution", "gaussian")
        #expect(r.status == 2)
        #expect(r.err.contains("option '--distribution' expects one of fine, pareto, golden, linear, quadratic, found 'gaussian'"),
                "\(r.transcript)")
    }

    @Test func badExitBlock() {
        let r = CLI.run("compile", CLI.example("resnet20"), "--branches", "3", "--exit-block=conv9")
        #expect(r.status == 2)
        #expect(r.err.contains("option '--exit-block' expects one of"), "\(r.transcript)")
        #expect(r.err.contains("conv2"))
        #expect(r.err.contains("found 'conv9'"))
    }

    @Test(arguments: ["-1", "three", "1001", "2.5", ""])
    func badBranches(value: String) {
        let r = CLI.run("compile", CLI.example("resnet20"), "--branches=\(value)")
        #expect(r.status == 2, "\(r.transcript)")
        #expect(r.err.contains("option '--branches' expects a number from 0 to 1000 or 'all', found '\(value)'"), "\(r.transcript)")
    }

    @Test func badEmitAndAlign() {
        let emit = CLI.run("compile", CLI.example("resnet20"), "--emit", "wasm")
        #expect(emit.status == 2)
        #expect(emit.err.contains("option '--emit' expects one of ir, dot, c, swift, found 'wasm'"), "\(emit.transcript)")
        // A usage error, so reported before any file is read or weights are made.
        let noDirectory = CLI.run("compile", CLI.example("resnet20"), "--emit", "c")
        #expect(noDirectory.status == 2)
        #expect(noDirectory.err.hasPrefix("eec compile: error: --emit c needs -o DIR, the folder to write the C files to\nusage: eec compile FILE"), "\(noDirectory.transcript)")
        let align = CLI.run("compile", CLI.example("resnet20"), "--align", "12")
        #expect(align.status == 2)
        #expect(align.err.contains("option '--align' expects a power of two"))
    }

    @Test func meanWithoutStd() {
        let r = CLI.run("run", CLI.example("resnet20"), "--input", "x.npy", "--mean", "0.5,0.5,0.5")
        #expect(r.status == 2)
        #expect(r.err.hasPrefix("eec run: error: --mean and --std go together\n"), "\(r.transcript)")
        let s = CLI.run("run", CLI.example("resnet20"), "--input", "x.npy", "--std", "0.5,0.5,0.5")
        #expect(s.status == 2)
        #expect(s.err.contains("--mean and --std go together"))
    }

    @Test func meanNotNumbers() {
        let r = CLI.run("run", CLI.example("resnet20"), "--input", "x.npy", "--mean", "0.5,,0.5", "--std", "1,1,1")
        #expect(r.status == 2)
        #expect(r.err.contains("option '--mean' expects comma-separated numbers, found '0.5,,0.5'"), "\(r.transcript)")
    }

    @Test func runWithoutInput() {
        let r = CLI.run("run", CLI.example("resnet20"))
        #expect(r.status == 2)
        #expect(r.err.contains("missing --data X.npy"))
    }

    @Test func badSeed() {
        let r = CLI.run("run", CLI.example("resnet20"), "--input", "x.npy", "--seed", "-3")
        #expect(r.status == 2)
        #expect(r.err.contains("option '--seed' expects a non-negative integer, found '-3'"), "\(r.transcript)")
    }

    // MARK: Bad input (1)

    @Test func missingGraphFile() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let missing = dir.path("nosuch.eeir")
        for command in ["check", "fmt", "stats", "compile"] {
            let r = CLI.run(command, missing)
            #expect(r.status == 1, "\(command): \(r.transcript)")
            #expect(r.err == "\(missing): error: cannot read file\n", "\(command): \(r.transcript)")
            #expect(r.out.isEmpty)
        }
    }

    @Test func malformedGraphShowsLineColumnSourceAndCaret() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let file = try dir.write("bad.eeir", """
            model bad
            input x: f32[1,3,4,4]
            y = relu(x)
            z = relu(yy)
            f = flatten(z)
            fc = linear(f, out=10)
            output fc

            """)
        for command in ["check", "fmt", "stats", "compile"] {
            let r = CLI.run(command, file)
            #expect(r.status == 1, "\(command): \(r.transcript)")
            #expect(r.out.isEmpty)
            let lines = r.err.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            try #require(lines.count >= 3, "\(r.transcript)")
            #expect(lines[0] == "\(file):4:10: error: unknown name 'yy'; did you mean 'y'?", "\(r.transcript)")
            #expect(lines[1] == "z = relu(yy)")
            #expect(lines[2] == "         ^")
        }
    }

    @Test func everyErrorOfABadFileIsReported() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let file = try dir.write("two.eeir", """
            model two
            input x: f32[1,3,4,4]
            a = rleu(x)
            b = relu(q)
            f = flatten(x)
            fc = linear(f, out=10)
            output fc

            """)
        let r = CLI.run("check", file)
        #expect(r.status == 1)
        #expect(r.err.contains("\(file):3:5: error: unknown op 'rleu'; did you mean 'relu'?"), "\(r.transcript)")
        #expect(r.err.contains("\(file):4:10: error: unknown name 'q'"), "\(r.transcript)")
    }

    @Test func badShapeIsAnInputError() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let file = try dir.write("shape.eeir", """
            model shape
            input x: f32[1,3,4,4]
            r = relu(x)
            output r

            """)
        let r = CLI.run("check", file)
        #expect(r.status == 1)
        #expect(r.err.hasPrefix("\(file):4:8: error: output 'r' must be class logits [1, classes], found [1,3,4,4]\n"), "\(r.transcript)")
        #expect(r.err.contains("\noutput r\n       ^"))
    }

    @Test func usageErrorBeatsAMissingFile() {
        // Option values are checked before FILE is read: a bad command line is status 2 even
        // when FILE does not exist.
        let r = CLI.run("compile", "/nonexistent/x.eeir", "--print-after", "nosuchpass")
        #expect(r.status == 2, "\(r.transcript)")
        let s = CLI.run("stats", "/nonexistent/x.eeir", "--cost", "flops")
        #expect(s.status == 2, "\(s.transcript)")
    }
}
