import Foundation
import Passes

/// Chooses how hard `ExitSearch` may spend the drop budget, by cross-validation.
///
/// A search over 20-odd exits × a hundred thresholds each finds choices that meet the budget on
/// the samples it searched by carving around their particular errors; on new samples the drop
/// is larger (measured on ResNet-44: within 1 point searched, 2 to 4 points held back). How much
/// larger depends on the network, the heads and the data, so it is measured rather than guessed:
/// for each setting — a method, and a budget b (a fraction of `maxDrop`) the method must meet on
/// the samples it sees — the samples are split
/// into `folds` interleaved folds; the search runs on all folds but one and its choice is
/// measured on the one left out, for each fold in turn. Every sample is thus measured once by a
/// choice that never saw it: the cross-validated drop and path cost are what the setting gives
/// on new data. The setting chosen is the one of lowest cross-validated path cost whose
/// cross-validated drop, plus `margin` standard errors (√changed / N), stays within `maxDrop`;
/// the final search then runs on every sample with it.
///
/// The methods: `search` with a number of threshold candidates per exit (fewer: coarser
/// thresholds, less room to overfit) — the free per-exit search of `ExitSearch`, counting only
/// losses (an exit wrong where the backbone is right), not lucky gains; and `calibrated`, one
/// price of compute over calibrated confidences (`CalibratedPolicy`), far fewer degrees of
/// freedom. The measurement on left-out samples counts gains and losses, as accuracy does.
public struct CrossValidation: Sendable {
    public enum Method: Sendable, Equatable, CustomStringConvertible {
        case search(candidates: Int)
        case calibrated

        public var description: String {
            switch self {
            case .search(let c): return "search (\(c) thresholds per exit)"
            case .calibrated: return "calibrated confidence, one price"
            }
        }
    }

    /// One setting, measured.
    public struct Row: Sendable {
        public var budget: Double
        public var method: Method
        public var drop: Double
        public var standardError: Double
        public var pathCost: Double
        public var fits: Bool
    }

    public var folds: Int
    public var rows: [Row]
    /// The setting chosen (budget 0, calibrated, when none fits: the most careful).
    public var budget: Double
    public var method: Method
    /// Its cross-validated figures.
    public var drop: Double
    public var standardError: Double
    public var pathCost: Double

    public static let budgetFractions: [Double] = [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0]
    public static let methods: [Method] = [.calibrated, .search(candidates: 6), .search(candidates: 12), .search(candidates: 24)]

    /// The thresholds `method` chooses on `part` within `budget`.
    static func thresholds(_ method: Method, _ part: ExitSelection.Part, path: PathCost, budget: Double) -> [Double] {
        switch method {
        case .search(let candidates):
            let search = ExitSearch(evaluation: part.evaluation, labels: part.labels, path: path, maxDrop: budget,
                                    margin: .fixed(0), candidatesPerExit: candidates, creditGains: false)
            return search.thresholds(search.run())
        case .calibrated:
            return CalibratedPolicy(part.evaluation, path: path).choose(part, budget: budget)
        }
    }

    init(_ part: ExitSelection.Part, path: PathCost, maxDrop: Double, folds k: Int,
         margin: ExitSelection.NoiseGuard.Margin) {
        let n = part.evaluation.count
        let foldOf = (0..<n).map { $0 % k }
        let parts = (0..<k).map { f in
            (train: ExitSelection.Part(part.evaluation, part.labels, (0..<n).filter { foldOf[$0] != f }),
             test: ExitSelection.Part(part.evaluation, part.labels, (0..<n).filter { foldOf[$0] == f }))
        }
        var rows: [Row] = []
        for method in Self.methods {
            for fraction in Self.budgetFractions {
                let budget = maxDrop * fraction
                var dropCount = 0.0, cost = 0.0, changed = 0
                for (train, test) in parts where test.evaluation.count > 0 {
                    let figures = test.figures(Self.thresholds(method, train, path: path, budget: budget), path)
                    let m = Double(figures.samples)
                    dropCount += figures.drop * m
                    cost += figures.point.pathCost * m
                    changed += figures.point.changed
                }
                let drop = dropCount / Double(max(1, n)), se = Double(changed).squareRoot() / Double(max(1, n))
                let allowance: Double
                switch margin {
                case .standardErrors(let s): allowance = s * se
                case .fixed(let f): allowance = f
                }
                rows.append(Row(budget: budget, method: method, drop: drop, standardError: se,
                                pathCost: cost / Double(max(1, n)), fits: drop + allowance <= maxDrop + 1e-12))
            }
        }
        let best = rows.filter(\.fits).min { a, b in
            a.pathCost != b.pathCost ? a.pathCost < b.pathCost : a.budget < b.budget
        } ?? Row(budget: 0, method: .calibrated, drop: 0, standardError: 0, pathCost: path.backbone, fits: true)
        folds = k
        self.rows = rows
        budget = best.budget
        method = best.method
        drop = best.drop
        standardError = best.standardError
        pathCost = best.pathCost
    }
}
