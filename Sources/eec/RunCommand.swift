import Foundation
import IR

enum RunOptions {
    enum Backend: String, CaseIterable, Sendable {
        case interp, c, swift
        case cortexM4 = "cortex-m4"
    }

    static let weights = Option<String?>.path("--weights", "W", help: "safetensors with the graph's tensors by name (default: seeded); a file from eec train or eec calibrate -o brings its exits and thresholds")
    static let output = Option<String?>.path("--output", "Y.npy", help: "write the final logits, float32 [N, classes]; with exits, the answering classifier's")
    static let exits = Option<String?>.path("--exits", "E.npy", help: "write the exit each sample left at, int64 [N] (N exits = the final one)")
    static let backend = Option<Backend>.choice("--backend", "B", default: Backend.interp, help: """
        interp: the reference interpreter; c: the generated C, compiled with clang (or $CC) -O3 -march=native in .eec-cache/ \
        ($EEC_CACHE_DIR overrides) and really exiting early; swift: the generated Swift package, built with swift build -c release \
        in .eec-cache/; cortex-m4: that C as firmware for a Cortex-M4F run in qemu-system-arm (mps2-an386), with the instructions \
        per inference (QEMU -icount: deterministic, not cycles), flash, RAM and the stack's high-water mark
        """)
    static let json = Option<Bool>.flag("--json", help: """
        print one JSON object: samples, accuracy, backbone_accuracy, agreement, macs_ratio (MACs spent / the backbone's, heads \
        included), ms_per_sample, backbone_ms_per_sample (the backbone alone, timed in the same run), time_ratio, thresholds, \
        exits (the histogram, the final one last); with cortex-m4 also instructions_per_sample, instructions_mean, \
        instructions_per_exit, backbone_instructions, flash_bytes, stack_bytes_used, ..
        """)
}

let runCommand = Command(
    name: "run", summary: "run a batch through the reference interpreter, or as the early-exit network in the generated C or Swift",
    options: [DataOptions.data, RunOptions.weights, DataOptions.mean, DataOptions.std, DataOptions.labels, DataOptions.samples,
              RunOptions.output, RunOptions.exits, seedOption, RunOptions.backend] + ExitOptions.all
        + [ThresholdOptions.threshold, ThresholdOptions.thresholds, RunOptions.json],
    rules: DataOptions.rules + ExitOptions.rules + [ExitOptions.needExits(weights: RunOptions.weights)] + ThresholdOptions.rules,
    details: """
        Prints each sample's predicted class (up to 100 samples, and without --output). With exits
        (--branches, or recorded in trained weights), a threshold, --exits, --json or a backend
        other than interp, runs it as the early-exit network: prints where samples left, the
        agreement with the backbone's own prediction, the accuracy against --labels, the mean cost
        rate and the time per sample against the backbone's, timed in the same run.
        """
) { args, console in
    let graph = try loadGraph(args.file, &console)
    let weightsPath = args[RunOptions.weights]
    let file = try weightsPath.map(WeightsFile.read)
    if EarlyExitRun.wanted(args, weights: file) { return try EarlyExitRun.run(args, backbone: graph, weights: file, &console) }
    // Here the file is a float one: an int8 network runs as the early-exit network.
    let trained: (path: String, weights: TrainedWeights)? = if case .float(let weights)? = file, let weightsPath { (weightsPath, weights) } else { nil }
    let weights = try loadWeights(graph, from: trained, seed: args[seedOption], &console)
    let bound = try bind(graph, weights, source: weightsPath ?? "seeded weights")
    let (inputs, range) = try readData(args, graph: graph)
    let inputPath = args[DataOptions.data]
    let labels = try readLabels(args, range: range, classes: graph.classes)
    warnNonFinite(inputs, source: inputPath, &console)
    let interpreter = Interpreter(graph, weights: bound)
    var logits: [Float] = []
    var correct = 0
    let start = Date()
    for (n, input) in inputs.enumerated() {
        let result = interpreter.run(input)
        logits += result.logits.data
        let predicted = argmax(result.logits.data)
        if let labels, labels[n] == predicted { correct += 1 }
        if args[RunOptions.output] == nil && inputs.count <= 100 { console.print("\(n): \(describeClass(predicted))") }
    }
    let seconds = Date().timeIntervalSince(start)
    console.print("\(inputs.count) samples, \(String(format: "%.1f", seconds * 1000 / Double(max(1, inputs.count)))) ms per sample (reference interpreter)")
    if let labels {
        console.print("accuracy: \(String(format: "%.2f", 100 * Double(correct) / Double(max(1, labels.count))))% (\(correct)/\(labels.count))")
    }
    if let out = args[RunOptions.output] {
        do {
            try NPYArray(Tensor(shape: [inputs.count, graph.classes], data: logits)).write(to: out)
        } catch {
            throw InputError(message: "\(error)")
        }
    }
    return ExitStatus.ok
}

/// The class an answer gives: the index of the largest logit (the first on ties, as
/// torch.argmax), or `noClass` when a logit is NaN, as the C runtime's EEC_NO_CLASS: a NaN or
/// infinite input propagates to the logits, and class 0 would be a silent wrong answer.
func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices {
        if values[i].isNaN { return noClass }
        if values[i] > values[best] { best = i }
    }
    return best
}

/// The class of an answer whose logits hold a NaN (EEC_NO_CLASS in C).
let noClass = -1

/// How a sample's answer is printed.
func describeClass(_ c: Int) -> String { c == noClass ? "no class (NaN logits: the input holds NaN or infinite values)" : "class \(c)" }

/// Warns about samples holding NaN or infinite values; returns how many do.
@discardableResult
func warnNonFinite(_ inputs: [Tensor], source: String, _ console: inout Console) -> Int {
    let bad = inputs.indices.filter { inputs[$0].data.contains { !$0.isFinite } }
    if !bad.isEmpty {
        let shown = bad.prefix(5).map(String.init).joined(separator: ", ")
        console.error("\(source): warning: \(bad.count) of \(inputs.count) samples hold NaN or infinite values (sample\(bad.count == 1 ? "" : "s") \(shown)\(bad.count > 5 ? ", ..." : "")); they get no class and count as wrong")
    }
    return bad.count
}
