import Foundation
import IR
import Passes
import Codegen
import Training

let calibrateCommand = Command(
    name: "calibrate",
    help: """
        usage: eec calibrate FILE --weights trained.safetensors --data eval.npy [--labels y.npy]
                            [--samples A:B] [--mean M --std S] [--max-drop 0.01]
                            [--margin SE|P%] [--hold-back K] [-o calibrated.safetensors]
                            [--plot out.svg] [--csv out.csv] [--json] [--backend c|interp]

        Evaluates every exit once per sample, then chooses which exits to keep and one threshold
        per exit: the lowest mean path cost (the backbone prefix plus every head run on the way,
        in the MACs the C runtime counts) whose drop (in accuracy with labels, else in agreement
        with the backbone) stays within --max-drop. Exits not worth their heads are dropped.
        The search is a Lagrangian sweep over a price per error with exact coordinate descent
        over each exit's thresholds (see the README). It also sweeps one threshold T shared by
        every exit from 0 to 1, for the table and the plot.

        Guarding against noise: every K-th sample is held back from the search (--hold-back,
        default 3) and the choice is re-measured on it, and the budget is --max-drop minus a
        margin (--margin: a number of standard errors of the measured drop, default 1, or a
        fixed share such as 0.3%). Both figures are printed.

          --max-drop D   allowed drop, as a fraction (default 0.01: one percentage point)
          -o F           write the weights with the selected exits only and their thresholds in
                         the metadata: eec compile/run --weights F need no other flag
          --plot F       write an SVG of accuracy against cost over T, the chosen points marked
          --csv F        write the single-T sweep as CSV
          --json         print one JSON object (backbone_accuracy, selection with its figures on
                         the searched, held-back and all samples, chosen single T, sweep)
          --backend B    evaluate the exits in the generated C (c, default: built with clang or
                         $CC) or in the reference interpreter (interp, slow)
        Exit options (--branches, ...) are read from the weights' metadata; given flags must agree.
        """,
    valued: exitOptionNames.union(["--weights", "--data", "--labels", "--samples", "--mean", "--std", "--max-drop", "--plot", "--csv",
                                   "--backend", "--margin", "--hold-back", "--folds", "-o"]),
    switches: ["--json"]
) { args, console in
    let path = try args.file()
    guard let weightsPath = args.options["--weights"] else { throw Arguments.UsageError(message: "missing --weights trained.safetensors") }
    let maxDrop = try number(args, "--max-drop", default: 0.01, range: 0...1)
    let backend = try EarlyExitRun.Backend.forExits(args, command: "calibrate", &console)
    let noiseGuard = try noiseGuardOption(args)
    let backbone = try loadGraph(path, &console)
    let file = try TrainedWeights.read(weightsPath)
    let configuration = try exitConfiguration(args, recorded: file.metadata)
    guard configuration.hasExits else {
        throw InputError(message: "\(weightsPath): error: no exits to calibrate: the file records no exit configuration (train it with eec train) and no --branches was given")
    }
    if file.metadata["eec.branches"] == nil {
        console.error("\(weightsPath): warning: no trained exits recorded; exit tensors missing from the file are seeded, so the sweep shows untrained exits")
    }
    let withExits: Model
    let compiled: Model
    do {
        withExits = try configuration.pass.run(Model(graph: backbone, weights: file.tensors))
        compiled = try PassPipeline([FoldBatchNorm(), FuseReLU(), SegmentGraph()]).run(withExits)
    } catch {
        throw InputError(message: "\(path): \(error)")
    }
    let bound = try bind(withExits.graph, withExits.weights, source: weightsPath)
    let (inputs, range) = try readData(args, option: "--data", graph: backbone)
    var labels: [Int]?
    if let labelPath = args.options["--labels"] {
        do {
            let all = try ImageBatch.readLabels(path: labelPath, classes: backbone.classes)
            guard all.count >= range.upperBound else {
                throw InputError(message: "\(labelPath): error: \(all.count) labels, but samples \(range.lowerBound)..<\(range.upperBound) were asked for")
            }
            labels = Array(all[range])
        } catch let error as FormatError {
            throw InputError(message: error.description)
        }
    }
    let progress = Progress(console: console)
    let start = Date()
    let evaluation: ExitEvaluation
    switch backend {
    case .interp:
        evaluation = ExitEvaluation(graph: withExits.graph, weights: bound, inputs: inputs) { done in
            progress.bar("evaluating", done, inputs.count, "")
        }
        progress.finishBar()
    case .c:
        let exits = withExits.graph.graph.exits.count
        let harness = try EarlyExitRun.harness(withExits, thresholds: Array(repeating: 1, count: exits), path: path, command: "calibrate")
        let all: [CHarness.AllExits]
        do {
            all = try harness.runAll(inputs)
        } catch {
            throw InputError(message: "eec calibrate: \(error)")
        }
        evaluation = ExitEvaluation(exitClasses: all.map { a in (0..<exits).map { argmax(a.logits[$0]) } },
                                    confidenceLogits: all.map(\.confidenceLogits),
                                    backboneClasses: all.map { argmax($0.logits[exits]) })
    }
    let seconds = Date().timeIntervalSince(start)
    // The path cost in the MACs of the compiled network: what `eec run --backend c` counts.
    let costs = ExitCostReport(compiled.graph, convention: .macs)
    let pathCost = PathCost(costs)
    let sweep = ThresholdSweep(evaluation: evaluation, labels: labels, path: pathCost)
    let points = sweep.sweep()
    let chosen = sweep.choose(maxDrop: maxDrop, from: points)
    let selection: ExitSelection
    do {
        selection = try ExitSelection(evaluation: evaluation, labels: labels, path: pathCost, maxDrop: maxDrop, noiseGuard: noiseGuard)
    } catch {
        throw InputError(message: "eec calibrate: error: \(error)")
    }
    // Named as in the graph before fusion (a fused ReLU takes its producer's name): what a file records.
    let attach = ExitCostReport(withExits.graph).rows.dropLast().map(\.attach)
    let report = CalibrationReport(sweep: sweep, points: points, chosen: chosen, selection: selection, maxDrop: maxDrop,
                                   attach: attach, model: backbone.graph.model, seconds: seconds, path: pathCost)
    if let plot = args.options["--plot"] {
        let title = "\(backbone.graph.model): \(attach.count) \(configuration.block) exits, \(inputs.count) samples"
        try writeFile(plot, SweepPlot.svg(points: points, chosen: chosen, perExit: selection.all.point, backboneAccuracy: sweep.backboneAccuracy, title: title))
    }
    if let csv = args.options["--csv"] { try writeFile(csv, report.csv) }
    if let out = args.options["-o"] {
        let selected = selection.enabled.indices.filter { selection.enabled[$0] }
        let notes = [
            "eec.calibration.samples": "\(range.lowerBound):\(range.upperBound)", "eec.calibration.max_drop": String(maxDrop),
            "eec.calibration.margin": String(selection.margin),
        ]
        let tensors = CalibratedWeights.tensors(file.tensors, exits: attach.count, selected: selected)
        let metadata = CalibratedWeights.metadata(trained: file.metadata, configuration: configuration, attach: attach,
                                                  selected: selected, thresholds: selection.thresholds, notes: notes)
        do {
            try SafetensorsFile.write(tensors: tensors, metadata: metadata, to: out)
        } catch {
            throw InputError(message: "\(error)")
        }
    }
    if args.flags.contains("--json") { console.print(report.json.text) } else {
        console.write(report.table)
        if let out = args.options["-o"] { console.print("wrote \(out): the backbone and \(selection.enabled.filter { $0 }.count) exits with their thresholds") }
    }
    return ExitStatus.ok
}

