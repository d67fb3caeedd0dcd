import Foundation
import IR
import Passes
import Codegen
import Runtime
import Quantize

/// `eec run` with exits or with the C backend: runs the batch as the deployed network would
/// (segment, exit head, exit test, ...) and reports where samples left, agreement with the
/// backbone's own prediction, accuracy, mean cost rate and time per sample.
///
/// With `--backend interp` the reference interpreter evaluates every exit and the exit rule is
/// applied afterwards (its time is that of the whole network); with `--backend c` the generated
/// library runs in a harness built in `.eec-cache/` and really stops at the first exit taken.
enum EarlyExitRun {
    enum Backend: String, CaseIterable, Sendable {
        case interp, c

        /// `--backend` of train and calibrate: the generated C unless asked otherwise; without a C
        /// compiler, the reference interpreter (many times slower), with a note saying so.
        static func forExits(_ args: ParsedArguments, command: String, _ console: inout Console) -> Backend {
            if let chosen = args[exitsBackendOption] { return chosen }
            do {
                _ = try CToolchain.find()
                return .c
            } catch {
                console.error("eec \(command): note: \(error); using the reference interpreter (--backend interp), which is many times slower")
                return .interp
            }
        }
    }

    /// Whether `eec run` takes this path rather than the plain backbone run: exits asked for
    /// or recorded in the weights, a threshold, `--exits`, a backend other than the
    /// interpreter, or `--json`.
    static func wanted(_ args: ParsedArguments, weights: WeightsFile?) -> Bool {
        if args[RunOptions.backend] != .interp || args[RunOptions.json] { return true }
        let earlyExit: [any DeclaredOption] = ExitOptions.all + [ThresholdOptions.threshold, ThresholdOptions.thresholds, RunOptions.exits]
        if earlyExit.contains(where: args.has) { return true }
        switch weights {
        case .int8?: return true
        case .float(let file)?: return file.metadata["eec.branches"] != nil
        case nil: return false
        }
    }

    /// The generated C of a graph with exits, `compiled` (by `compile`), built with the host
    /// compiler in the cache folder, ready to run batches.
    /// `quantized`: an int8 file (eec quantize -o) whose network the C runs instead of the float weights.
    static func harness(_ compiled: Model, thresholds: [Double], command: String,
                        quantized: SafetensorsFile? = nil) throws -> CHarness {
        let cache = try cacheRoot()
        do {
            let integer = try quantized.map { file throws(InputError) in try QuantizedWeights.program(file, compiled: compiled) }
            let lowered = try LoweredProgram(compiled, thresholds: thresholds, integer: integer)
            return try CHarness(CSource(try CProgram(lowered)), toolchain: try CToolchain.find(), cacheRoot: cache)
        } catch {
            throw InputError(message: "eec \(command): \(error)")
        }
    }

    /// `withExits` after the passes the code generators run.
    static func compile(_ withExits: Model, path: String) throws(InputError) -> Model {
        do {
            return try PassPipeline.afterExits.run(withExits)
        } catch {
            throw InputError(message: "\(path): \(error)")
        }
    }

    /// One sample's answer.
    struct Answer {
        var classIndex: Int
        var exitIndex: Int
        var backboneClass: Int
        var logits: [Float]
        var macs: Int?
    }

    /// What the C backend measured: mean MACs spent and those of the whole (fused) backbone;
    /// `language`: the generated code that counted them.
    struct Spent {
        var mean: Int
        var backbone: Int
        var language = "C"
    }

