import Foundation
import Passes
import Runtime

/// The search behind `ExitSelection`, on the samples searched (see there for the why).
///
/// Pricing one exit: with the other exits fixed, a sample that leaves before exit x is not
/// affected by it; one that reaches it leaves there when its logit passes, else where it would
/// have gone next. Walking the samples by descending logit, each candidate lets a few more leave
/// at x, so one pass prices all of them (`price`), and `descend` takes the best by any rule.
struct ExitSearch {
    /// A threshold candidate of one exit; `cut` samples pass it (in the exit's logit order).
    struct Candidate {
        var threshold: Double
        var logit: Double
        var cut: Int
    }

    /// Totals over the samples: path cost, drop × N, samples whose answer counts differently.
    struct Tally {
        var cost = 0.0
        var drop = 0
        var changed = 0

        /// Counts a sample leaving at a place of this cost and drop (`sign` −1: uncounts it).
        mutating func add(_ cost: Double, _ drop: Int8, sign: Int = 1) {
            self.cost += Double(sign) * cost
            self.drop += sign * Int(drop)
            changed += drop == 0 ? 0 : sign
        }

        static func + (a: Tally, b: Tally) -> Tally {
            Tally(cost: a.cost + b.cost, drop: a.drop + b.drop, changed: a.changed + b.changed)
        }
    }

    /// A choice: a candidate index per exit (0 = off), where each sample leaves, and the totals.
    struct State {
        var pick: [Int]
        var exitOf: [Int]
        var tally: Tally
    }

    let n: Int
    let exits: Int
    let path: PathCost
    /// Per exit, then per sample: the confidence logit, and the drop × N of leaving there.
    let logits: [[Float]]
    let drops: [[Int8]]
    /// Per exit: the samples by descending logit (NaN last: it never exits), and the candidates,
    /// "off" first, then by growing cut.
    let order: [[Int]]
    let candidates: [[Candidate]]
    let budget: Double
    let marginRule: ExitSelection.NoiseGuard.Margin

    /// `creditGains`: whether a sample the exit gets right and the backbone wrong offsets one
    /// it gets wrong (the true drop). Without, only losses count: the search cannot buy
    /// compute with lucky gains, which on a small calibration set are mostly noise.
    init(evaluation e: ExitEvaluation, labels: [Int]?, path: PathCost, maxDrop: Double,
         margin: ExitSelection.NoiseGuard.Margin, candidatesPerExit: Int, creditGains: Bool = true) {
        n = e.count
        exits = path.exits
        self.path = path
        logits = (0..<exits).map { x in e.confidenceLogits.map { $0[x] } }
        drops = (0..<exits).map { x in
            (0..<e.count).map { s in
                let drop = ThresholdSweep.drop(predicted: e.exitClasses[s][x], backbone: e.backboneClasses[s], label: labels?[s])
                return Int8(creditGains ? drop : max(0, drop))
            }
        }
        order = logits.map { z in
            func key(_ s: Int) -> Float { z[s].isNaN ? -.infinity : z[s] }
            return (0..<z.count).sorted { key($0) != key($1) ? key($0) > key($1) : $0 < $1 }
        }
        candidates = zip(logits, order).map { z, order in Self.candidates(order.map { z[$0] }, count: candidatesPerExit) }
        budget = maxDrop * Double(n)
        marginRule = margin
    }

    /// Up to `count` thresholds at quantiles of `sorted` (descending), each halfway between two
    /// distinct logits, plus "off" first. The cut is counted with the logit T maps back to, so it
    /// is what `ExitRule` will do with the T reported.
    static func candidates(_ sorted: [Float], count: Int) -> [Candidate] {
        var out = [Candidate(threshold: 1, logit: .infinity, cut: 0)]
        let n = sorted.count
        guard n > 0, count > 0 else { return out }
        for j in 1...count {
            let wanted = (j * n + count - 1) / count
            let a = sorted[wanted - 1]
            guard !a.isNaN else { break }
            var below = wanted
            while below < n && sorted[below] >= a { below += 1 }
            let next = below < n && !sorted[below].isNaN ? Double(sorted[below]) : -Double.infinity
            let threshold = next == -.infinity ? 0 : ExitRule.sigmoid((Double(a) + next) / 2)
            guard threshold < 1 else { continue }     // logits so high that T rounds to 1
            let logit = ExitRule.logitThreshold(threshold)
            var cut = below
            while cut < n && ExitRule.takes(confidenceLogit: sorted[cut], thresholdLogit: logit) { cut += 1 }
            while cut > 0 && !ExitRule.takes(confidenceLogit: sorted[cut - 1], thresholdLogit: logit) { cut -= 1 }
            if let last = out.last, cut > last.cut { out.append(Candidate(threshold: threshold, logit: logit, cut: cut)) }
        }
        return out
    }

    /// The margin, in samples, a choice with `changed` changed answers is held to.
    func margin(changed: Int) -> Double {
        switch marginRule {
        case .standardErrors(let k): k * Double(changed).squareRoot()
        case .fixed(let fraction): fraction * Double(n)
        }
    }

    func fits(_ t: Tally) -> Bool { Double(t.drop) + margin(changed: t.changed) <= budget + 1e-9 }

