import Foundation
import IR
import Passes
import Testing
@testable import Training

/// Exit selection on made-up evaluations whose best choice is known by construction. The
/// backbone is right on every sample (labels = its classes), so every answer an exit gets wrong
/// is one error.
@Suite("Exit selection")
struct ExitSelectionTests {
    /// A sample's answers at each exit: (right?, confidence logit).
    typealias Answer = (right: Bool, logit: Float)

    /// An evaluation of `count` samples, backbone class s % 10, exit answers from `answer`;
    /// a wrong answer is the next class.
    static func evaluation(_ count: Int, exits: Int, _ answer: (Int, Int) -> Answer) -> ExitEvaluation {
        let backbone = (0..<count).map { $0 % 10 }
        let answers = (0..<count).map { s in (0..<exits).map { answer(s, $0) } }
        return ExitEvaluation(exitClasses: answers.enumerated().map { s, a in a.map { $0.right ? backbone[s] : (backbone[s] + 1) % 10 } },
                              confidenceLogits: answers.map { $0.map(\.logit) }, backboneClasses: backbone)
    }

    /// A small spread, so no two samples share a logit.
    static func jitter(_ s: Int) -> Float { Float(s % 97) / 200 }

    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-9 }

    /// Exit 0 is confident on the even samples and always wrong; exit 1 never confident and
    /// always wrong; exit 2 (cheap) confident and right on the even samples, wrong on the odd;
    /// exit 3 right everywhere, confident on the odd. The best is exits 2 and 3: even samples
    /// leave at 2 for 0.3 + its head, odd ones at 3 for 0.6 + 2 heads, 0.465 on average.
    static let fourExits = evaluation(300, exits: 4) { s, x in
        let even = s % 2 == 0, j = jitter(s)
        switch x {
        case 0: return (false, even ? 4 + j : -4 + j)
        case 1: return (false, -6 + j)
        case 2: return (even, even ? 3 + j : -3 + j)
        default: return (true, even ? j : 2 + j)
        }
    }
    static let fourCosts = PathCost(prefix: [0.1, 0.2, 0.3, 0.6], head: [0.01, 0.01, 0.01, 0.01])

    @Test("The known best subset: exits 2 and 3, with labels and without")
    func knownSubset() throws {
        let e = Self.fourExits
        for labels in [e.backboneClasses, nil] {
            let s = try ExitSelection(evaluation: e, labels: labels, path: Self.fourCosts, maxDrop: 0.01)
            #expect(s.enabled == [false, false, true, true])
            #expect(s.thresholds[0] == 1 && s.thresholds[1] == 1)
            #expect(s.all.drop == 0 && s.selection.drop == 0)
            #expect(close(s.all.point.pathCost, 0.465))
            #expect(s.all.point.histogram == [0, 0, 150, 150, 0])
            #expect(s.thresholdLogits[0] == .infinity && s.thresholdLogits[2] < 3 && s.thresholdLogits[2] > -3)
        }
    }

    @Test("Every exit always wrong: the budget forbids them all")
    func allOff() throws {
        let e = Self.evaluation(300, exits: 3) { s, x in (false, Float(x) + Self.jitter(s) * 10 - 3) }
        let costs = PathCost(prefix: [0.1, 0.2, 0.3], head: [0.01, 0.01, 0.01])
        for (maxDrop, noiseGuard) in [(0.0, ExitSelection.NoiseGuard.none), (0.01, .standard)] {
            let s = try ExitSelection(evaluation: e, labels: e.backboneClasses, path: costs, maxDrop: maxDrop, noiseGuard: noiseGuard)
            #expect(s.thresholds == [1, 1, 1])
            #expect(s.enabled == [false, false, false])
            #expect(s.all.point.pathCost == 1 && s.all.drop == 0)
            #expect(s.all.point.histogram == [0, 0, 0, 300])
        }
    }

    /// One exit, its logits falling with s, wrong on every tenth sample. Within 2 % of 600 samples
    /// (12 errors) it may take the samples up to the 12th error; with one standard error as
    /// margin, errors + √errors ≤ 12 allows 9.
    @Test("The margin makes the choice more conservative")
    func marginIsConservative() throws {
        let e = Self.evaluation(600, exits: 1) { s, _ in (s % 10 != 9, 10 - Float(s) / 30) }
        let costs = PathCost(prefix: [0.2], head: [0.01])
        func select(_ margin: ExitSelection.NoiseGuard.Margin) throws -> ExitSelection {
            try ExitSelection(evaluation: e, labels: e.backboneClasses, path: costs, maxDrop: 0.02,
                              noiseGuard: .init(margin: margin, holdBackEvery: 0))
        }
        let loose = try select(.fixed(0)), guarded = try select(.standardErrors(1))
        #expect(loose.margin == 0)
        #expect(loose.all.point.changed <= 12 && loose.all.point.changed >= 11)
        #expect(guarded.all.point.changed <= 9 && guarded.all.point.changed >= 8)
        #expect(guarded.all.point.histogram[0] < loose.all.point.histogram[0])
        #expect(guarded.all.point.pathCost > loose.all.point.pathCost)
        #expect(close(guarded.margin, guarded.selection.standardError))
        #expect(guarded.selection.drop + guarded.margin <= 0.02 + 1e-12)
        // A fixed margin of one point: 6 errors.
        let fixed = try select(.fixed(0.01))
        #expect(fixed.all.point.changed <= 6 && fixed.margin == 0.01)
    }

    /// Exit 0 is right on the samples searched and wrong on those held back (s % 3 == 2): the
    /// selection takes it, and only the held-back figures show what it costs in accuracy.
    @Test("The held-back figures are measured on the other samples")
    func heldBack() throws {
        let e = Self.evaluation(300, exits: 1) { s, _ in (s % 3 != 2, 2 + Self.jitter(s)) }
        let costs = PathCost(prefix: [0.2], head: [0.01])
        let s = try ExitSelection(evaluation: e, labels: e.backboneClasses, path: costs, maxDrop: 0.01)
        #expect(s.selection.samples == 200 && s.heldBack?.samples == 100 && s.all.samples == 300)
        #expect(s.enabled == [true])
        #expect(s.selection.drop == 0)
        let held = try #require(s.heldBack)
        #expect(held.drop == 1 && held.point.histogram == [100, 0])
        // The same figures as a sweep over samples 2, 5, 8, ... by hand.
        let indices = Array(stride(from: 2, to: 300, by: 3))
        let part = ExitEvaluation(exitClasses: indices.map { e.exitClasses[$0] }, confidenceLogits: indices.map { e.confidenceLogits[$0] },
                                  backboneClasses: indices.map { e.backboneClasses[$0] })
        let sweep = ThresholdSweep(evaluation: part, labels: part.backboneClasses, path: costs)
        let point = sweep.evaluate(s.thresholds)
        #expect(point.histogram == held.point.histogram && point.pathCost == held.point.pathCost && point.accuracy == held.point.accuracy)
        #expect(zip(s.selection.point.histogram, held.point.histogram).map(+) == s.all.point.histogram)
        #expect(close(s.all.drop, 1.0 / 3))
    }

    @Test("Mismatched inputs are errors, not crashes")
    func inputErrors() {
        let e = Self.fourExits
        #expect(throws: ExitSelection.InputError.self) {
            try ExitSelection(evaluation: e, labels: [1, 2], path: Self.fourCosts, maxDrop: 0.01)
        }
        #expect(throws: ExitSelection.InputError.self) {
            try ExitSelection(evaluation: e, labels: nil, path: PathCost(prefix: [0.5], head: [0.01]), maxDrop: 0.01)
        }
    }

    @Test("Candidates: quantiles of the logits, halfway between distinct values, off first")
    func candidates() {
        let c = ExitSearch.candidates([3, 2, 2, 1, .nan], count: 5)
        #expect(c.map(\.cut) == [0, 1, 3, 4])
        #expect(c[0].threshold == 1 && c[0].logit == .infinity)
        #expect(abs(c[1].logit - 2.5) < 1e-9 && abs(c[2].logit - 1.5) < 1e-9)
        #expect(c[3].threshold == 0)      // below the lowest: T = 0 (the NaN never exits)
    }

    /// The engine's one-pass pricing of every candidate of an exit against computing each choice
    /// from scratch, and that against the threshold sweep's own figures, on random choices.
    @Test("Pricing every candidate in one pass matches evaluating each choice")
    func pricingMatchesEvaluation() {
        let (e, labels, path) = Self.realistic(samples: 200, exits: 5, seed: 3)
        let search = ExitSearch(evaluation: e, labels: labels, path: path, maxDrop: 0.01, margin: .fixed(0), candidatesPerExit: 16)
        let sweep = ThresholdSweep(evaluation: e, labels: labels, path: path)
        var rng = SplitMix64(seed: 11)
        for _ in 0..<20 {
            let pick = search.candidates.map { Int(rng.next() % UInt64($0.count)) }
            let state = search.state(pick)
            let point = sweep.evaluate(search.thresholds(state))
            #expect(abs(state.tally.cost / 200 - point.pathCost) < 1e-9)
            #expect(abs(Double(state.tally.drop) / 200 - sweep.drop(point)) < 1e-12 && state.tally.changed == point.changed)
            for x in 0..<5 {
                let priced = search.price(x, state)
                for k in search.candidates[x].indices {
                    var other = pick
                    other[x] = k
                    let t = search.state(other).tally
                    #expect(abs(priced.tallies[k].cost - t.cost) < 1e-9 && priced.tallies[k].drop == t.drop && priced.tallies[k].changed == t.changed)
                    var applied = state
                    search.apply(x, k, priced, to: &applied)
                    #expect(applied.exitOf == search.state(other).exitOf)
                }
            }
        }
    }

    /// 22 exits × 1,500 samples shaped like ResNet-44's: exit x agrees with the backbone more often
    /// the deeper it is, confidently when it does; heads of 0.02 % of the backbone; the backbone
    /// right on 92.5 %. Set EEC_SELECTION_REPORT=1 to print the time and the figures.
    static func realistic(samples: Int, exits: Int, seed: UInt64) -> (ExitEvaluation, [Int], PathCost) {
        var rng = SplitMix64(seed: seed)
        var classes: [[Int]] = [], logits: [[Float]] = [], backbone: [Int] = [], labels: [Int] = []
        for s in 0..<samples {
            let difficulty = rng.uniform(0, 1), b = s % 10
            backbone.append(b)
            labels.append(rng.uniform(0, 1) < 0.925 ? b : (b + 1) % 10)
            var c: [Int] = [], z: [Float] = []
            for x in 0..<exits {
                let skill = 0.3 + 0.65 * Float(x + 1) / Float(exits + 1)
                let agrees = 0.8 * difficulty + 0.2 * rng.uniform(0, 1) < skill
                c.append(agrees ? b : (b + 1 + x % 9) % 10)
                z.append((agrees ? 1 + 4 * skill : -1) + rng.uniform(-3, 3))
            }
            classes.append(c)
            logits.append(z)
        }
        let path = PathCost(prefix: (0..<exits).map { Double($0 + 1) / Double(exits + 1) },
                            head: [Double](repeating: 0.0002, count: exits))
        return (ExitEvaluation(exitClasses: classes, confidenceLogits: logits, backboneClasses: backbone), labels, path)
    }

    @Test("22 exits × 1,500 samples: within budget on the samples searched, in well under 10 s")
    func scale() throws {
        let (e, labels, path) = Self.realistic(samples: 1500, exits: 22, seed: 7)
        let clock = ContinuousClock()
        var selection: ExitSelection?
        let elapsed = try clock.measure {
            selection = try ExitSelection(evaluation: e, labels: labels, path: path, maxDrop: 0.01)
        }
        let s = try #require(selection)
        #expect(elapsed < .seconds(10))
        #expect(s.selection.drop + s.margin <= 0.01 + 1e-12)
        #expect(s.selection.samples == 1000 && s.heldBack?.samples == 500)
        #expect(s.all.point.pathCost < 1 && s.enabled.contains(true))
        if ProcessInfo.processInfo.environment["EEC_SELECTION_REPORT"] != nil {
            func line(_ name: String, _ f: ExitSelection.Figures) -> String {
                String(format: "%@: drop %.4f ± %.4f, accuracy %.4f, agreement %.4f, path cost %.4f, exits %@", name, f.drop, f.standardError,
                       f.point.accuracy ?? -1, f.point.agreement, f.point.pathCost, f.point.histogram.map(String.init).joined(separator: "/"))
            }
            print("exit selection, 22 exits x 1500 samples: \(elapsed); margin \(s.margin); enabled \(s.enabled.enumerated().filter(\.element).map(\.offset))")
            print(line("selection", s.selection))
            print(line("held back", try #require(s.heldBack)))
            print(line("all", s.all))
        }
    }
}