    /// `backbone`: FILE, loaded; `weights`: the `--weights` file, read.
    static func run(_ args: ParsedArguments, backbone: VerifiedGraph, weights: WeightsFile?, _ console: inout Console) throws -> Int32 {
        let path = args.file
        // Issue 13: `--backend cortex-m4` runs the C backend's network on an emulated device (DeviceRun.swift).
        let onDevice = args[RunOptions.backend] == .cortexM4
        // Issue 9: `--backend swift` runs the Swift backend's package (SwiftRun.swift) where the C would run.
        let onSwift = args[RunOptions.backend] == .swift
        let backend = args[RunOptions.backend] == .interp ? Backend.interp : Backend.c
        let thresholdOption = ThresholdOption(args)
        let seed = args[seedOption]
        let weightsPath = args[RunOptions.weights]

        // Weights and exits: a trained file's recorded exits are used; flags must agree with them.
        let tensors: [String: Tensor]
        var metadata: [String: String] = [:]
        var quantized: SafetensorsFile?
        switch weights {
        case .int8(let file)?:
            guard !onDevice && !onSwift else {
                throw InputError(message: "\(weightsPath ?? ""): error: an int8 network runs in the generated C (--backend c) or the int8 interpreter (--backend interp)")
            }
            tensors = WeightBinder.seeded(backbone, seed: seed)
            (quantized, metadata) = (file, file.metadata)
        case .float(let file)?:
            _ = try bind(backbone, file.tensors, source: weightsPath ?? "")
            (tensors, metadata) = (file.tensors, file.metadata)
        case nil:
            tensors = try loadWeights(backbone, from: nil, seed: seed, &console)
        }
        let configuration = try exitConfiguration(args, recorded: metadata, weightsPath: weightsPath)
        let withExits: Model
        do {
            withExits = try configuration.pass(seed: seed).run(Model(graph: backbone, weights: tensors))
        } catch {
            throw InputError(message: "\(path): \(error)")
        }
        let exits = withExits.graph.graph.exits.count
        // Flags first, then what `eec calibrate -o` recorded, then the default.
        let recorded = try recordedThresholds(metadata, source: weightsPath)
        if thresholdOption == nil, let recorded, recorded.count != exits {
            throw InputError(message: "\(weightsPath ?? "weights"): error: the file records \(recorded.count) thresholds for \(exits) exits")
        }
        let thresholds = try thresholdOption?.resolve(exits: exits) ?? recorded ?? Array(repeating: defaultThreshold, count: exits)
        let (inputs, range) = try readData(args, graph: backbone)
        let nonFinite = warnNonFinite(inputs, source: args[DataOptions.data], &console)
        let labels = try readLabels(args, range: range, classes: backbone.classes)

        let answers: [Answer]
        let secondsPerSample: Double
        let backboneSecondsPerSample: Double
        let how: String
        var spent: Spent?
        switch (backend, quantized) {
        case (.interp, let quantized?):
            let integer = try QuantizedWeights.program(quantized, compiled: try compile(withExits, path: path))
            let interpreter = Int8Interpreter(integer)
            (answers, secondsPerSample) = everyExitEvaluated(inputs, thresholds: thresholds) {
                let r = interpreter.run($0)
                return (r.logits, r.exits)
            }
            backboneSecondsPerSample = secondsPerSample
            how = "int8 reference interpreter, every exit evaluated"
        case (.interp, nil):
            let bound = try bind(withExits.graph, withExits.weights, source: weightsPath ?? "seeded weights")
            let interpreter = Interpreter(withExits.graph, weights: bound)
            let plain = Interpreter(backbone, weights: try bind(backbone, tensors, source: weightsPath ?? "seeded weights"))
            let backboneStart = Date()
            for input in inputs { _ = plain.run(input) }
            backboneSecondsPerSample = Date().timeIntervalSince(backboneStart) / Double(max(1, inputs.count))
            (answers, secondsPerSample) = everyExitEvaluated(inputs, thresholds: thresholds) {
                let r = interpreter.run($0)
                return (r.logits, r.exits)
            }
            how = "reference interpreter, every exit evaluated"
        case (.c, _) where onDevice: // issue 13: DeviceRun runs and reports
            return try DeviceRun.run(args, withExits, thresholds: thresholds, inputs: inputs, labels: labels,
                                     convention: configuration.convention, path: path, &console)
        case (.c, _) where onSwift:
            let measured = try SwiftRun.measure(withExits, backbone: Model(graph: backbone, weights: tensors), thresholds: thresholds,
                                                inputs: inputs, path: path)
            (answers, secondsPerSample, backboneSecondsPerSample) = (measured.answers, measured.secondsPerSample, measured.backboneSecondsPerSample)
            (spent, how) = (measured.spent, measured.how)
        case (.c, _):
            let harness = try EarlyExitRun.harness(compile(withExits, path: path), thresholds: thresholds, command: "run", quantized: quantized)
            // The backbone alone, compiled and timed in the same run: the figure the exits must beat.
            let plain = try EarlyExitRun.harness(compile(Model(graph: backbone, weights: tensors), path: path), thresholds: [], command: "run",
                                                 quantized: quantized)
            let program = harness.source.program
            do {
                let all = try harness.runAll(inputs)
                let (_, backboneNs) = try plain.run(inputs, thresholdLogits: [])
                let (results, ns) = try harness.run(inputs, thresholdLogits: thresholds.map(CSource.thresholdLogit))
                backboneSecondsPerSample = backboneNs / 1e9
                answers = zip(results, all).map { r, a in
                    Answer(classIndex: r.classIndex, exitIndex: r.exitIndex, backboneClass: argmax(a.logits[exits]), logits: r.logits, macs: r.macs)
                }
                secondsPerSample = ns / 1e9
                spent = Spent(mean: results.reduce(0) { $0 + $1.macs } / max(1, results.count), backbone: program.backboneMacs)
                how = "generated C\(quantized != nil ? " (int8)" : ""), clang \(CHarness.releaseFlags.joined(separator: " ")), early exit"
            } catch {
                throw InputError(message: "eec run: \(error)")
            }
        }
        if args[RunOptions.json] {
            console.print(json(answers, labels: labels, thresholds: thresholds, withExits: withExits.graph, secondsPerSample: secondsPerSample,
                               backboneSecondsPerSample: backboneSecondsPerSample, spent: spent, backend: backend, nonFinite: nonFinite,
                               backendName: onSwift ? SwiftRun.backendName : nil).text)
        } else {
            report(answers, labels: labels, thresholds: thresholds, withExits: withExits.graph,
                   convention: configuration.convention, secondsPerSample: secondsPerSample, how: how, spent: spent,
                   perSample: args[RunOptions.output] == nil && inputs.count <= 100, &console)
            console.print("the backbone alone: \(String(format: "%.3f", backboneSecondsPerSample * 1000)) ms per sample, timed in the same run")
        }
        try write(answers, classes: backbone.classes, args)
        return ExitStatus.ok
    }

