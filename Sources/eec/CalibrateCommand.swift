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
                            [--plot out.svg] [--csv out.csv] [--json] [--backend interp|c]

        Evaluates every exit once per sample, then sweeps the threshold T from 0 to 1 (step 0.005)
        and reports for each T the agreement with the backbone, the accuracy against --labels,
        the mean cost rate (the papers' count), the mean true path cost and where samples leave.
        Picks the cheapest T whose drop (in accuracy with labels, else in agreement) is at most
        --max-drop, then searches one threshold per exit that is cheaper at the same drop.
        Cheapest means the lowest mean path cost, the compute really spent with the heads run on
        the way; a threshold of 1 switches an exit off, and its head is then not run.

          --max-drop D   allowed drop, as a fraction (default 0.01: one percentage point)
          --plot F       write an SVG of accuracy against cost over T, the chosen point marked
          --csv F        write the whole sweep as CSV
          --json         print one JSON object (backbone_accuracy, backbone_agreement, chosen,
                         chosen_by_cost_rate, per_exit, sweep)
          --backend B    evaluate the exits in the reference interpreter (interp, default) or in
                         the generated C (c: built with clang or $CC, many times faster)
        Exit options (--branches, ...) are read from the weights' metadata; given flags must agree.
        """,
    valued: exitOptionNames.union(["--weights", "--data", "--labels", "--samples", "--mean", "--std", "--max-drop", "--plot", "--csv", "--seed", "--backend"]),
    switches: ["--json"]
) { args, console in
    let path = try args.file()
    guard let weightsPath = args.options["--weights"] else { throw Arguments.UsageError(message: "missing --weights trained.safetensors") }
    let maxDrop = try number(args, "--max-drop", default: 0.01, range: 0...1)
    let backend = try args.choice("--backend", default: EarlyExitRun.Backend.interp, EarlyExitRun.Backend.allCases)
    let backbone = try loadGraph(path, &console)
    let file = try TrainedWeights.read(weightsPath)
    let configuration = try exitConfiguration(args, recorded: file.metadata)
    guard configuration.branches > 0 else {
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
    let costs = ExitCostReport(withExits.graph, convention: configuration.convention)
    let sweep = ThresholdSweep(evaluation: evaluation, labels: labels, costs: costs)
    let points = sweep.sweep()
    let chosen = sweep.choose(maxDrop: maxDrop, from: points)
    let perExit = sweep.searchPerExit(maxDrop: maxDrop, start: chosen)
    let report = CalibrationReport(sweep: sweep, points: points, chosen: chosen,
                                   papers: sweep.choose(maxDrop: maxDrop, from: points, by: .costRate), perExit: perExit, maxDrop: maxDrop,
                                   attach: costs.rows.dropLast().map(\.attach), model: backbone.graph.model, seconds: seconds)
    if let plot = args.options["--plot"] {
        let title = "\(backbone.graph.model): \(configuration.branches) \(configuration.block) exits, \(inputs.count) samples"
        try writeFile(plot, SweepPlot.svg(points: points, chosen: chosen, perExit: perExit, backboneAccuracy: sweep.backboneAccuracy, title: title))
    }
    if let csv = args.options["--csv"] { try writeFile(csv, report.csv) }
    if args.flags.contains("--json") { console.print(report.json.text) } else { console.write(report.table) }
    return ExitStatus.ok
}

/// The printed forms of a calibration: table, CSV, JSON.
struct CalibrationReport {
    var sweep: ThresholdSweep
    var points: [SweepPoint]
    var chosen: SweepPoint
    /// The cheapest by the papers' cost rate, for comparison with their figures.
    var papers: SweepPoint
    var perExit: SweepPoint
    var maxDrop: Double
    var attach: [String]
    var model: String
    var seconds: Double

    var exits: Int { attach.count }

    func row(_ p: SweepPoint) -> [String] {
        let histogram = p.histogram.map { String($0) }.joined(separator: "/")
        return [String(format: "%.3f", p.thresholds.first ?? 1), percent(p.agreement),
                p.accuracy.map(percent) ?? "-", percent(p.costRate), percent(p.pathCost), histogram]
    }

    var table: String {
        var text = "\(model): \(exits) exits after \(attach.joined(separator: ", ")); \(sweep.evaluation.count) samples evaluated in \(String(format: "%.1f", seconds)) s\n"
        if let base = sweep.backboneAccuracy { text += "backbone accuracy \(percent(base))\n" }
        text += "\n"
        var t = TextTable(columns: ["T", "agreement", "accuracy", "cost rate", "path cost", "exits (\((0..<exits).map(String.init).joined(separator: "/"))/final)"],
                          rightAligned: [true, true, true, true, true, false])
        for (i, p) in points.enumerated() where i % 10 == 0 || p.thresholds == chosen.thresholds { t.add(row(p)) }
        text += t.render()
        text += "(every 0.05 shown; --csv has all \(points.count) thresholds)\n\n"
        let metric = sweep.backboneAccuracy == nil ? "agreement" : "accuracy"
        text += "chosen: T = \(String(format: "%.3f", chosen.thresholds.first ?? 1)), the cheapest within a \(percent(maxDrop)) drop in \(metric): "
        text += "cost rate \(percent(chosen.costRate)), path cost \(percent(chosen.pathCost)), agreement \(percent(chosen.agreement))"
        if let acc = chosen.accuracy { text += ", accuracy \(percent(acc))" }
        text += "\nper-exit thresholds: \(perExit.thresholds.map { String(format: "%.3f", $0) }.joined(separator: ",")): "
        text += "cost rate \(percent(perExit.costRate)), path cost \(percent(perExit.pathCost))"
        if let acc = perExit.accuracy { text += ", accuracy \(percent(acc))" }
        let saving = chosen.pathCost - perExit.pathCost
        text += saving > 1e-9 ? " (path cost \(String(format: "%.1f", saving * 100)) points below the single T)\n" : " (no cheaper than the single T)\n"
        if papers.thresholds != chosen.thresholds {
            text += "by the papers' cost rate instead: T = \(String(format: "%.3f", papers.thresholds.first ?? 1)), "
            text += "cost rate \(percent(papers.costRate)), path cost \(percent(papers.pathCost))"
            if let acc = papers.accuracy { text += ", accuracy \(percent(acc))" }
            text += "\n"
        }
        let off = chosen.thresholds.enumerated().filter { $0.element >= 1 }.map(\.offset)
        let dead = chosen.histogram.dropLast().enumerated()
            .filter { !off.contains($0.offset) && Double($0.element) < 0.01 * Double(max(1, sweep.evaluation.count)) }.map(\.offset)
        if !off.isEmpty { text += "switched off at the chosen T (their heads cost more than they save): \(off.map(String.init).joined(separator: ", "))\n" }
        if !dead.isEmpty { text += "dead exits at the chosen T (< 1 % of samples): \(dead.map(String.init).joined(separator: ", "))\n" }
        text += "compile with: --thresholds \(perExit.thresholds.map { String(format: "%.3f", $0) }.joined(separator: ","))\n"
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

    var json: JSON {
        .object([
            ("model", .string(model)), ("samples", .int(sweep.evaluation.count)),
            ("exits", .array(attach.map { .string($0) })),
            ("backbone_accuracy", sweep.backboneAccuracy.map { .double($0) } ?? .null), ("backbone_agreement", .double(1.0)),
            ("max_drop", .double(maxDrop)), ("chosen", object(chosen, single: true)),
            ("chosen_by_cost_rate", object(papers, single: true)), ("per_exit", object(perExit, single: false)),
            ("sweep", .array(points.map { object($0, single: true) })),
        ])
    }
}
