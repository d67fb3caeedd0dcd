import Foundation
import IR
import Passes
import Codegen

enum CompileFlags {
    enum Emit: String, CaseIterable, Sendable {
        case ir, dot, c, swift
    }

    static let headLinearsOnly = Option<Bool>.flag("--head-linears-only", help: "count only the heads' linear layers in the plan's cost rates (the EENets code's FLOPs counter misses the other head layers)")
    static let weights = Option<String?>.path("--weights", "W", help: "safetensors weights (default: seeded); exit tensors in W are used, missing ones seeded. A file from eec train or eec calibrate -o brings its exits and thresholds: no other flag needed")
    static let align = Option<Int>("--align", "N", expected: "a power of two from 4 to 4096", default: 16, defaultText: "16",
                                   help: "arena alignment in bytes (the plan, --emit c and swift)") { text in
        guard let n = Int(text), n >= 4, n <= 4096, n & (n - 1) == 0 else { return nil }
        return n
    }
    static let emit = Option<Emit?>.choice("--emit", "ir|dot|c|swift", Emit.allCases.map { ($0.rawValue, Optional($0)) }, default: nil, defaultName: nil,
                                           help: "print the compiled IR, or Graphviz with segments as clusters; or write a C library to the folder -o names (<model>.h, <model>.c, <model>_weights.c, eec_runtime.h, eec_runtime.c; see the README, \"Compiling to C\"), or a SwiftPM package (Package.swift, Sources/<Model>/<Model>.swift, Weights.swift, Runtime.swift)")
    static let out = Option<String?>.path("-o", "OUT", help: "write the plan, or what --emit makes, to OUT (a folder for c and swift) instead of standard output")
    static let json = Option<Bool>.flag("--json", help: "print the plan as one JSON object")
    static let printAfterAll = Option<Bool>.flag("--print-after-all", help: "print the IR after every pass (to stderr)")
    static let printAfter = Option<String?>.choice("--print-after", "PASS", passNames.map { ($0, Optional($0)) }, default: nil, defaultName: nil,
                                                   help: "print the IR after PASS (to stderr): \(passNames.joined(separator: ", "))")
    static let listPasses = Option<Bool>.flag("--list-passes", help: "list the passes and exit").standalone()

    /// The passes in order (each names itself).
    static let passNames = CompileOptions.passes(ExitConfiguration(branches: 0), seed: 0).passes.map(\.name)

    /// `--emit` says what the output is; some options only mean something with one kind of it.
    static let rules: [Rule] = [
        .check { args throws(UsageError) in
            let emit = args[CompileFlags.emit]
            if let emit, emit == .c || emit == .swift, !args.has(CompileFlags.out) {
                throw UsageError(message: emit == .c ? "--emit c needs -o DIR, the folder to write the C files to"
                                                     : "--emit swift needs -o DIR, the folder to write the Swift package to")
            }
            if emit != .c && emit != .swift {
                for option: any DeclaredOption in [ThresholdOptions.threshold, ThresholdOptions.thresholds] where args.has(option) {
                    throw UsageError(message: "\(option.spec.name) sets the thresholds compiled into the code: it needs --emit c or --emit swift")
                }
                if emit != nil && args.has(CompileFlags.align) {
                    throw UsageError(message: "--align sets the arena's alignment: --emit ir and dot have no arena")
                }
            }
            if emit != nil {
                for option: any DeclaredOption in [CompileFlags.json, CompileFlags.headLinearsOnly] where args.has(option) {
                    throw UsageError(message: "\(option.spec.name) shapes the printed plan: it does not go with --emit")
                }
            }
        },
        .conflict(printAfter, printAfterAll, "--print-after-all prints after every pass, --print-after after one; give one"),
    ]
}