/// `--margin` and `--hold-back`.
func noiseGuardOption(_ args: Arguments) throws(Arguments.UsageError) -> ExitSelection.NoiseGuard {
    var guardOption = ExitSelection.NoiseGuard.crossValidated
    if let text = args.options["--margin"] {
        if text.hasSuffix("%"), let value = Double(text.dropLast()), value >= 0, value <= 100 {
            guardOption.margin = .fixed(value / 100)
        } else if let value = Double(text), value >= 0, value <= 10 {
            guardOption.margin = .standardErrors(value)
        } else {
            throw Arguments.UsageError(message: "option '--margin' expects standard errors from 0 to 10 (e.g. 1) or a share such as 0.3%, found '\(text)'")
        }
    }
    if args.options["--hold-back"] != nil {
        guardOption.holdBackEvery = Int(try number(args, "--hold-back", default: 0, range: 0...1000))
    }
    if args.options["--folds"] != nil {
        guardOption.folds = Int(try number(args, "--folds", default: 5, range: 0...100))
    }
    return guardOption
}

/// The printed forms of a calibration: table, CSV, JSON.
struct CalibrationReport {
    var sweep: ThresholdSweep
    var points: [SweepPoint]
    /// The cheapest single T shared by every exit.
    var chosen: SweepPoint
    var selection: ExitSelection
    var maxDrop: Double
    var attach: [String]
    var model: String
    var seconds: Double
    var path: PathCost