    /// An interpreter's run of every sample (float or int8: each gives the final logits and every
    /// exit's), the exit rule applied afterwards; and the seconds per sample.
    static func everyExitEvaluated(_ inputs: [Tensor], thresholds: [Double],
                                   run: (Tensor) -> (logits: Tensor, exits: [(logits: Tensor, confidence: Float)]))
        -> (answers: [Answer], secondsPerSample: Double) {
        let limits = thresholds.map(ExitRule.logitThreshold)
        var answers: [Answer] = []
        let start = Date()
        for input in inputs {
            let r = run(input)
            let k = ExitRule.firstExit(confidenceLogits: r.exits.map(\.confidence), thresholdLogits: limits)
            let logits = k < r.exits.count ? r.exits[k].logits.data : r.logits.data
            answers.append(Answer(classIndex: argmax(logits), exitIndex: k, backboneClass: argmax(r.logits.data), logits: logits, macs: nil))
        }
        return (answers, Date().timeIntervalSince(start) / Double(max(1, inputs.count)))
    }

    static func report(_ answers: [Answer], labels: [Int]?, thresholds: [Double], withExits: VerifiedGraph,
                       convention: CostReport.Convention, secondsPerSample: Double, how: String, spent: Spent?, perSample: Bool,
                       _ console: inout Console) {
        let costs = ExitCostReport(withExits, convention: convention)
        let exits = costs.rows.count - 1
        if perSample {
            for (n, a) in answers.enumerated() {
                console.print("\(n): \(describeClass(a.classIndex)) (\(a.exitIndex < exits ? "exit \(a.exitIndex)" : "final"))")
            }
        }
        let n = max(1, answers.count)
        console.print("\(answers.count) samples, \(String(format: "%.3f", secondsPerSample * 1000)) ms per sample (\(how))")
        var table = TextTable(columns: ["exit", "after", "T", "samples", "share", "cost rate"],
                              rightAligned: [false, false, true, true, true, true])
        for (k, row) in costs.rows.enumerated() {
            let count = answers.filter { $0.exitIndex == k }.count
            table.add([k < exits ? String(k) : "final", row.attach, k < exits ? String(format: "%g", thresholds[k]) : "-",
                       String(count), percent(Double(count) / Double(n)), percent(row.costRate)])
        }
        console.write(table.render())
        let agree = answers.filter { $0.classIndex == $0.backboneClass }.count
        console.print("agreement with the backbone: \(String(format: "%.2f", 100 * Double(agree) / Double(n)))% (\(agree)/\(answers.count))")
        if let labels {
            let correct = zip(answers, labels).filter { $0.classIndex == $1 }.count
            let backbone = zip(answers, labels).filter { $0.backboneClass == $1 }.count
            console.print("accuracy: \(String(format: "%.2f", 100 * Double(correct) / Double(n)))% (\(correct)/\(answers.count)); backbone alone \(String(format: "%.2f", 100 * Double(backbone) / Double(n)))%")
        }
        let meanRate = answers.reduce(0.0) { $0 + costs.rows[min($1.exitIndex, exits)].costRate } / Double(n)
        var costLine = "mean cost rate: \(percent(meanRate)) (\(convention.rawValue), the papers' figure)"
        if let spent {
            costLine += "; MACs spent in \(spent.language): \(grouped(spent.mean)) per sample, \(percent(Double(spent.mean) / Double(max(1, spent.backbone)))) of the backbone's \(grouped(spent.backbone)) (heads passed and folded BatchNorm biases included)"
        }
        console.print(costLine)
    }

