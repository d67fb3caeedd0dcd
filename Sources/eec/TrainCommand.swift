import Foundation
import IR
import Passes
import Training

enum TrainOptions {
    static let weights = Option<String?>.path("--weights", "W", help: "the backbone's safetensors weights (its tensors are written out unchanged)").required(unused: "")
    static let out = Option<String?>.path("-o", "OUT", help: "the safetensors file to write: the backbone, the trained exits, and the exit configuration in its metadata").required(unused: "")
    static let epochs = Option<Int>.int("--epochs", in: 1...100_000, default: 40, help: "passes over the cached features")
    static let warmup = Option<Int?>.int("--warmup", "E", in: 0...100_000, help: """
        first train each classifier alone (EENets' v0 loss) for E epochs (default: three fifths of --epochs); the cost-aware \
        loss scales a classifier's gradient by its confidence, which the cost term first pushes down, so without it early \
        classifiers barely learn
        """)
    static let batch = Option<Int>.int("--batch", in: 1...1_000_000, default: 32, help: "samples per Adam step")
    static let lr = Option<Double>.number("--lr", "R", in: 1e-9...10, default: 1e-3, help: "Adam's learning rate")
    static let lambda = Option<Double>.number("--lambda", "L", in: 0...1000, default: 1, help: "the weight of the cost term of the cost-aware loss")
    static let loss = Option<LossVersion>.choice("--loss", "v2|v1", [("v2", LossVersion.v2), ("v1", LossVersion.v1)], default: LossVersion.v2, defaultName: "v2",
                                    help: "the cost-aware loss of EENets/PTEEnet: v2 summed over exits, v1 the first exit's mixture only")
    static let distill = Option<Double?>.number("--distill", "T", in: 0.05...100, help: "learn the backbone's softmax at temperature T instead of its argmax (for the classifiers learning alone: softmax confidence, warm-up)")
    static let augment = Option<Int>.int("--augment", "K", in: 0...64, default: 0, help: """
        add K copies of every sample, each flipped left-right with probability 1/2 and shifted up to 4 pixels \
        (RandomCrop(32, padding=4) and RandomHorizontalFlip, as the reference code trains); the backbone labels each copy, \
        so K + 1 times the backbone runs and the cache
        """)
    static let cacheGiB = Option<Double>.number("--cache-gib", "G", in: 0.001...1024, default: 8, help: """
        the feature cache's limit in GiB, printed before the backbone runs: feature maps are kept as float16 when float32 \
        would not fit, and training refuses to start when even that would not fit
        """)
    static let seed = seedOption.help("seed of the exit heads' first weights, the shuffling and the augmentation")

    /// Options that shape the cost-aware loss, which a max-softmax confidence does not use.
    static let lossOptions: [any DeclaredOption] = [loss, lambda, warmup]

    static let rules: [Rule] = [
        .check { args throws(UsageError) in
            if args[ExitOptions.confidence] == .softmax {
                for option in lossOptions where args.has(option) {
                    throw UsageError(message: "\(option.spec.name) shapes the cost-aware loss of a learnt confidence; with --confidence softmax each classifier learns alone")
                }
            }
            if args.has(distill) && args[warmup] == 0 && args[ExitOptions.confidence] == .head {
                throw UsageError(message: "--distill teaches the classifiers learning alone (the --warmup epochs, or --confidence softmax); --warmup 0 leaves none")
            }
        },
    ]
}

