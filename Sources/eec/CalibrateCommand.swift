import Foundation
import IR
import Passes
import Codegen
import Training

enum CalibrateOptions {
    typealias Margin = ExitSelection.NoiseGuard.Margin

    static let weights = Option<String?>.path("--weights", "W", help: "the trained weights (from eec train); their exits are read from the metadata").required(unused: "")
    static let maxDrop = Option<Double>.number("--max-drop", "D", in: 0...1, default: 0.01, help: "the allowed drop in accuracy (with --labels, else in agreement with the backbone), as a fraction: 0.01 is one percentage point")
    static let margin = Option<Margin>("--margin", "SE|P%", expected: "standard errors from 0 to 10 (e.g. 1) or a share such as 0.3%",
                                       default: .standardErrors(1), defaultText: "1",
                                       help: "keep the drop within --max-drop minus this margin: a number of standard errors of the measured (or cross-validated) drop, or a fixed share such as 0.3%") { text in
        if text.hasSuffix("%"), let value = Double(text.dropLast()), value >= 0, value <= 100 { return .fixed(value / 100) }
        if let value = Double(text), value >= 0, value <= 10 { return .standardErrors(value) }
        return nil
    }
    static let folds = Option<Int>.int("--folds", "K", in: 0...100, default: 5, help: "choose the search's budget and method by K-fold cross-validation (0 or 1: one search on all the samples within --max-drop minus --margin)")
    static let holdBack = Option<Int>.int("--hold-back", "K", in: 0...1000, default: 0, help: "hold every K-th sample out of everything and report the choice on them, the figures to expect on new data (0: none)")
    static let out = Option<String?>.path("-o", "OUT", help: "write the weights with the selected exits only and their thresholds in the metadata: eec compile and run --weights OUT need no other flag")
    static let plot = Option<String?>.path("--plot", "F.svg", help: "write an SVG of accuracy against cost over T, the chosen points marked")
    static let csv = Option<String?>.path("--csv", "F.csv", help: "write the single-T sweep as CSV")
    static let json = Option<Bool>.flag("--json", help: "print one JSON object (backbone_accuracy, selection with its figures on the searched, held-back and all samples, cross-validation, chosen single T, sweep)")
}

let calibrateCommand = Command(
    name: "calibrate", summary: "choose the exits to keep and their thresholds for an accuracy budget",
    options: [CalibrateOptions.weights, DataOptions.data, DataOptions.labels, DataOptions.samples, DataOptions.mean, DataOptions.std,
              CalibrateOptions.maxDrop, CalibrateOptions.margin, CalibrateOptions.folds, CalibrateOptions.holdBack,
              CalibrateOptions.out, CalibrateOptions.plot, CalibrateOptions.csv, CalibrateOptions.json, exitsBackendOption] + ExitOptions.all,
    rules: DataOptions.rules + ExitOptions.rules,
    details: """
        Evaluates every exit once per sample, then chooses which exits to keep and one threshold
        per exit: the lowest mean path cost (the backbone prefix plus every head run on the way,
        in the MACs the C runtime counts) whose drop stays within --max-drop. Exits not worth
        their heads are dropped. The search's budget and method are chosen by cross-validation
        (--folds; see the README). It also sweeps one threshold T shared by every exit from 0 to
        1, for the table and the plot.

        The exit options (--branches, ...) are read from the weights' metadata; flags given must
        agree with it.
        """
) { args, console in
    let path = args.file
    let weightsPath = args[CalibrateOptions.weights]
    let maxDrop = args[CalibrateOptions.maxDrop]
    let backend = EarlyExitRun.Backend.forExits(args, command: "calibrate", &console)
    let noiseGuard = ExitSelection.NoiseGuard(margin: args[CalibrateOptions.margin], holdBackEvery: args[CalibrateOptions.holdBack],
                                              folds: args[CalibrateOptions.folds])
    let backbone = try loadGraph(path, &console)
    let file = try TrainedWeights.read(weightsPath)
    let configuration = try exitConfiguration(args, recorded: file.metadata, weightsPath: weightsPath)
    guard configuration.hasExits else {
        throw InputError(message: "\(weightsPath): error: no exits to calibrate: the file records no exit configuration (train it with eec train) and no --branches was given")
    }
    if file.metadata["eec.branches"] == nil {
        console.error("\(weightsPath): warning: no trained exits recorded; exit tensors missing from the file are seeded, so the sweep shows untrained exits")
    }
    let withExits: Model
    do {
        withExits = try configuration.pass.run(Model(graph: backbone, weights: file.tensors))
    } catch {
        throw InputError(message: "\(path): \(error)")
    }
    let compiled = try EarlyExitRun.compile(withExits, path: path)
    let bound = try bind(withExits.graph, withExits.weights, source: weightsPath)
    let (inputs, range) = try readData(args, graph: backbone)
    let labels = try readLabels(args, range: range, classes: backbone.classes)
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
        let harness = try EarlyExitRun.harness(compiled, thresholds: Array(repeating: 1, count: exits), command: "calibrate")
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
    if let plot = args[CalibrateOptions.plot] {
        let title = "\(backbone.graph.model): \(attach.count) \(configuration.block) exits, \(inputs.count) samples"
        try writeFile(plot, SweepPlot.svg(points: points, chosen: chosen, perExit: selection.all.point, backboneAccuracy: sweep.backboneAccuracy, title: title))
    }
    if let csv = args[CalibrateOptions.csv] { try writeFile(csv, report.csv) }
    if let out = args[CalibrateOptions.out] {
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
    if args[CalibrateOptions.json] { console.print(report.json.text) } else {
        console.write(report.table)
        if let out = args[CalibrateOptions.out] { console.print("wrote \(out): the backbone and \(selection.enabled.filter { $0 }.count) exits with their thresholds") }
    }
    return ExitStatus.ok
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
