import Foundation
import IR
import Passes

/// The exit options shared by train, calibrate, run and compile, merged with what a trained
/// weights file records: flags may repeat the recorded values, never contradict them.
func exitConfiguration(_ args: Arguments, recorded: [String: String]) throws -> ExitConfiguration {
    let fromFlags = try flagConfiguration(args)
    let given = Set(args.options.keys)
    let stored: ExitConfiguration?
    do {
        stored = try ExitConfiguration(metadata: recorded)
    } catch {
        throw InputError(message: "\(args.options["--weights"] ?? "weights"): error: \(error)")
    }
    guard let stored else { return fromFlags }
    let conflicts = stored.conflicts(with: fromFlags, given: given)
    guard conflicts.isEmpty else {
        throw InputError(message: "\(args.options["--weights"] ?? "weights"): error: the file was trained with other exits: \(conflicts.joined(separator: "; "))")
    }
    return stored
}

/// The exit configuration the flags alone describe.
func flagConfiguration(_ args: Arguments) throws(Arguments.UsageError) -> ExitConfiguration {
    let branchText = args.options["--branches"] ?? "0"
    var sites = ExitSites.distribution
    var branches = 0
    if branchText == "all" {
        sites = .everyCandidate
    } else {
        guard let count = Int(branchText), count >= 0, count <= 1000 else {
            throw Arguments.UsageError(message: "option '--branches' expects a number from 0 to 1000 or 'all', found '\(branchText)'")
        }
        branches = count
    }
    if let text = args.options["--exit-at"] {
        guard args.options["--branches"] == nil else {
            throw Arguments.UsageError(message: "--exit-at and --branches both say where the exits go; give one")
        }
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
        guard !names.contains(where: \.isEmpty) else {
            throw Arguments.UsageError(message: "option '--exit-at' expects node names separated by commas, found '\(text)'")
        }
        sites = .named(names)
        branches = names.count
    }
    let distribution = try args.choice("--distribution", default: Distribution.fine, Distribution.allCases)
    let blockText = args.options["--exit-block"] ?? "conv2"
    guard let block = ExitBlock(blockText) else {
        throw Arguments.UsageError(message: "option '--exit-block' expects one of \(ExitBlock.names.joined(separator: ", ")), found '\(blockText)'")
    }
    let convention = try args.choice("--cost", default: CostReport.Convention.eenets, CostReport.Convention.allCases)
    let confidence = try args.choice("--confidence", default: ExitConfidence.head, ExitConfidence.allCases)
    var ops: Set<OpKind>?
    if let text = args.options["--exit-after"] {
        var set = Set<OpKind>()
        for part in text.split(separator: ",") {
            guard let op = OpKind(rawValue: String(part)) else {
                throw Arguments.UsageError(message: "option '--exit-after' expects op names such as maxpool or concat, found '\(part)'")
            }
            set.insert(op)
        }
        ops = set
    }
    return ExitConfiguration(branches: branches, distribution: distribution, block: block, convention: convention,
                             candidateOps: ops, sites: sites, confidence: confidence)
}

/// Options naming the exits (used by several commands' `valued` sets).
let exitOptionNames: Set<String> = ["--branches", "--distribution", "--exit-block", "--cost", "--exit-after", "--exit-at", "--confidence"]

/// `--samples A:B`: the half-open range of samples to use from a data file.
func sampleRange(_ args: Arguments, count: Int) throws(Arguments.UsageError) -> Range<Int> {
    guard let text = args.options["--samples"] else { return 0..<count }
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    let low = parts.first.map(String.init) ?? "", high = parts.count > 1 ? String(parts[1]) : ""
    guard parts.count == 2, let a = Int(low.isEmpty ? "0" : low), let b = Int(high.isEmpty ? String(count) : high),
          a >= 0, a < b else {
        throw Arguments.UsageError(message: "option '--samples' expects A:B with 0 <= A < B, found '\(text)'")
    }
    return a..<min(b, count)
}

/// `--mean M --std S`, which go together; nil when neither is given.
func normalizationOption(_ args: Arguments) throws(Arguments.UsageError) -> ImageBatch.Normalization? {
    let mean = try args.floats("--mean"), std = try args.floats("--std")
    guard (mean == nil) == (std == nil) else { throw Arguments.UsageError(message: "--mean and --std go together") }
    return mean.flatMap { m in std.map { ImageBatch.Normalization(mean: m, std: $0) } }
}

/// Reads the input batch of `--data` (or `--input`) with `--mean`/`--std`, limited to `--samples`.
func readData(_ args: Arguments, option: String, graph: VerifiedGraph) throws -> (inputs: [Tensor], range: Range<Int>) {
    guard let path = args.options[option] else { throw Arguments.UsageError(message: "missing \(option) FILE.npy") }
    let normalization = try normalizationOption(args)
    do {
        let all = try ImageBatch.readInputs(path: path, sampleShape: Array(graph.graph.input.shape.dropFirst()), normalization: normalization)
        let range = try sampleRange(args, count: all.count)
        guard !range.isEmpty else { throw InputError(message: "\(path): error: no samples in the range \(range)") }
        return (Array(all[range]), range)
    } catch let error as FormatError {
        throw InputError(message: error.description)
    }
}

/// A trained weights file: its tensors and metadata, matched against the graph with exits.
struct TrainedWeights {
    var tensors: [String: Tensor]
    var metadata: [String: String]

    static func read(_ path: String) throws(InputError) -> TrainedWeights {
        do {
            let file = try SafetensorsFile.read(path: path)
            return TrainedWeights(tensors: file.tensors, metadata: file.metadata)
        } catch {
            throw InputError(message: error.description)
        }
    }
}