let trainCommand = Command(
    name: "train", summary: "train exit heads on a frozen backbone (PTEE)",
    options: [TrainOptions.weights, DataOptions.data, TrainOptions.out] + ExitOptions.all
        + [TrainOptions.epochs, TrainOptions.warmup, TrainOptions.batch, TrainOptions.lr, TrainOptions.lambda, TrainOptions.loss,
           TrainOptions.distill, DataOptions.samples, TrainOptions.augment, DataOptions.mean, DataOptions.std, TrainOptions.cacheGiB,
           TrainOptions.seed, exitsBackendOption],
    rules: DataOptions.rules + ExitOptions.rules + TrainOptions.rules,
    details: """
        Trains the exit heads of a frozen backbone, PTEE-style: no labels are read; each sample's
        label is the backbone's own prediction. The backbone runs once per sample (in the
        generated C) and what the heads read is cached; the epochs are spent on the heads alone,
        with Adam, all heads at once on every core. The exits: --branches N|all or --exit-at
        (at least one), unless W records them.

        With a learnt confidence (--confidence head) the loss is the cumulative cost-aware loss of
        EENets/PTEEnet (v2: summed over exits; v1: the first exit's mixture only), after a
        warm-up that trains each classifier alone. With --confidence softmax an exit's confidence
        is its classifier's largest softmax probability: each classifier learns alone (the
        cross-entropy to the backbone's prediction, or --distill), nothing else to learn.

        The output holds the backbone's tensors unchanged, the trained exit tensors, and the
        exits (by the nodes they attach after) in its metadata, so calibrate, run and compile
        need not be told again.
        """
) { args, console in
    let path = args.file
    let out = args[TrainOptions.out]
    let weightsPath = args[TrainOptions.weights]
    var options = ExitTrainer.Options()
    options.lambda = args[TrainOptions.lambda]
    options.loss = args[TrainOptions.loss]
    options.epochs = args[TrainOptions.epochs]
    options.warmupEpochs = args[TrainOptions.warmup] ?? options.epochs * 3 / 5
    options.batchSize = args[TrainOptions.batch]
    options.learningRate = args[TrainOptions.lr]
    options.seed = args[TrainOptions.seed]
    options.distillTemperature = args[TrainOptions.distill]
    let distill = options.distillTemperature
    let cacheLimit = args[TrainOptions.cacheGiB]
    let source = EarlyExitRun.Backend.forExits(args, command: "train", &console)

    let backbone = try loadGraph(path, &console)
    let file = try TrainedWeights.read(weightsPath)
    let configuration = try exitConfiguration(args, recorded: file.metadata, weightsPath: weightsPath)
    // Depends on W's metadata, so known only once it is read.
    guard configuration.hasExits else { throw UsageError(message: "missing --branches N, --branches all or --exit-at A,B,.. (at least 1 exit to train)") }
    _ = try bind(backbone, file.tensors, source: weightsPath)
    var withExits: Model
    do {
        withExits = try configuration.pass(seed: options.seed).run(Model(graph: backbone, weights: file.tensors))
    } catch {
        throw InputError(message: "\(path): \(error)")
    }
    let costs = ExitCostReport(withExits.graph, convention: configuration.convention)
    let attach = costs.rows.dropLast().map(\.attach)
    let features = ExitTrainer.featureTensors(withExits.graph)
    let shapes = features.map { Array(withExits.graph.shape($0).dropFirst()) }
    let (samples, range) = try readData(args, graph: backbone)
    let copies = args[TrainOptions.augment]
    let black = DataOptions.normalization(args)?.black ?? []
    let inputs = Augmentation(copies: copies, seed: options.seed).apply(samples, fill: black)
    // float32 when it fits under --cache-gib; else feature maps as float16, half the memory.
    let limit = cacheLimit * 1_073_741_824
    let half = Double(FeatureCache.bytes(shapes: shapes, samples: inputs.count)) > limit
    let cacheBytes = FeatureCache.bytes(shapes: shapes, samples: inputs.count, half: half)
    let gib = { (bytes: Int) in String(format: "%.2f", Double(bytes) / 1_073_741_824) }
    guard Double(cacheBytes) <= limit else {
        throw InputError(message: "eec train: error: the exit features of \(inputs.count) samples need \(gib(cacheBytes)) GiB\(half ? " even as float16" : ""), over --cache-gib \(cacheLimit); use fewer samples (--samples), fewer exits, a head that pools first (--exit-block sdn or pool), or raise the limit")
    }
    let progress = Progress(console: console)
    let start = Date()
    let headShare = costs.rows.dropLast().map { Double($0.head.value(configuration.convention)) / Double(max(1, costs.total.value(configuration.convention))) }
    progress.line("eec train: \(attach.count) \(configuration.block) exits (\(configuration.confidence.rawValue) confidence) after \(attach.joined(separator: ", "))")
    progress.line("eec train: head cost per exit \(headShare.map { String(format: "%.3f%%", $0 * 100) }.joined(separator: ", ")) of the backbone; cost rates \(costs.rows.dropLast().map { String(format: "%.3f", $0.costRate) }.joined(separator: ", "))")
    progress.line("eec train: running the backbone (\(source == .c ? "generated C" : "reference interpreter")) on \(inputs.count) samples (\(range.lowerBound)..<\(range.upperBound)\(copies > 0 ? " and \(copies) augmented cop\(copies == 1 ? "y" : "ies") of each" : "")), caching \(gib(cacheBytes)) GiB of exit features\(half ? " (feature maps as float16 to fit --cache-gib)" : "") (\(shapes.map { Tensor.describe($0) }.joined(separator: ", ")))")
    let cache: FeatureCache
    switch source {
    case .interp:
        let bound = try bind(withExits.graph, withExits.weights, source: weightsPath)
        cache = FeatureCache(graph: withExits.graph, weights: bound, features: features, inputs: inputs, half: half) { done in
            progress.bar("backbone", done, inputs.count, "")
        }
    case .c:
        cache = try FeatureDump.run(withExits, features: features, inputs: inputs, half: half, path: path) { done in
            progress.bar("backbone", done, inputs.count, "")
        }
    }
    progress.finishBar()
    let backboneSeconds = Date().timeIntervalSince(start)
    progress.line("eec train: backbone pass \(String(format: "%.1f", backboneSeconds)) s")
    var trainer: ExitTrainer
    do {
        trainer = try ExitTrainer(graph: withExits.graph, weights: withExits.weights,
                                  costRates: costs.rows.dropLast().map(\.costRate), learningRate: options.learningRate,
                                  features: features)
    } catch {
        throw InputError(message: "\(path): error: \(error)")
    }
    let history = trainer.train(cache, options: options) { epoch, batch, batches, stats in
        let mix = stats.exitMix.map { String(format: "%.0f%%", $0 * 100) }.joined(separator: "/")
        let classifiers = stats.classifierAgreement.map { String(format: "%.0f%%", $0 * 100) }.joined(separator: "/")
        let text = "loss \(String(format: "%.4f", stats.loss))  exit mix \(mix)  agreement \(String(format: "%.1f%%", stats.agreement * 100))  classifiers \(classifiers)"
        progress.bar("epoch \(epoch)/\(options.epochs)", batch, batches, text)
        if batch == batches { progress.finishBar(always: "epoch \(epoch)/\(options.epochs): " + text) }
    }
    let seconds = Date().timeIntervalSince(start)
    var tensors = file.tensors
    tensors.merge(trainer.trainedTensors()) { _, trained in trained }
    var metadata = configuration.resolved(attach: attach).metadata
    metadata["eec.lambda"] = String(options.lambda)
    metadata["eec.loss"] = options.loss.rawValue
    metadata["eec.epochs"] = String(options.epochs)
    metadata["eec.warmup"] = String(options.warmupEpochs)
    metadata["eec.seed"] = String(options.seed)
    metadata["eec.samples"] = "\(range.lowerBound):\(range.upperBound)"
    metadata["eec.augment"] = String(copies)
    if let distill { metadata["eec.distill"] = String(distill) }
    do {
        try SafetensorsFile.write(tensors: tensors, metadata: metadata, to: out)
    } catch {
        throw InputError(message: "\(error)")
    }
    let last = history.last
    console.print("trained \(attach.count) exits on \(inputs.count) samples in \(String(format: "%.1f", seconds)) s (backbone \(String(format: "%.1f", backboneSeconds)) s); final loss \(String(format: "%.4f", last?.loss ?? 0)), agreement at h >= 0.5: \(String(format: "%.1f%%", (last?.agreement ?? 0) * 100))")
    console.print("wrote \(out)")
    return ExitStatus.ok
}

/// Progress on standard error: a redrawn bar on a terminal, one line per step otherwise.
final class Progress: @unchecked Sendable {
    let terminal = isatty(2) != 0
    let passthrough: Bool
    var lastWidth = 0

    init(console: Console) {
        passthrough = console.passthrough
    }

    func line(_ text: String) {
        if passthrough { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }

    func bar(_ label: String, _ done: Int, _ total: Int, _ text: String) {
        guard terminal, passthrough else { return }
        let width = 24
        let filled = total > 0 ? done * width / total : width
        let line = "\r\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(done)/\(total) \(text)"
        lastWidth = max(lastWidth, line.count)
        FileHandle.standardError.write(Data(line.padding(toLength: lastWidth, withPad: " ", startingAt: 0).utf8))
    }

    /// Ends a bar on a terminal; elsewhere prints `always` as its own line.
    func finishBar(always: String? = nil) {
        guard passthrough else { return }
        if terminal {
            FileHandle.standardError.write(Data("\n".utf8))
            lastWidth = 0
        } else if let always {
            line(always)
        }
    }
}