    var exits: Int { attach.count }

    func row(_ p: SweepPoint) -> [String] {
        let histogram = p.histogram.map { String($0) }.joined(separator: "/")
        return [String(format: "%.6g", p.thresholds.first ?? 1), percent(p.agreement),
                p.accuracy.map(percent) ?? "-", percent(p.pathCost), histogram]
    }

    func figures(_ name: String, _ f: ExitSelection.Figures) -> [String] {
        [name, String(f.samples), percent(f.point.agreement), f.point.accuracy.map(percent) ?? "-",
         String(format: "%.2f ± %.2f", f.drop * 100, f.standardError * 100), percent(f.point.pathCost)]
    }

    var table: String {
        var text = "\(model): \(exits) exits; \(sweep.evaluation.count) samples evaluated in \(String(format: "%.1f", seconds)) s\n"
        if let base = sweep.backboneAccuracy { text += "backbone accuracy \(percent(base))\n" }
        text += "path cost: MACs of the compiled network (prefix + heads run), as a share of the backbone's\n\n"
        let metric = sweep.backboneAccuracy == nil ? "agreement" : "accuracy"
        let kept = selection.enabled.indices.filter { selection.enabled[$0] }
        text += "selected \(kept.count) of \(exits) exits, the cheapest within a \(percent(maxDrop)) drop in \(metric)"
        if let cv = selection.crossValidation {
            text += ":\n\(cv.method), searched within \(String(format: "%.2f", cv.budget * 100)) points, the setting of lowest "
            text += "\(cv.folds)-fold cross-validated path cost (\(percent(cv.pathCost))) whose cross-validated drop "
            text += "(\(String(format: "%.2f ± %.2f", cv.drop * 100, cv.standardError * 100)) points) stays within the budget by a standard error\n"
        } else {
            text += " (margin \(String(format: "%.2f", selection.margin * 100)) points):\n"
        }
        var t = TextTable(columns: ["exit", "after", "T", "prefix", "head", "samples"], rightAligned: [true, false, true, true, true, true])
        for k in kept {
            t.add([String(k), attach[k], String(format: "%.6f", selection.thresholds[k]), percent(path.prefix[k]),
                   String(format: "%.3f%%", path.head[k] * 100), String(selection.all.point.histogram[k])])
        }
        text += t.render()
        var f = TextTable(columns: ["samples", "n", "agreement", "accuracy", "drop (points)", "path cost"], rightAligned: [false, true, true, true, true, true])
        if let held = selection.heldBack {
            f.add(figures("searched", selection.selection))
            f.add(figures("held back", held))
        }
        f.add(figures("all", selection.all))
        text += "\n" + f.render()
        text += "compile with: --thresholds \(selection.thresholds.map { String(format: "%.9g", $0) }.joined(separator: ",")) (or write the file with -o)\n\n"
        text += "one threshold T shared by every exit (every exit enabled):\n"
        var s = TextTable(columns: ["T", "agreement", "accuracy", "path cost", "exits (\((0..<min(exits, 8)).map(String.init).joined(separator: "/"))\(exits > 8 ? "/..." : "")/final)"],
                          rightAligned: [true, true, true, true, false])
        // Every 0.1, the chosen T, and the fine points between 0.995 and 1.
        for p in points where Int(((p.thresholds.first ?? 0) * 1000).rounded()) % 100 == 0 || p.thresholds == chosen.thresholds
            || (p.thresholds.first ?? 0) > 0.995 { s.add(row(p)) }
        text += s.render()
        text += "cheapest single T within the drop: T = \(String(format: "%.3f", chosen.thresholds.first ?? 1)), path cost \(percent(chosen.pathCost))"
        if let acc = chosen.accuracy { text += ", accuracy \(percent(acc))" }
        text += "\n"
        return text
    }

