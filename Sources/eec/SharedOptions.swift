import IR
import Passes

/// Options several commands take, declared once. A command that describes one differently
/// says so with `.help(...)`; the value kind, default and checks stay the same.

/// Where the exits go and what they are (train, calibrate, run, compile, bench-c --target).
enum ExitOptions {
    enum Branches: Sendable, Equatable {
        case count(Int)
        case all
    }

    static let branches = Option<Branches?>("--branches", "N|all", expected: "a number from 0 to 1000 or 'all'", default: nil,
                                            defaultText: "0", help: "number of early exits, or 'all': one at every exit candidate") { text in
        if text == "all" { return .all }
        guard let n = Int(text), (0...1000).contains(n) else { return nil }
        return .count(n)
    }
    static let exitAt = Option<[String]?>.names("--exit-at", "A,B,..", help: "exits after these nodes (exit candidates, in schedule order)")
    static let distribution = Option<Distribution>.choice("--distribution", "D", default: Distribution.fine,
                                            help: "where N exits go: fine, pareto, golden, linear, quadratic (see the README, \"Exits\")")
    static let block = Option<ExitBlock>.choice("--exit-block", "B", ExitBlock.names.compactMap { name in ExitBlock(name).map { (name, $0) } },
                                     default: ExitBlock.conv(2), defaultName: "conv2",
                                     help: "the exit head: \(ExitBlock.names.joined(separator: ", ")) (see the README, \"Exits\")")
    static let cost = Option<CostReport.Convention>.choice("--cost", "C", default: CostReport.Convention.eenets,
                                    help: "cost convention for placement and cost rates: eenets or macs")
    static let exitAfter = Option<Set<OpKind>?>("--exit-after", "OPS", expected: "op names separated by commas, such as maxpool or concat",
                                                default: nil, defaultText: nil,
                                                help: "only attach exits after these ops, e.g. maxpool (reference VGG) or concat (reference DenseNet); default: every cut point") { text in
        var ops = Set<OpKind>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let op = OpKind(rawValue: String(part)) else { return nil }
            ops.insert(op)
        }
        return ops
    }
    static let confidence = Option<ExitConfidence>.choice("--confidence", "C", default: ExitConfidence.head,
                                          help: "head (a learnt sigmoid head) or softmax (the classifier's max-softmax, no extra layer)")

    static let all: [any DeclaredOption] = [branches, exitAt, distribution, block, cost, exitAfter, confidence]
    static let rules: [Rule] = [
        .conflict(exitAt, branches, "--exit-at and --branches both say where the exits go; give one"),
        .check { args throws(UsageError) in
            if args.has(distribution) && (args.has(exitAt) || args[branches] == .all) {
                throw UsageError(message: "--distribution places N exits (--branches N); \(args.has(exitAt) ? "--exit-at names them" : "--branches all puts one at every candidate")")
            }
        },
    ]

    /// Options that shape the exits, and so mean nothing without any.
    static let shaping: [any DeclaredOption] = [distribution, block, exitAfter, confidence]

    /// For a command whose exits come from the flags or from `weights`: shaping options given
    /// with neither are unused.
    static func needExits(weights: Option<String?>) -> Rule {
        .check { args throws(UsageError) in
            guard !args.has(weights), count(args) == 0 || (count(args) == nil && args[branches] != .all) else { return }
            for option in shaping where args.has(option) {
                throw UsageError(message: "\(option.spec.name) shapes the exits, but there are none: give --branches N, --branches all or --exit-at (or --weights with trained exits)")
            }
        }
    }

    /// The number of exits the flags alone fix, when they do (`--branches N` or `--exit-at`).
    static func count(_ args: ParsedArguments) -> Int? {
        if let names = args[exitAt] { return names.count }
        if case .count(let n)? = args[branches] { return n }
        return nil
    }
}

/// The exit configuration the flags alone describe.
func flagConfiguration(_ args: ParsedArguments, defaultBranches: Int = 0) -> ExitConfiguration {
    var sites = ExitSites.distribution
    var branches = defaultBranches
    switch args[ExitOptions.branches] {
    case .all?: sites = .everyCandidate
    case .count(let n)?: branches = n
    case nil: break
    }
    if let names = args[ExitOptions.exitAt] {
        sites = .named(names)
        branches = names.count
    }
    return ExitConfiguration(branches: branches, distribution: args[ExitOptions.distribution], block: args[ExitOptions.block],
                             convention: args[ExitOptions.cost], candidateOps: args[ExitOptions.exitAfter], sites: sites,
                             confidence: args[ExitOptions.confidence])
}

extension ExitConfiguration {
    /// The pass inserting these exits, seeding the heads a weights file does not hold with
    /// `seed`: every command makes the same heads from the same `--seed`.
    func pass(seed: UInt64) -> InsertExits {
        var insert = pass
        insert.seed = seed
        return insert
    }
}

/// The exit options merged with what a trained weights file (`weightsPath`) records: flags may
/// repeat the recorded values, never contradict them.
func exitConfiguration(_ args: ParsedArguments, recorded: [String: String], weightsPath: String?) throws -> ExitConfiguration {
    let fromFlags = flagConfiguration(args)
    let stored: ExitConfiguration?
    do {
        stored = try ExitConfiguration(metadata: recorded)
    } catch {
        throw InputError(message: "\(weightsPath ?? "weights"): error: \(error)")
    }
    guard let stored else { return fromFlags }
    let conflicts = flagConflicts(args, flags: fromFlags, recorded: stored)
    guard conflicts.isEmpty else {
        throw InputError(message: "\(weightsPath ?? "weights"): error: the file was trained with other exits: \(conflicts.joined(separator: "; "))")
    }
    return stored
}

