import Foundation
import IR
import Passes
import Codegen
import Quantize

enum QuantizeOptions {
    static let weights = Option<String?>.path("--weights", "W", help: "the float weights: a backbone, or a trained or calibrated file whose exits (and thresholds) are quantized too (default: seeded weights, with a note)")
    static let ranges = Option<RangeMethod>.choice("--ranges", "minmax|percentile|mse", default: RangeMethod.minmax,
                                                    help: "how each activation's range is taken from the calibration images: min/max, the 0.01-99.99 % quantiles, or the clipping of least squared error")
    static let out = Option<String?>.path("-o", "Q.safetensors", help: "the int8 network: int8 weights, int32 biases, scales and zero points (docs/quantization.md); eec compile and run --weights take it").required(unused: "")
}

let quantizeCommand = Command(
    name: "quantize", summary: "quantize a network to int8 (weights per channel, activations calibrated on images)",
    options: [QuantizeOptions.weights, seedOption, DataOptions.data, DataOptions.samples, DataOptions.mean, DataOptions.std, QuantizeOptions.ranges,
              QuantizeOptions.out, exitsBackendOption] + ExitOptions.all,
    rules: DataOptions.rules + ExitOptions.rules,
    details: """
        Post-training quantization: BatchNorm is folded and ReLUs fused first (as eec compile does),
        then every activation's range is observed on the --data images (in the generated C, or the
        reference interpreter with --backend interp) and the network is quantized: weights symmetric
        int8 per output channel, biases int32, activations asymmetric uint8 per tensor, the outputs
        (logits, confidence logits) at power-of-two scales. The exits recorded in the weights file
        are quantized with the backbone. Write it with -o; compile it with
        eec compile FILE --weights Q.safetensors --emit c, run it with eec run --weights Q.safetensors.
        """
) { args, console in
    let path = args.file
    let weightsPath = args[QuantizeOptions.weights]
    let method = args[QuantizeOptions.ranges]
    let backend = EarlyExitRun.Backend.forExits(args, command: "quantize", &console)
    let backbone = try loadGraph(path, &console)
    let file: TrainedWeights
    if let weightsPath {
        file = try TrainedWeights.read(weightsPath)
    } else {
        file = TrainedWeights(tensors: try loadWeights(backbone, from: nil, seed: args[seedOption], &console), metadata: [:])
    }
    if QuantizedFile.isQuantized(file.metadata) { throw InputError(message: "\(weightsPath ?? ""): error: the file is already quantized") }
    let configuration = try exitConfiguration(args, recorded: file.metadata, weightsPath: weightsPath)
    let compiled: Model
    do {
        let withExits = try configuration.pass(seed: args[seedOption]).run(Model(graph: backbone, weights: file.tensors))
        compiled = try PassPipeline.afterExits.run(withExits)
    } catch {
        throw InputError(message: "\(path): \(error)")
    }
    let bound = try bind(compiled.graph, compiled.weights, source: weightsPath ?? "seeded weights")
    let (inputs, range) = try readData(args, graph: backbone)
    let graph = compiled.graph.graph
    let start = Date()
    let progress = Progress(console: console)
    let network = try QuantizedWeights.quantize(compiled, bound: bound, inputs: inputs, method: method, backend: backend, path: path) {
        progress.bar("calibrating", $0, inputs.count, "")
    }.network
    progress.finishBar()
    let seconds = Date().timeIntervalSince(start)
    var metadata = file.metadata
    // Exits asked for by flags are recorded as a trained file records them, so compile and run find them.
    if metadata["eec.branches"] == nil && !graph.exits.isEmpty { metadata.merge(configuration.metadata) { old, _ in old } }
    metadata["eec.quantize.ranges"] = method.rawValue
    metadata["eec.quantize.samples"] = "\(range.lowerBound):\(range.upperBound)"
    let (floats, integers, meta) = QuantizedFile.encode(network, metadata: metadata)
    let out = args[QuantizeOptions.out]
    do {
        try SafetensorsFile.write(tensors: floats, integers: integers, metadata: meta, to: out)
    } catch {
        throw InputError(message: "\(error)")
    }
    let floatBytes = network.layers.values.reduce(0) { $0 + 4 * $1.weights.count }
    console.print("\(graph.model): \(network.layers.count) layers quantized, \(graph.exits.count) exit\(graph.exits.count == 1 ? "" : "s"); ranges \(method.rawValue) over \(inputs.count) images in \(String(format: "%.1f", seconds)) s (\(backend == .c ? "generated C" : "reference interpreter"))")
    console.print("weights: \(grouped(network.weightBytes)) bytes int8 (float32: \(grouped(floatBytes))); wrote \(out)")
    return ExitStatus.ok
}

/// An int8 weights file (`eec quantize -o`) for compile and run: the graph is compiled with
/// seeded float weights (the passes read only its structure), then the file's int8 network is
/// matched against the compiled graph by node name and shape.
enum QuantizedWeights {
    /// Calibrates every activation of `compiled` (after the passes) on `inputs`, in the generated
    /// C (a harness streaming every tensor out) or the reference interpreter, and quantizes it;
    /// the result is the int8 program, so a network that cannot be run is an error here.
    static func quantize(_ compiled: Model, bound: BoundWeights, inputs: [Tensor], method: RangeMethod, backend: EarlyExitRun.Backend,
                         path: String, progress: (Int) -> Void = { _ in }) throws -> IntegerProgram {
        let graph = compiled.graph.graph
        let needed = graph.ancestors(of: [graph.output.name] + graph.exits.flatMap { [$0.classifier, $0.confidence] })
        let names = [graph.input.name] + graph.nodes.indices.filter { needed[$0] }.map { graph.nodes[$0].name }
        var collector: RangeCollector
        switch backend {
        case .interp:
            collector = Calibration.interpret(compiled.graph, weights: bound, inputs: inputs, method: method)
        case .c:
            collector = RangeCollector(method: method, counts: Calibration.counts(compiled.graph), images: inputs.count)
            do {
                let harness = try CHarness(dumping: names, of: compiled, toolchain: try CToolchain.find(), cacheRoot: try cacheRoot())
                _ = try harness.dump(inputs, tensors: names, progress: progress) { values, _, _ in
                    for (name, v) in zip(names, values) { collector.observe(name, v) }
                }
            } catch let error as CodegenError {
                throw InputError(message: "eec: \(error)")
            }
        }
        do {
            let observed = collector
            return try IntegerProgram(Quantizer.quantize(compiled.graph, weights: bound, ranges: { observed.range($0, method: method) }))
        } catch {
            throw InputError(message: "\(path): error: \(error)")
        }
    }

    /// The int8 program of `compiled` (after the passes) from the file.
    static func program(_ file: SafetensorsFile, compiled: Model) throws(InputError) -> IntegerProgram {
        do {
            return try IntegerProgram(QuantizedFile.decode(file, graph: compiled.graph))
        } catch {
            throw InputError(message: error.description)
        }
    }
}

/// The `--weights` file of compile and run, read once: float tensors (a backbone, or a trained or
/// calibrated file), or an int8 network (`eec quantize -o`), told apart by its metadata.
enum WeightsFile {
    case float(TrainedWeights)
    case int8(SafetensorsFile)

    static func read(_ path: String) throws(InputError) -> WeightsFile {
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile.read(path: path)
        } catch {
            throw InputError(message: error.description)
        }
        return QuantizedFile.isQuantized(file.metadata) ? .int8(file) : .float(TrainedWeights(file))
    }
}