    var csv: String {
        var text = "threshold,agreement,accuracy,cost_rate,path_cost," + (0..<exits).map { "exit_\($0)" }.joined(separator: ",") + ",final\n"
        for p in points {
            text += "\(p.thresholds.first ?? 0),\(p.agreement),\(p.accuracy.map { String($0) } ?? ""),\(p.costRate),\(p.pathCost),"
            text += p.histogram.map(String.init).joined(separator: ",") + "\n"
        }
        return text
    }

    func object(_ p: SweepPoint, single: Bool) -> JSON {
        var fields: [(String, JSON)] = []
        fields.append(single ? ("threshold", .double(p.thresholds.first ?? 1)) : ("thresholds", .array(p.thresholds.map { .double($0) })))
        fields += [("agreement", .double(p.agreement)), ("accuracy", p.accuracy.map { .double($0) } ?? .null),
                   ("cost_rate", .double(p.costRate)), ("path_cost", .double(p.pathCost)),
                   ("histogram", .array(p.histogram.map { .int($0) }))]
        return .object(fields)
    }

    func object(_ f: ExitSelection.Figures) -> JSON {
        .object([("samples", .int(f.samples)), ("drop", .double(f.drop)), ("standard_error", .double(f.standardError)),
                 ("point", object(f.point, single: false))])
    }

    var json: JSON {
        let kept = selection.enabled.indices.filter { selection.enabled[$0] }
        return .object([
            ("model", .string(model)), ("samples", .int(sweep.evaluation.count)),
            ("exits", .array(attach.map { .string($0) })),
            ("backbone_accuracy", sweep.backboneAccuracy.map { .double($0) } ?? .null), ("backbone_agreement", .double(1.0)),
            ("max_drop", .double(maxDrop)),
            ("selection", .object([
                ("exits", .array(kept.map { .int($0) })), ("attach", .array(kept.map { .string(attach[$0]) })),
                ("thresholds", .array(selection.thresholds.map { .double($0) })), ("margin", .double(selection.margin)),
                ("searched", object(selection.selection)), ("held_back", selection.heldBack.map(object) ?? .null),
                ("all", object(selection.all)),
                ("cross_validation", selection.crossValidation.map { cv in
                    .object([("folds", .int(cv.folds)), ("budget", .double(cv.budget)), ("method", .string(cv.method.description)),
                             ("drop", .double(cv.drop)), ("standard_error", .double(cv.standardError)), ("path_cost", .double(cv.pathCost)),
                             ("settings", .array(cv.rows.map { r in
                                 .object([("budget", .double(r.budget)), ("method", .string(r.method.description)), ("drop", .double(r.drop)),
                                          ("standard_error", .double(r.standardError)), ("path_cost", .double(r.pathCost)), ("fits", .bool(r.fits))])
                             }))])
                } ?? .null),
            ])),
            ("chosen", object(chosen, single: true)),
            ("sweep", .array(points.map { object($0, single: true) })),
        ])
    }
}