/// Each exit option given that differs from what the file records.
private func flagConflicts(_ args: ParsedArguments, flags: ExitConfiguration, recorded: ExitConfiguration) -> [String] {
    typealias O = ExitOptions
    var out: [String] = []
    if args.has(O.branches), flags.sites == .distribution, flags.branches != recorded.branches {
        out.append("\(O.branches.name) \(flags.branches) (trained with \(recorded.branches))")
    }
    if args.has(O.distribution), flags.distribution != recorded.distribution {
        out.append("\(O.distribution.name) \(flags.distribution.rawValue) (trained with \(recorded.distribution.rawValue))")
    }
    if args.has(O.block), flags.block != recorded.block { out.append("\(O.block.name) \(flags.block) (trained with \(recorded.block))") }
    if args.has(O.cost), flags.convention != recorded.convention {
        out.append("\(O.cost.name) \(flags.convention.rawValue) (trained with \(recorded.convention.rawValue))")
    }
    if args.has(O.exitAfter), flags.candidateOps != recorded.candidateOps {
        out.append("\(O.exitAfter.name) (trained with \(recorded.metadata["eec.exit_after"] ?? "every cut point"))")
    }
    if args.has(O.confidence), flags.confidence != recorded.confidence {
        out.append("\(O.confidence.name) \(flags.confidence.rawValue) (trained with \(recorded.confidence.rawValue))")
    }
    if args.has(O.exitAt) || (args.has(O.branches) && flags.sites == .everyCandidate), flags.sites != recorded.sites {
        out.append("exits at \(flags.metadata["eec.exit_at"] ?? "the distribution's points") (trained with exits after \(recorded.metadata["eec.exit_at"] ?? "the distribution's points"))")
    }
    return out
}

/// A batch of images and what goes with it (train, calibrate, run).
enum DataOptions {
    static let data = Option<String?>.path("--data", "X.npy",
                                  help: "the samples: uint8 images [N,H,W,C] (scaled by 1/255 and made CHW, as PyTorch's ToTensor does) or float32 [N,C,H,W] used as they are")
        .aliases("--input").required(unused: "")
    static let mean = Option<[Float]?>.numbers("--mean", "M", help: "per-channel mean subtracted after scaling, e.g. 0.485,0.456,0.406 (with --std)")
    static let std = Option<[Float]?>.numbers("--std", "S", help: "per-channel standard deviation divided by after scaling, e.g. 0.229,0.224,0.225 (with --mean)")
    static let samples = Option<SampleRange?>.range("--samples", help: "use samples A..<B of the data (and labels) only; either end may be left out")
    static let labels = Option<String?>.path("--labels", "Y.npy", help: "int64 or uint8 [N] labels: report the accuracy")

    static let rules: [Rule] = [.together(mean, std)]

    /// `--mean M --std S`; nil when neither is given.
    static func normalization(_ args: ParsedArguments) -> ImageBatch.Normalization? {
        guard let mean = args[mean], let std = args[std] else { return nil }
        return ImageBatch.Normalization(mean: mean, std: std)
    }
}

/// The exits' thresholds (run, compile).
enum ThresholdOptions {
    static let threshold = Option<Double?>("--threshold", "T", expected: "thresholds from 0 to 1", default: nil, defaultText: nil,
                                           help: "every exit's threshold: an exit answers when its confidence reaches T (default: the thresholds recorded by eec calibrate -o, else 0.5)",
                                           convert: probability)
    static let thresholds = Option<[Double]?>("--thresholds", "t0,t1,..", expected: "thresholds from 0 to 1 separated by commas", default: nil,
                                              defaultText: nil, help: "one threshold per exit") { text in
        var values: [Double] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let t = probability(String(part)) else { return nil }
            values.append(t)
        }
        return values
    }

    static let rules: [Rule] = [
        .conflict(threshold, thresholds, "give --threshold T or --thresholds t0,t1,.., not both"),
        // Checked here when the flags alone fix the number of exits; else once the weights are read.
        .check { args throws(UsageError) in
            if let values = args[thresholds], let exits = ExitOptions.count(args) { _ = try ThresholdOption.perExit(values).resolve(exits: exits) }
        },
    ]

    private static func probability(_ text: String) -> Double? {
        guard let t = Double(text.trimmingCharacters(in: .whitespaces)), t >= 0, t <= 1 else { return nil }
        return t
    }
}

/// `--seed`, the seed of whatever weights are made up (and of training's shuffling).
let seedOption = Option<UInt64>.uint64("--seed", default: 0, help: "seed of the weights not read from a file (the default weights and missing exit heads)")

/// `--backend` of train and calibrate: nil means the generated C when a C compiler is found.
let exitsBackendOption = Option<EarlyExitRun.Backend?>.choice(
    "--backend", "c|interp", EarlyExitRun.Backend.allCases.map { ($0.rawValue, Optional($0)) }, default: nil, defaultName: nil,
    help: "run the network in the generated C (c, the default when clang or $CC is found) or in the reference interpreter (interp, many times slower)")
