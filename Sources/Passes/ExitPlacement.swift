import Foundation
import IR

/// The placement rule of the EENets/PTEEnet reference code: walking the candidates in order,
/// exit i goes after the first candidate whose backbone-prefix cost (exit heads not counted) is
/// ≥ total × f(i); one exit per candidate, so when two thresholds fall before the same candidate
/// the second exit moves on to the next one.
public struct ExitPlacement: Sendable {
    /// Indices (into the graph's nodes) of the nodes the exits attach after, in order.
    public var attachNodes: [Int]
    /// The thresholds τ_i the rule used, in the cost convention.
    public var thresholds: [Double]

    public static func place(_ g: VerifiedGraph, branches: Int, distribution: Distribution,
                             convention: CostReport.Convention, candidateOps: Set<OpKind>? = nil) throws(PassError) -> ExitPlacement {
        let candidates = ExitCandidates.find(g, ops: candidateOps)
        let report = CostReport(g, convention: convention)
        let total = Double(report.total.value(convention))
        let thresholds = (0..<branches).map { total * distribution.fraction($0, of: branches) }
        let prefix = prefixCosts(report)
        var attach: [Int] = []
        for candidate in candidates where attach.count < branches {
            if Double(prefix[candidate]) >= thresholds[attach.count] { attach.append(candidate) }
        }
        guard attach.count == branches else {
            let names = candidates.map { g.graph.nodes[$0].name }
            throw PassError(pass: "insert-exits", message: """
                only \(attach.count) of \(branches) exits fit with distribution '\(distribution.rawValue)' \
                (\(candidates.count) exit candidates: \(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? ", ..." : "")); \
                ask for fewer branches or another distribution
                """)
        }
        return ExitPlacement(attachNodes: attach, thresholds: thresholds)
    }

    /// Cumulative backbone cost after each node (exit-head nodes add nothing).
    public static func prefixCosts(_ report: CostReport) -> [Int] {
        var running = 0
        return report.rows.map { row in
            if row.inBackbone { running = running.saturatingAdd(row.cost.value(report.convention)) }
            return running
        }
    }
}

extension Cost {
    /// The count in one convention.
    public func value(_ convention: CostReport.Convention) -> Int {
        convention == .macs ? macs : eenets
    }
}
