/// What a sample costs, by where it leaves: the one definition of the path cost, used by the exit
/// cost report, the threshold sweep and the exit selection.
///
/// A sample that leaves at exit k pays the backbone prefix up to exit k's attach point plus the
/// heads of every *enabled* exit it reached, its own included; one that reaches the end pays the
/// whole backbone plus every enabled head. A switched-off exit (T = 1) costs nothing: its head is
/// not run. This is the rule the C runtime counts MACs by at run time (`eec_run` in
/// Sources/Runtime/c/eec_runtime.c): it adds `segment_macs[k]` for every segment run and
/// `head_macs[k]` for every exit whose threshold logit is below `EEC_LOGIT_MAX`, i.e. not switched
/// off. (The runtime counts the MACs of the compiled, fused graph; a report may count in another
/// convention, so the units can differ, not the rule.)
///
/// The unit is whatever the vectors are given in; from an `ExitCostReport` it is fractions of the
/// backbone (`backbone` = 1).
public struct PathCost: Equatable, Sendable {
    /// Per exit: the backbone cost up to its attach point.
    public var prefix: [Double]
    /// Per exit: its head's cost.
    public var head: [Double]
    /// The whole backbone.
    public var backbone: Double

    public var exits: Int { prefix.count }

    public init(prefix: [Double], head: [Double], backbone: Double = 1) {
        precondition(prefix.count == head.count, "PathCost: \(prefix.count) prefixes, \(head.count) heads")
        self.prefix = prefix
        self.head = head
        self.backbone = backbone
    }

    /// In fractions of the backbone, in the report's convention.
    public init(_ report: ExitCostReport) {
        let total = Double(max(1, report.total.value(report.convention)))
        let exits = report.rows.filter { $0.exit != nil }
        self.init(prefix: exits.map { Double($0.prefix.value(report.convention)) / total },
                  head: exits.map { Double($0.head.value(report.convention)) / total })
    }

    /// Which exits are enabled under `thresholds`: T < 1 (T ≥ 1 switches an exit off, as
    /// `ExitRule.logitThreshold` and the C runtime's `EEC_LOGIT_MAX` do). Missing entries are off.
    public static func enabled(_ thresholds: [Double], exits: Int) -> [Bool] {
        (0..<exits).map { $0 < thresholds.count && thresholds[$0] < 1 }
    }

    /// The cost of a sample leaving at exit `k` (`exits`: at the end of the backbone). Exits
    /// beyond `enabled.count` count as switched off.
    public func cost(leavingAt k: Int, enabled: [Bool]) -> Double {
        precondition((0...exits).contains(k), "PathCost: no exit \(k) of \(exits)")
        return costs(enabled: enabled)[k]
    }

    /// `cost(leavingAt:enabled:)` for every exit, then the end, in one pass.
    public func costs(enabled: [Bool]) -> [Double] {
        var heads = 0.0
        var out: [Double] = []
        out.reserveCapacity(exits + 1)
        for e in 0..<exits {
            if e < enabled.count && enabled[e] { heads += head[e] }
            out.append(prefix[e] + heads)
        }
        out.append(backbone + heads)
        return out
    }

    /// The cost rate the EENets/PTEEnet papers report for leaving at exit `k`: its prefix and its
    /// own head only (earlier heads not counted); the whole backbone at the end.
    public func costRate(leavingAt k: Int) -> Double {
        k < exits ? prefix[k] + head[k] : backbone
    }
}
