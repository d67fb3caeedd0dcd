import Foundation
import IR
import Passes
import Codegen

let compileCommand = Command(
    name: "compile",
    help: """
        usage: eec compile FILE [--branches N|all | --exit-at A,B,..] [--distribution D] [--exit-block B]
                          [--confidence C] [--cost C] [--exit-after OPS] [--weights W] [--emit ir|dot|c|swift] [--json] [-o OUT]
                          [--threshold T | --thresholds t0,t1,..]

        Places N exits, inserts their heads, folds BatchNorm, fuses ReLUs, cuts the backbone into
        segments and plans one memory arena. Without --emit, prints the plan: exits and their
        costs, segments, arena.

          --branches N|all      number of early exits (default 0), or one at every exit candidate
          --exit-at A,B,..      exits after these nodes (exit candidates, in schedule order)
          --confidence C        head (default: a learnt sigmoid head) or softmax (the
                                classifier's max-softmax, no extra layer)
          --distribution D      fine (default), pareto, golden, linear, quadratic
          --exit-block B        conv2 (default), sdn, sconv, conv1, conv3, pool, bnpool, plain
          --cost C              cost convention for placement and cost rates: eenets (default), macs
          --exit-after OPS      only attach exits after these ops, e.g. maxpool (reference VGG)
                                or concat (reference DenseNet); default: every cut point
          --head-linears-only   count only the heads' linear layers in cost rates (the EENets
                                code's FLOPs counter misses the other head layers)
          --weights W           safetensors weights (default: seeded); exit tensors present in W
                                are used, missing ones seeded. A file from eec train or
                                eec calibrate -o brings its exits and thresholds: no other flag needed
          --seed N              seed of default weights (default 0)
          --align N             arena alignment in bytes (default 16)
          --emit ir|dot         print the compiled IR, or Graphviz with segments as clusters
          --emit c -o DIR       write a C library to DIR: <model>.h, <model>.c, <model>_weights.c,
                                eec_runtime.h, eec_runtime.c (see the README, "Compiling to C")
          --emit swift -o DIR   write a SwiftPM package to DIR: Package.swift, Sources/<Model>/
                                <Model>.swift, Weights.swift, Runtime.swift
          --threshold T         the exits' compiled-in threshold (default 0.5); changeable at run time
          --thresholds t0,..    one threshold per exit
          --json                print the plan as one JSON object
          --print-after-all     print the IR after every pass (to stderr)
          --print-after PASS    print the IR after PASS (to stderr)
          --list-passes         list the passes and exit
          -o OUT                write --emit output to OUT
        """,
    valued: exitOptionNames.union(["--weights", "--seed", "--align", "--emit", "--print-after", "-o", "--threshold", "--thresholds"]),
    switches: ["--json", "--print-after-all", "--list-passes", "--head-linears-only"]
) { args, console in
    var options = try CompileOptions(args)
    if args.flags.contains("--list-passes") {
        for pass in options.pipeline.passes { console.print("\(pass.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(pass.summary)") }
        return ExitStatus.ok
    }
    // A usage error, so checked before FILE is read (a missing FILE would otherwise be status 1).
    if let name = options.printAfter, !options.pipeline.passes.contains(where: { $0.name == name }) {
        throw Arguments.UsageError(message: "unknown pass '\(name)' for --print-after; passes: \(options.pipeline.passes.map(\.name).joined(separator: ", "))")
    }
    let graph = try loadGraph(try args.file(), &console)
    // A trained or calibrated file records its exits (and thresholds): flags may repeat them, not contradict them.
    var metadata: [String: String] = [:]
    var fileTensors: [String: Tensor]?
    if let weightsPath = args.options["--weights"] {
        let file = try TrainedWeights.read(weightsPath)
        metadata = file.metadata
        fileTensors = file.tensors
    }
    options.exits = try exitConfiguration(args, recorded: metadata)
    if options.thresholds == nil, let recorded = try recordedThresholds(metadata, source: args.options["--weights"]) {
        options.thresholds = .perExit(recorded)
    }
    let weights: [String: Tensor]
    if let fileTensors, let weightsPath = args.options["--weights"] {
        // Bound against the graph with its exits, so a trained file's exit tensors count as used.
        let withExits: Model
        do {
            withExits = try options.exits.pass.run(Model(graph: graph, weights: fileTensors))
        } catch {
            throw InputError(message: "\(args.positionals[0]): \(error)")
        }
        try warnUnused(withExits.graph, fileTensors, source: weightsPath, &console)
        weights = fileTensors
    } else {
        weights = try loadWeights(graph, path: nil, seed: options.seed, &console)
    }
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
    case .swift(let directory)?:
        try emitSwift(compiled, thresholds: options.thresholds, alignment: options.alignment, directory: directory, &console)
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
    /// The exits the flags ask for; merged with a weights file's recorded exits once it is read.
    var exits: ExitConfiguration
    var headLinearsOnly: Bool
    var seed: UInt64
    var alignment: Int
    /// What `--emit` writes; C needs the folder `-o` names.
    enum Emit {
        case ir, dot, c(directory: String), swift(directory: String)
    }
    var emit: Emit?
    var printAll: Bool
    var printAfter: String?
    var thresholds: ThresholdOption?

    var convention: CostReport.Convention { exits.convention }

    init(_ args: Arguments) throws(Arguments.UsageError) {
        exits = try flagConfiguration(args)
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
        case "swift":
            guard let directory = args.options["-o"] else {
                throw Arguments.UsageError(message: "--emit swift needs -o DIR, the folder to write the Swift package to")
            }
            emit = .swift(directory: directory)
        case let other?:
            throw Arguments.UsageError(message: "option '--emit' expects ir, dot, c or swift, found '\(other)'")
        }
        thresholds = try ThresholdOption.parse(args)
        printAll = args.flags.contains("--print-after-all")
        printAfter = args.options["--print-after"]
    }

    var pipeline: PassPipeline {
        var insert = exits.pass
        insert.seed = seed
        return PassPipeline([insert, FoldBatchNorm(), FuseReLU(), SegmentGraph()])
    }
}

/// `eec.thresholds` of a calibrated file, as an input error when unreadable.
func recordedThresholds(_ metadata: [String: String], source: String?) throws(InputError) -> [Double]? {
    do {
        return try RecordedThresholds.read(metadata)
    } catch {
        throw InputError(message: "\(source ?? "weights"): error: \(error)")
    }
}
