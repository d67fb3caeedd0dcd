import Foundation
import IR

enum StatsOptions {
    static let cost = ExitOptions.cost.help("the convention of the cumulative share: eenets or macs")
    static let json = Option<Bool>.flag("--json", help: "print one JSON object: params, macs, eenets, flops, nodes[] (name, op, shape, params, macs, eenets, share)")
}

let statsCommand = Command(
    name: "stats", summary: "per-node shapes, parameters and cost",
    options: [StatsOptions.cost, StatsOptions.json],
    details: """
        Prints, for each node, its op, output shape, parameters, MACs and the cumulative share of
        the backbone's cost reached after it; then the totals.

        Units: MACs are multiply-accumulates per sample (conv and linear; conv bias adds count);
        FLOPs = 2 x MACs. 'eenets' is the count the EENets/PTEEnet code uses to place exits: MACs
        plus 2 per BatchNorm element, 1 per ReLU element and 1 per pooled input element.
        """
) { args, console in
    let convention = args[StatsOptions.cost]
    let graph = try loadGraph(args.file, &console)
    let report = CostReport(graph, convention: convention)
    if args[StatsOptions.json] {
        console.print(statsJSON(graph, report).text)
    } else {
        console.write(statsTable(graph, report))
    }
    return ExitStatus.ok
}

func statsJSON(_ graph: VerifiedGraph, _ report: CostReport) -> JSON {
    let nodes: [JSON] = report.rows.map { row in
        .object([
            ("name", .string(row.name)), ("op", .string(row.op.name)),
            ("shape", .array(row.shape.map { .int($0) })), ("params", .int(row.params)),
            ("macs", .int(row.cost.macs)), ("eenets", .int(row.cost.eenets)),
            ("share", .double((row.cumulativeShare * 1e6).rounded() / 1e6)), ("backbone", .bool(row.inBackbone)),
        ])
    }
    return .object([
        ("model", .string(graph.graph.model)), ("cost", .string(report.convention.rawValue)),
        ("params", .int(report.params)), ("macs", .int(report.total.macs)), ("eenets", .int(report.total.eenets)),
        ("flops", .int(report.flops)), ("nodes", .array(nodes)),
    ])
}

func statsTable(_ graph: VerifiedGraph, _ report: CostReport) -> String {
    var table = TextTable(columns: ["node", "op", "shape", "params", "MACs", report.convention == .macs ? "cum. MACs" : "cum. eenets"],
                          rightAligned: [false, false, false, true, true, true])
    let heads = graph.ancestors(of: graph.graph.exits.flatMap { [$0.classifier, $0.confidence] })
    let usedByExit = Set(graph.graph.nodes.indices.filter { heads[$0] }.map { graph.graph.nodes[$0].name })
    for row in report.rows {
        table.add([row.name, row.op.name, Tensor.describe(row.shape), grouped(row.params), grouped(row.cost.macs),
                   row.inBackbone ? String(format: "%.1f%%", row.cumulativeShare * 100) : (usedByExit.contains(row.name) ? "exit head" : "unused")])
    }
    var text = table.render()
    text += "\n\(graph.graph.model): \(grouped(report.params)) params, \(grouped(report.total.macs)) MACs "
    text += "(\(String(format: "%.2f", Double(report.total.macs) / 1e6))M; \(grouped(report.flops)) FLOPs), "
    text += "\(grouped(report.total.eenets)) eenets\n"
    return text
}

/// 1234567 → "1,234,567".
func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return value < 0 ? "-" + out : out
}

/// A plain text table with a header rule; columns sized to their widest cell.
struct TextTable {
    var columns: [String]
    var rightAligned: [Bool]
    var rows: [[String]] = []

    init(columns: [String], rightAligned: [Bool]) {
        self.columns = columns
        self.rightAligned = rightAligned
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        var widths = columns.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, cell) in cells.enumerated() {
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                parts.append(rightAligned[i] ? pad + cell : cell + pad)
            }
            var text = parts.joined(separator: "  ")
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        var out = line(columns) + "\n"
        out += line(widths.map { String(repeating: "-", count: $0) }) + "\n"
        for row in rows { out += line(row) + "\n" }
        return out
    }
}
