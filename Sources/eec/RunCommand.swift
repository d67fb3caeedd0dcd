import Foundation
import IR

let runCommand = Command(
    name: "run",
    help: """
        usage: eec run FILE --input X.npy [--weights W.safetensors] [--mean M] [--std S]
                      [--labels Y.npy] [--output Y.npy] [--seed N] [--backend interp|c|swift|cortex-m4]
                      [--branches N ...] [--threshold T | --thresholds t0,t1,..] [--exits E.npy]
                      [--samples A:B] [--json]

        Runs a batch through the reference interpreter and prints each sample's predicted class.
        With exits (--branches, or recorded in trained weights), a threshold, or --backend c, runs
        it as the early-exit network: prints where samples left, the agreement with the backbone's
        own prediction, the accuracy against --labels, the mean cost rate and the time per sample.

          --input X.npy        uint8 images [N,H,W,C] (scaled by 1/255 and made CHW, as PyTorch's
                               ToTensor does) or float32 [N,C,H,W] used as they are
          --mean M, --std S    per-channel normalization after scaling, e.g. 0.485,0.456,0.406
          --weights W          safetensors with the graph's tensors by name (default: seeded)
          --labels Y.npy       int64 or uint8 [N] labels: report the accuracy
          --output Y.npy       write the final logits, float32 [N, classes]
          --seed N             seed of the default weights (default 0)
          --backend interp|c   the reference interpreter (default), or the generated C, compiled with
                               clang (or $CC) -O3 -march=native in .eec-cache/ ($EEC_CACHE_DIR
                               overrides) and really exiting early; or cortex-m4: that C as firmware for a
                               Cortex-M4F run in qemu-system-arm (mps2-an386), with the instructions per
                               inference (QEMU -icount: deterministic, not cycles), flash, RAM and the
                               stack's high-water mark (--json: instructions_per_sample, instructions_mean,
                               instructions_per_exit, backbone_instructions, flash_bytes, stack_bytes_used, ..)
          --backend swift      the generated Swift package, built with swift build -c release in .eec-cache/
          --branches N, --distribution D, --exit-block B, --cost C, --exit-after OPS
                               the exits, as for eec compile
          --threshold T        exit when the confidence reaches T (default: the thresholds recorded by
                               eec calibrate -o, else 0.5); --thresholds: one per exit
          --samples A:B        run samples A..<B of the input (and labels) only
          --json               print one JSON object: samples, accuracy, backbone_accuracy, agreement,
                               macs_ratio (MACs spent / the backbone's, heads included), ms_per_sample,
                               backbone_ms_per_sample (the backbone alone, timed in the same run),
                               time_ratio, thresholds, exits (the histogram, the final one last)
          --exits E.npy        write the exit each sample left at, int64 [N] (N exits = the final one)
          With exits, --output holds the answering classifier's logits.
        """,
    valued: exitOptionNames.union(["--input", "--weights", "--mean", "--std", "--labels", "--output", "--seed",
                                   "--backend", "--threshold", "--thresholds", "--exits", "--samples"]),
    switches: ["--json"]
) { args, console in
    if EarlyExitRun.wanted(args) { return try EarlyExitRun.run(args, &console) }
    let path = try args.file()
    guard let inputPath = args.options["--input"] else { throw Arguments.UsageError(message: "missing --input X.npy") }
    let normalization = try normalizationOption(args)
    let seed = try seedOption(args)
    let graph = try loadGraph(path, &console)
    let weights = try loadWeights(graph, path: args.options["--weights"], seed: seed, &console)
    let bound = try bind(graph, weights, source: args.options["--weights"] ?? "seeded weights")
    let sample = Array(graph.graph.input.shape.dropFirst())
    let inputs: [Tensor]
    var labels: [Int]?
    do {
        inputs = try ImageBatch.readInputs(path: inputPath, sampleShape: sample, normalization: normalization)
        if let labelPath = args.options["--labels"] {
            labels = try ImageBatch.readLabels(path: labelPath, classes: graph.classes)
            guard labels?.count == inputs.count else {
                throw InputError(message: "\(labelPath): error: \(labels?.count ?? 0) labels for \(inputs.count) inputs")
            }
        }
    } catch let error as FormatError {
        throw InputError(message: error.description)
    }
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
        if args.options["--output"] == nil && inputs.count <= 100 { console.print("\(n): \(describeClass(predicted))") }
    }
    let seconds = Date().timeIntervalSince(start)
    console.print("\(inputs.count) samples, \(String(format: "%.1f", seconds * 1000 / Double(max(1, inputs.count)))) ms per sample (reference interpreter)")
    if let labels {
        console.print("accuracy: \(String(format: "%.2f", 100 * Double(correct) / Double(max(1, labels.count))))% (\(correct)/\(labels.count))")
    }
    if let out = args.options["--output"] {
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
