import IR

/// The cost of each exit, read off a graph with exits (the papers' figures are computed before
/// fusion). For exit i:
/// - `prefix`: backbone cost up to its attach node;
/// - `head`: its own head's cost;
/// - `costRate` = (prefix + head) / total, the rate the EENets/PTEEnet papers report (earlier,
///   rejected heads not counted; the final exit is 1 by definition);
/// - `pathCost` = (prefix + every head evaluated so far) / total: what a sample that exits here
///   really cost, the heads of the exits it passed included, every exit enabled (`PathCost`, the
///   one definition, gives it for any set of enabled exits).
public struct ExitCostReport: Sendable {
    public struct Row: Sendable {
        /// nil for the final exit (the backbone's own output).
        public var exit: String?
        public var attach: String
        public var prefix: Cost
        public var head: Cost
        public var costRate: Double
        public var pathCost: Double
    }

    public var rows: [Row]
    public var total: Cost
    public var convention: CostReport.Convention

    /// `headLinearsOnly` reproduces a quirk of the EENets code: its exit block keeps BN and pool
    /// layers in a plain Python list, so its FLOPs counter only sees the two linear layers.
    public init(_ g: VerifiedGraph, convention: CostReport.Convention = .eenets, headLinearsOnly: Bool = false) {
        let graph = g.graph
        let index = graph.nodeIndex()
        let report = CostReport(g, convention: convention)
        let prefix = ExitPlacement.prefixCosts(report)
        let backbone = graph.backbone(index: index)
        let total = report.total
        let denominator = Double(max(1, total.value(convention)))
        var rows: [Row] = []
        for exit in graph.exits {
            let members = graph.ancestors(of: [exit.classifier, exit.confidence], index: index)
            var head = Cost.zero
            var attach = -1
            for i in graph.nodes.indices where members[i] {
                if backbone[i] {
                    attach = max(attach, i)
                } else if !headLinearsOnly || graph.nodes[i].op == .linear {
                    head += report.rows[i].cost
                }
            }
            let prefixCost = attach >= 0 ? prefix[attach] : 0
            let prefixBoth = attach >= 0 ? Self.prefixBoth(report, upTo: attach) : .zero
            rows.append(Row(exit: exit.name, attach: attach >= 0 ? graph.nodes[attach].name : graph.input.name,
                            prefix: prefixBoth, head: head,
                            costRate: Double(prefixCost.saturatingAdd(head.value(convention))) / denominator,
                            pathCost: 0))
        }
        rows.append(Row(exit: nil, attach: graph.output.name, prefix: total, head: .zero, costRate: 1, pathCost: 0))
        self.rows = rows
        self.total = total
        self.convention = convention
        // The path costs come from the one definition, every exit enabled.
        let paths = PathCost(self).costs(enabled: [Bool](repeating: true, count: graph.exits.count))
        for i in self.rows.indices { self.rows[i].pathCost = paths[i] }
    }

    /// Backbone cost in both conventions up to and including node `upTo`.
    static func prefixBoth(_ report: CostReport, upTo: Int) -> Cost {
        var cost = Cost.zero
        for row in report.rows[...upTo] where row.inBackbone { cost += row.cost }
        return cost
    }
}