let compileCommand = Command(
    name: "compile", summary: "place exits, fuse, segment and plan memory; print the plan, or emit IR, Graphviz, C or Swift",
    options: ExitOptions.all + [CompileFlags.headLinearsOnly, CompileFlags.weights, seedOption, CompileFlags.align,
                                CompileFlags.emit, CompileFlags.out, ThresholdOptions.threshold, ThresholdOptions.thresholds,
                                CompileFlags.json, CompileFlags.printAfterAll, CompileFlags.printAfter,
                                CompileFlags.listPasses],
    rules: ExitOptions.rules + [ExitOptions.needExits(weights: CompileFlags.weights)] + ThresholdOptions.rules + CompileFlags.rules,
    details: """
        Places the exits, inserts their heads, folds BatchNorm, fuses ReLUs, cuts the backbone into
        segments and plans one memory arena. Without --emit, prints the plan: exits and their
        costs, segments, arena.
        """
) { args, console in
    var options = CompileOptions(args)
    if args[CompileFlags.listPasses] {
        for pass in options.pipeline.passes { console.print("\(pass.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(pass.summary)") }
        return ExitStatus.ok
    }
    let graph = try loadGraph(args.file, &console)
    let weightsPath = args[CompileFlags.weights]
    // A trained or calibrated file records its exits (and thresholds): flags may repeat them, not contradict them.
    var metadata: [String: String] = [:]
    var fileTensors: [String: Tensor]?
    // An int8 file (eec quantize -o): the passes run on seeded float weights, the C gets its int8 network.
    var quantized: SafetensorsFile?
    switch try weightsPath.map(WeightsFile.read) {
    case .int8(let file)?: (quantized, metadata) = (file, file.metadata)
    case .float(let file)?: (fileTensors, metadata) = (file.tensors, file.metadata)
    case nil: break
    }
    options.exits = try exitConfiguration(args, recorded: metadata, weightsPath: weightsPath)
    if options.thresholds == nil, let recorded = try recordedThresholds(metadata, source: weightsPath) {
        options.thresholds = .perExit(recorded)
    }
    let weights: [String: Tensor]
    if quantized != nil {
        weights = WeightBinder.seeded(graph, seed: options.seed)
    } else if let fileTensors, let weightsPath {
        // Bound against the graph with its exits, so a trained file's exit tensors count as used
        // and the heads a backbone-only file lacks are the seeded ones the passes will add.
        let withExits: Model
        do {
            withExits = try options.exits.pass(seed: options.seed).run(Model(graph: graph, weights: fileTensors))
        } catch {
            throw InputError(message: "\(args.file): \(error)")
        }
        try warnUnused(withExits.graph, withExits.weights, source: weightsPath, &console)
        let seededHeads = withExits.weights.keys.filter { fileTensors[$0] == nil }.count
        if seededHeads > 0 {
            console.error("\(weightsPath): note: \(seededHeads) exit-head tensors are not in the file and are seeded (seed \(options.seed)): the exits are untrained; eec train trains them")
        }
        weights = fileTensors
    } else {
        weights = try loadWeights(graph, from: nil, seed: options.seed, &console)
    }
    var withExits: VerifiedGraph?
    let compiled: Model
    do {
        compiled = try options.pipeline.run(Model(graph: graph, weights: weights)) { pass, model in
            if pass == "insert-exits" { withExits = model.graph }
            if args[CompileFlags.printAfterAll] || args[CompileFlags.printAfter] == pass {
                console.error("# ----- IR after \(pass) -----\n" + Printer.print(model.graph.graph))
            }
        }
    } catch {
        throw InputError(message: "\(args.file): \(error)")
    }
    let plan = CompilePlan(original: graph, withExits: withExits ?? graph, compiled: compiled.graph,
                           options: options)
    // The folder --emit c and swift write to (the rules require -o with them).
    let directory = args[CompileFlags.out] ?? ""
    switch args[CompileFlags.emit] {
    case .ir?:
        try emit(Printer.print(compiled.graph.graph), args, &console)
    case .dot?:
        try emit(DotEmitter.emit(compiled.graph), args, &console)
    case .c?:
        try emitC(compiled, thresholds: options.thresholds, alignment: options.alignment, directory: directory, &console,
                  integer: try quantized.map { file throws(InputError) in try QuantizedWeights.program(file, compiled: compiled) })
    case .swift? where quantized != nil:
        throw InputError(message: "\(weightsPath ?? ""): error: an int8 network compiles to C only (--emit c); the Swift backend prints float32 networks")
    case .swift?:
        try emitSwift(compiled, thresholds: options.thresholds, alignment: options.alignment, directory: directory, &console)
    case nil:
        try emit(args[CompileFlags.json] ? plan.json.text + "\n" : plan.table, args, &console)
    }
    return ExitStatus.ok
}

func emit(_ text: String, _ args: ParsedArguments, _ console: inout Console) throws(InputError) {
    if let out = args[CompileFlags.out] { try writeFile(out, text) } else { console.write(text) }
}

/// What `eec compile` settles beyond the flags: the exits and thresholds, once merged with what a
/// weights file records; and what the plan reads.
struct CompileOptions {
    /// The exits the flags ask for; merged with a weights file's recorded exits once it is read.
    var exits: ExitConfiguration
    var headLinearsOnly: Bool
    var seed: UInt64
    var alignment: Int
    var thresholds: ThresholdOption?

    var convention: CostReport.Convention { exits.convention }

    init(_ args: ParsedArguments) {
        exits = flagConfiguration(args)
        headLinearsOnly = args[CompileFlags.headLinearsOnly]
        seed = args[seedOption]
        alignment = args[CompileFlags.align]
        thresholds = ThresholdOption(args)
    }

    var pipeline: PassPipeline { Self.passes(exits, seed: seed) }

    static func passes(_ exits: ExitConfiguration, seed: UInt64) -> PassPipeline {
        PassPipeline.inserting(exits.pass(seed: seed))
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
