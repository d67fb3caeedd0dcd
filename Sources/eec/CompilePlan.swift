import Foundation
import IR
import Passes

/// What `eec compile` reports: exits and their costs (before fusion, the papers' figures),
/// the executed cost after fusion, segments, and the memory plan.
struct CompilePlan {
    var model: String
    var options: CompileOptions
    var exits: ExitCostReport
    var backbone: CostReport
    var executed: CostReport
    var segments: [(name: String, input: String, output: String, nodes: Int)]
    var memory: MemoryPlan
    var headParams: Int

    init(original: VerifiedGraph, withExits: VerifiedGraph, compiled: VerifiedGraph, options: CompileOptions) {
        model = original.graph.model
        self.options = options
        exits = ExitCostReport(withExits, convention: options.convention, headLinearsOnly: options.headLinearsOnly)
        backbone = CostReport(original, convention: options.convention)
        executed = CostReport(compiled, convention: options.convention)
        headParams = CostReport(withExits).rows.filter { !$0.inBackbone }.reduce(0) { $0 + $1.params }
        let index = compiled.graph.nodeIndex()
        segments = compiled.graph.segments.map { s in
            let from = (index[s.input] ?? -1) + 1, to = index[s.output] ?? -1
            let backbone = compiled.graph.backbone(index: index)
            return (s.name, s.input, s.output, from <= to ? (from...to).filter { backbone[$0] }.count : 0)
        }
        memory = MemoryPlan(compiled, alignment: options.alignment)
    }

    var table: String {
        let c = options.convention.rawValue
        var text = "\(model): \(exits.rows.count - 1) exit\(exits.rows.count == 2 ? "" : "s")"
        if options.exits.hasExits { text += " (\(options.exits.sitesDescription), \(options.exits.block) heads, \(c) cost)" }
        text += "\n\n"
        var t = TextTable(columns: ["exit", "after", "prefix MACs", "head MACs", "cost rate", "path cost"],
                          rightAligned: [false, false, true, true, true, true])
        for (i, row) in exits.rows.enumerated() {
            t.add([row.exit == nil ? "final" : String(i), row.attach, grouped(row.prefix.macs), grouped(row.head.macs),
                   percent(row.costRate), percent(row.pathCost)])
        }
        text += t.render() + "\n"
        text += "cost rate = (prefix + this head) / backbone, in \(c) (the papers' figure); "
        text += "path cost adds every head evaluated on the way.\n\n"
        text += "backbone: \(grouped(backbone.params)) params, \(grouped(backbone.total.macs)) MACs, \(grouped(backbone.total.eenets)) eenets"
        if headParams > 0 { text += "; exit heads: \(grouped(headParams)) params" }
        text += "\nexecuted after fusion: \(grouped(executed.total.macs)) MACs, \(grouped(executed.total.eenets)) eenets (backbone)\n"
        text += "segments: " + segments.map { "\($0.name) \($0.input) -> \($0.output) (\($0.nodes) nodes)" }.joined(separator: ", ") + "\n"
        text += "arena: \(grouped(memory.arenaBytes)) bytes (lower bound \(grouped(memory.lowerBoundBytes)), "
        text += "no reuse \(grouped(memory.noReuseBytes)); \(memory.alignment)-byte aligned)\n"
        return text
    }

    var json: JSON {
        let rows: [JSON] = exits.rows.enumerated().map { i, row in
            .object([
                ("index", row.exit == nil ? .string("final") : .int(i)), ("name", row.exit.map { .string($0) } ?? .null),
                ("after", .string(row.attach)),
                ("prefix_macs", .int(row.prefix.macs)), ("head_macs", .int(row.head.macs)),
                ("prefix_cost", .int(row.prefix.value(options.convention))), ("head_cost", .int(row.head.value(options.convention))),
                ("cost_rate", .double(row.costRate)), ("path_cost", .double(row.pathCost)),
            ])
        }
        return .object([
            ("model", .string(model)), ("cost", .string(options.convention.rawValue)),
            ("distribution", .string(options.exits.distribution.rawValue)), ("exit_block", .string(options.exits.block.description)),
            ("exits", .array(Array(rows.dropLast()))), ("final", rows.last ?? .null),
            ("backbone_params", .int(backbone.params)), ("backbone_macs", .int(backbone.total.macs)),
            ("backbone_eenets", .int(backbone.total.eenets)), ("head_params", .int(headParams)),
            ("executed_macs", .int(executed.total.macs)), ("executed_eenets", .int(executed.total.eenets)),
            ("segments", .array(segments.map { .object([("name", .string($0.name)), ("input", .string($0.input)), ("output", .string($0.output)), ("nodes", .int($0.nodes))]) })),
            ("arena_bytes", .int(memory.arenaBytes)), ("arena_lower_bound_bytes", .int(memory.lowerBoundBytes)),
            ("arena_no_reuse_bytes", .int(memory.noReuseBytes)), ("alignment", .int(memory.alignment)),
        ])
    }
}

func percent(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