    /// `--json`: the figures of the run as one object. `macs_ratio` is the MACs spent over the
    /// backbone's, exit heads included: counted by the C runtime, or (interp) by the path cost
    /// of each sample's exit in MACs, the same rule.
    static func json(_ answers: [Answer], labels: [Int]?, thresholds: [Double], withExits: VerifiedGraph, secondsPerSample: Double,
                     backboneSecondsPerSample: Double, spent: Spent?, backend: Backend, nonFinite: Int = 0,
                     backendName: String? = nil) -> JSON {
        let n = Double(max(1, answers.count))
        let exits = withExits.graph.exits.count
        var histogram = [Int](repeating: 0, count: exits + 1)
        for a in answers { histogram[min(a.exitIndex, exits)] += 1 }
        let macsRatio: Double
        if let spent {
            macsRatio = Double(spent.mean) / Double(max(1, spent.backbone))
        } else {
            let paths = PathCost(ExitCostReport(withExits, convention: .macs)).costs(enabled: PathCost.enabled(thresholds, exits: exits))
            macsRatio = answers.reduce(0.0) { $0 + paths[min($1.exitIndex, exits)] } / n
        }
        let agreement = Double(answers.filter { $0.classIndex == $0.backboneClass }.count) / n
        var accuracy: JSON = .null, backboneAccuracy: JSON = .null
        if let labels {
            accuracy = .double(Double(zip(answers, labels).filter { $0.classIndex == $1 }.count) / n)
            backboneAccuracy = .double(Double(zip(answers, labels).filter { $0.backboneClass == $1 }.count) / n)
        }
        return .object([
            ("model", .string(withExits.graph.model)), ("backend", .string(backendName ?? backend.rawValue)), ("samples", .int(answers.count)),
            ("non_finite_samples", .int(nonFinite)),
            ("accuracy", accuracy), ("backbone_accuracy", backboneAccuracy), ("agreement", .double(agreement)),
            ("macs_ratio", .double(macsRatio)), ("macs_per_sample", spent.map { .int($0.mean) } ?? .null),
            ("backbone_macs", spent.map { .int($0.backbone) } ?? .null),
            ("ms_per_sample", .double(secondsPerSample * 1000)), ("backbone_ms_per_sample", .double(backboneSecondsPerSample * 1000)),
            ("time_ratio", .double(secondsPerSample / max(1e-12, backboneSecondsPerSample))),
            ("thresholds", .array(thresholds.map { .double($0) })),
            ("exits", .array(histogram.map { .int($0) })),
        ])
    }

    /// `--output`: the answering classifier's logits; `--exits`: the exit taken (exits = final).
    static func write(_ answers: [Answer], classes: Int, _ args: ParsedArguments) throws {
        do {
            if let out = args[RunOptions.output] {
                try NPYArray(Tensor(shape: [answers.count, classes], data: answers.flatMap(\.logits))).write(to: out)
            }
            if let out = args[RunOptions.exits] {
                try NPYArray(shape: [answers.count], storage: .int64(answers.map { Int64($0.exitIndex) })).write(to: out)
            }
        } catch {
            throw InputError(message: "\(error)")
        }
    }
}
