/// Per-node and total cost of a verified graph: parameters, MACs, the EENets count, FLOPs.
///
/// Totals cover the backbone (what the final output depends on); exit heads are reported apart
/// by the exit passes. Units: `macs` and `eenets` count operations per sample; FLOPs = 2 × MACs.
public struct CostReport: Sendable {
    public enum Convention: String, CaseIterable, Sendable {
        case macs, eenets
    }

    public struct Row: Sendable {
        public var name: String
        public var op: OpKind
        public var shape: [Int]
        public var params: Int
        public var cost: Cost
        /// Share of the backbone total reached after this node, in the chosen convention (0...1).
        public var cumulativeShare: Double
        public var inBackbone: Bool
    }

    public var rows: [Row]
    public var params: Int
    public var total: Cost
    public var convention: Convention

    public var flops: Int { total.macs.saturatingMul(2) }

    public init(_ g: VerifiedGraph, convention: Convention = .eenets) {
        let backbone = g.backbone()
        var rows: [Row] = []
        rows.reserveCapacity(g.graph.nodes.count)
        var params = 0
        var total = Cost.zero
        for (i, node) in g.graph.nodes.enumerated() {
            let cost = g.cost(node)
            let p = g.parameters(node).filter(\.learnable).reduce(0) { $0.saturatingAdd(elementCount($1.shape)) }
            if backbone[i] {
                params = params.saturatingAdd(p)
                total += cost
            }
            rows.append(Row(name: node.name, op: node.op, shape: g.shape(node.name), params: p, cost: cost,
                            cumulativeShare: 0, inBackbone: backbone[i]))
        }
        let denominator = Double(max(1, convention == .macs ? total.macs : total.eenets))
        var running = 0
        for i in rows.indices where rows[i].inBackbone {
            running = running.saturatingAdd(convention == .macs ? rows[i].cost.macs : rows[i].cost.eenets)
            rows[i].cumulativeShare = Double(running) / denominator
        }
        self.rows = rows
        self.params = params
        self.total = total
        self.convention = convention
    }
}