    func thresholds(_ state: State) -> [Double] {
        (0..<exits).map { candidates[$0][state.pick[$0]].threshold }
    }

    var allOff: State { state([Int](repeating: 0, count: exits)) }

    /// The state of a choice, computed from scratch.
    func state(_ pick: [Int]) -> State {
        var state = State(pick: pick, exitOf: [], tally: Tally())
        let costs = path.costs(enabled: pick.map { $0 != 0 })
        for s in 0..<n {
            let at = firstTaken(s, from: 0, state)
            state.exitOf.append(at)
            state.tally.add(costs[at], drop(s, leavingAt: at))
        }
        return state
    }

    func drop(_ s: Int, leavingAt x: Int) -> Int8 { x < exits ? drops[x][s] : 0 }

    /// Where sample `s` leaves when it passes exit `from − 1`.
    func firstTaken(_ s: Int, from: Int, _ state: State) -> Int {
        for x in from..<exits where state.pick[x] != 0 {
            if ExitRule.takes(confidenceLogit: logits[x][s], thresholdLogit: candidates[x][state.pick[x]].logit) { return x }
        }
        return exits
    }
}

extension ExitSearch {
    /// Every candidate of exit `x` priced with the other exits as in `state`: the totals, and per
    /// sample where it goes when exit `x` does not take it (−1: it leaves before `x`).
    func price(_ x: Int, _ state: State) -> (tallies: [Tally], next: [Int]) {
        var enabled = state.pick.map { $0 != 0 }
        enabled[x] = true
        let on = path.costs(enabled: enabled)
        enabled[x] = false
        let off = path.costs(enabled: enabled)
        var before = Tally(), onwardOn = Tally(), onwardOff = Tally()
        var next = [Int](repeating: -1, count: n)
        for s in 0..<n {
            let at = state.exitOf[s]
            if at < x {
                before.add(on[at], drop(s, leavingAt: at))    // exits before x cost the same either way
                continue
            }
            let onward = at > x ? at : firstTaken(s, from: x + 1, state)
            next[s] = onward
            onwardOn.add(on[onward], drop(s, leavingAt: onward))
            onwardOff.add(off[onward], drop(s, leavingAt: onward))
        }
        var tallies = [before + onwardOff]
        // Walking the samples by descending logit, each candidate lets the next few leave at x.
        var taken = Tally(), i = 0
        for c in candidates[x].dropFirst() {
            while i < c.cut {
                let s = order[x][i]
                i += 1
                guard next[s] >= 0 else { continue }
                taken.add(on[x], drop(s, leavingAt: x))
                taken.add(on[next[s]], drop(s, leavingAt: next[s]), sign: -1)
            }
            tallies.append(before + onwardOn + taken)
        }
        return (tallies, next)
    }

    /// Sets exit `x` to candidate `k`, priced by `price`.
    func apply(_ x: Int, _ k: Int, _ priced: (tallies: [Tally], next: [Int]), to state: inout State) {
        state.pick[x] = k
        state.tally = priced.tallies[k]
        let logit = candidates[x][k].logit
        for s in 0..<n where priced.next[s] >= 0 {
            state.exitOf[s] = k != 0 && ExitRule.takes(confidenceLogit: logits[x][s], thresholdLogit: logit) ? x : priced.next[s]
        }
    }

    /// Coordinate descent: each exit in turn takes the candidate `better` prefers to its current
    /// one (ties keep it: off first, then the fewest samples taken), until a pass changes nothing.
    func descend(_ state: inout State, maxPasses: Int = 20, better: (Tally, Tally) -> Bool) {
        for _ in 0..<maxPasses {
            var changed = false
            for x in 0..<exits {
                let priced = price(x, state)
                var best = state.pick[x]
                for k in priced.tallies.indices where better(priced.tallies[k], priced.tallies[best]) { best = k }
                if best != state.pick[x] {
                    apply(x, best, priced, to: &state)
                    changed = true
                }
            }
            if !changed { return }
        }
    }

    /// The Lagrangian sweep over μ, each solution within budget polished under the budget; the
    /// cheapest found (all off when nothing else fits).
    func run(rungs: Int = 64) -> State {
        guard n > 0, exits > 0 else { return allOff }
        // Per sample, leaving earlier saves at most the backbone and every head, so at μ = that
        // × N no drop is worth any compute, even bundled with every other sample in a threshold;
        // at 1e-4 of it compute is nearly all that counts.
        let perSample = path.backbone + path.head.reduce(0, +)
        let tolerance = 1e-12 * max(1, perSample * Double(n))
        let top = perSample * Double(n), bottom = perSample * 1e-4
        var best = allOff, state = allOff
        var polished: Set<[Int]> = []
        for r in -1..<rungs {
            if r >= 0 {
                let mu = top * pow(bottom / top, Double(r) / Double(max(1, rungs - 1)))
                descend(&state) { a, b in a.cost + mu * Double(a.drop) < b.cost + mu * Double(b.drop) - tolerance }
            }
            // r = −1 polishes all off: the greedy walk under the budget on its own.
            guard fits(state.tally), polished.insert(state.pick).inserted else { continue }
            var refined = state
            descend(&refined) { a, b in fits(a) && a.cost < b.cost - tolerance }
            if refined.tally.cost < best.tally.cost - tolerance { best = refined }
        }
        return best
    }
}
