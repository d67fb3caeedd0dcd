import Foundation
import IR
import Passes

/// Reads the samples of `--data` (alias `--input`) with `--mean`/`--std`, limited to `--samples`.
func readData(_ args: ParsedArguments, graph: VerifiedGraph) throws -> (inputs: [Tensor], range: Range<Int>) {
    let path = args[DataOptions.data]
    do {
        let all = try ImageBatch.readInputs(path: path, sampleShape: Array(graph.graph.input.shape.dropFirst()),
                                            normalization: DataOptions.normalization(args))
        let range = args[DataOptions.samples]?.clamped(count: all.count) ?? 0..<all.count
        guard !range.isEmpty else { throw InputError(message: "\(path): error: no samples in the range \(range)") }
        return (Array(all[range]), range)
    } catch let error as FormatError {
        throw InputError(message: error.description)
    }
}

/// The `--labels` of the samples in `range`: the labels go with the whole data file, and
/// `--samples` takes the same slice of both; without it there is one label per sample.
func readLabels(_ args: ParsedArguments, range: Range<Int>, classes: Int) throws(InputError) -> [Int]? {
    guard let path = args[DataOptions.labels] else { return nil }
    let all: [Int]
    do {
        all = try ImageBatch.readLabels(path: path, classes: classes)
    } catch {
        throw InputError(message: error.description)
    }
    let sliced = args.has(DataOptions.samples)
    guard all.count >= range.upperBound, sliced || all.count == range.count else {
        throw InputError(message: "\(path): error: \(all.count) labels for \(sliced ? "samples \(range.lowerBound)..<\(range.upperBound)" : "\(range.count) inputs")")
    }
    return Array(all[range])
}

/// A trained weights file: its tensors and metadata, matched against the graph with exits.
struct TrainedWeights {
    var tensors: [String: Tensor]
    var metadata: [String: String]
    /// Tensors in the file that were not read (their dtype is not a float one), for the unused-tensor warning.
    var skipped: [String] = []

    init(tensors: [String: Tensor], metadata: [String: String]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    init(_ file: SafetensorsFile) {
        self.init(tensors: file.tensors, metadata: file.metadata)
        skipped = file.skipped.map(\.name)
    }

    static func read(_ path: String) throws(InputError) -> TrainedWeights {
        do {
            return TrainedWeights(try SafetensorsFile.read(path: path))
        } catch {
            throw InputError(message: error.description)
        }
    }
}
