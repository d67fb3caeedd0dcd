import Foundation
import IR
import Passes
import Codegen

let compileCommand = Command(
    name: "compile",
    help: """
        usage: eec compile FILE [--branches N] [--distribution D] [--exit-block B] [--cost C]
                          [--exit-after OPS] [--weights W] [--emit ir|dot|c] [--json] [-o OUT]
                          [--threshold T | --thresholds t0,t1,..]

        Places N exits, inserts their heads, folds BatchNorm, fuses ReLUs, cuts the backbone into
        segments and plans one memory arena. Without --emit, prints the plan: exits and their
        costs, segments, arena.

          --branches N          number of early exits (default 0)
          --distribution D      fine (default), pareto, golden, linear, quadratic
          --exit-block B        conv2 (default), conv1, conv3, pool, bnpool, plain
          --cost C              cost convention for placement and cost rates: eenets (default), macs
          --exit-after OPS      only attach exits after these ops, e.g. maxpool (reference VGG)
                                or concat (reference DenseNet); default: every cut point
          --head-linears-only   count only the heads' linear layers in cost rates (the EENets
                                code's FLOPs counter misses the other head layers)
          --weights W           safetensors weights (default: seeded); exit tensors present in W
                                are used, missing ones seeded
          --seed N              seed of default weights (default 0)
          --align N             arena alignment in bytes (default 16)
          --emit ir|dot         print the compiled IR, or Graphviz with segments as clusters
          --emit c -o DIR       write a C library to DIR: <model>.h, <model>.c, <model>_weights.c,
                                eec_runtime.h, eec_runtime.c (see the README, "Compiling to C")
          --threshold T         the exits' compiled-in threshold (default 0.5); changeable at run time
          --thresholds t0,..    one threshold per exit
          --json                print the plan as one JSON object
          --print-after-all     print the IR after every pass (to stderr)
          --print-after PASS    print the IR after PASS (to stderr)
          --list-passes         list the passes and exit
          -o OUT                write --emit output to OUT
        """,
    valued: ["--branches", "--distribution", "--exit-block", "--cost", "--exit-after", "--weights", "--seed",
             "--align", "--emit", "--print-after", "-o", "--threshold", "--thresholds"],
    switches: ["--json", "--print-after-all", "--list-passes", "--head-linears-only"]
) { args, console in
    let options = try CompileOptions(args)
    if args.flags.contains("--list-passes") {
        for pass in options.pipeline.passes { console.print("\(pass.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(pass.summary)") }
        return ExitStatus.ok
    }
    // A usage error, so checked before FILE is read (a missing FILE would otherwise be status 1).
    if let name = options.printAfter, !options.pipeline.passes.contains(where: { $0.name == name }) {
        throw Arguments.UsageError(message: "unknown pass '\(name)' for --print-after; passes: \(options.pipeline.passes.map(\.name).joined(separator: ", "))")
    }
    let graph = try loadGraph(try args.file(), &console)
    let weights = try loadWeights(graph, path: args.options["--weights"], seed: options.seed, &console)
    var withExits: VerifiedGraph?
    let compiled: Model
    do {
        compiled = try options.pipeline.run(Model(graph: graph, weights: weights)) { pass, model in
            if pass == "insert-exits" { withExits = model.graph }
            if options.printAll || options.printAfter == pass {
                console.error("# ----- IR after \(pass) -----\n" + Printer.print(model.graph.graph))
            }
        }
    } catch {
        throw InputError(message: "\(args.positionals[0]): \(error)")
    }
    let plan = CompilePlan(original: graph, withExits: withExits ?? graph, compiled: compiled.graph,
                           options: options)
    switch options.emit {
    case .ir?:
        try emit(Printer.print(compiled.graph.graph), args, &console)
    case .dot?:
        try emit(DotEmitter.emit(compiled.graph), args, &console)
    case .c(let directory)?:
        try emitC(compiled, thresholds: options.thresholds, alignment: options.alignment, directory: directory, &console)
    case nil:
        if args.flags.contains("--json") {
            console.print(plan.json.text)
        } else {
            console.write(plan.table)
        }
    }
    return ExitStatus.ok
}

func emit(_ text: String, _ args: Arguments, _ console: inout Console) throws(InputError) {
    if let out = args.options["-o"] { try writeFile(out, text) } else { console.write(text) }
}

/// The options of `eec compile`, checked.
struct CompileOptions {
    var branches: Int
    var distribution: Distribution
    var block: ExitBlock
    var convention: CostReport.Convention
    var candidateOps: Set<OpKind>?
    var headLinearsOnly: Bool
    var seed: UInt64
    var alignment: Int
    /// What `--emit` writes; C needs the folder `-o` names.
    enum Emit {
        case ir, dot, c(directory: String)
    }
    var emit: Emit?
    var printAll: Bool
    var printAfter: String?
    var thresholds: ThresholdOption?

    init(_ args: Arguments) throws(Arguments.UsageError) {
        let branchText = args.options["--branches"] ?? "0"
        guard let branches = Int(branchText), branches >= 0, branches <= 1000 else {
            throw Arguments.UsageError(message: "option '--branches' expects a number from 0 to 1000, found '\(branchText)'")
        }
        self.branches = branches
        distribution = try args.choice("--distribution", default: Distribution.fine, Distribution.allCases)
        let blockText = args.options["--exit-block"] ?? "conv2"
        guard let block = ExitBlock(blockText) else {
            throw Arguments.UsageError(message: "option '--exit-block' expects one of \(ExitBlock.names.joined(separator: ", ")), found '\(blockText)'")
        }
        self.block = block
        convention = try args.choice("--cost", default: CostReport.Convention.eenets, CostReport.Convention.allCases)
        if let text = args.options["--exit-after"] {
            var ops = Set<OpKind>()
            for part in text.split(separator: ",") {
                guard let op = OpKind(rawValue: String(part)) else {
                    throw Arguments.UsageError(message: "option '--exit-after' expects op names such as maxpool or concat, found '\(part)'")
                }
                ops.insert(op)
            }
            candidateOps = ops
        }
        headLinearsOnly = args.flags.contains("--head-linears-only")
        seed = try seedOption(args)
        let alignText = args.options["--align"] ?? "16"
        guard let alignment = Int(alignText), alignment >= 4, alignment <= 4096, alignment & (alignment - 1) == 0 else {
            throw Arguments.UsageError(message: "option '--align' expects a power of two from 4 to 4096, found '\(alignText)'")
        }
        self.alignment = alignment
        switch args.options["--emit"] {
        case nil: emit = nil
        case "ir": emit = .ir
        case "dot": emit = .dot
        case "c":
            guard let directory = args.options["-o"] else {
                throw Arguments.UsageError(message: "--emit c needs -o DIR, the folder to write the C files to")
            }
            emit = .c(directory: directory)
        case let other?:
            throw Arguments.UsageError(message: "option '--emit' expects ir, dot or c, found '\(other)'")
        }
        thresholds = try ThresholdOption.parse(args)
        printAll = args.flags.contains("--print-after-all")
        printAfter = args.options["--print-after"]
    }

    var pipeline: PassPipeline {
        PassPipeline([
            InsertExits(branches: branches, distribution: distribution, block: block, convention: convention,
                        candidateOps: candidateOps, seed: seed),
            FoldBatchNorm(), FuseReLU(), SegmentGraph(),
        ])
    }
}
