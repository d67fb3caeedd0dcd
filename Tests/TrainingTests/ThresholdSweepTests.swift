import Testing
@testable import Training

/// The threshold sweep on a hand-made evaluation of 4 samples and 2 exits, every figure computed
/// by hand. Exit 0 costs 0.1 of the backbone to reach and 0.1 for its head (cost rate 0.2),
/// exit 1 0.4 and 0.1 (cost rate 0.5).
@Suite("Threshold sweep")
struct ThresholdSweepTests {
    let evaluation = ExitEvaluation(
        exitClasses: [[1, 1], [0, 2], [3, 3], [4, 5]],
        confidenceLogits: [[2, 0], [-2, 1], [-3, -3], [0.5, -1]],
        backboneClasses: [1, 2, 3, 5])
    let labels = [1, 2, 0, 4]

    func sweep(labels: [Int]?) -> ThresholdSweep {
        ThresholdSweep(evaluation: evaluation, labels: labels, costRates: [0.2, 0.5, 1], headCosts: [0.1, 0.1])
    }

    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-12 }

    @Test("Path costs pay the heads run on the way; a switched-off exit (T = 1) runs none")
    func pathCosts() {
        let s = sweep(labels: labels)
        #expect(zip(s.pathCosts([0.5, 0.5]), [0.2, 0.6, 1.2]).allSatisfy(close))
        #expect(zip(s.pathCosts([1, 0.5]), [0.1, 0.5, 1.1]).allSatisfy(close))
        #expect(zip(s.pathCosts([1, 1]), [0.1, 0.4, 1.0]).allSatisfy(close))
    }

    @Test("T = 0.5: samples leave at 0, 1, final, 0")
    func evaluateHalf() throws {
        let p = sweep(labels: labels).evaluate([0.5, 0.5])
        #expect(p.histogram == [2, 1, 1])
        #expect(close(p.agreement, 0.75))                     // sample 3 answers 4, the backbone 5
        #expect(close(try #require(p.accuracy), 0.75))        // sample 2 is wrong, sample 3 right
        #expect(close(p.costRate, (0.2 + 0.5 + 1 + 0.2) / 4))
        #expect(close(p.pathCost, (0.2 + 0.6 + 1.2 + 0.2) / 4))
    }

    @Test("Exit 0 switched off: its head is not paid, and its samples go on")
    func evaluateSwitchedOff() throws {
        let p = sweep(labels: labels).evaluate([1, 0.5])
        #expect(p.histogram == [0, 2, 2])
        #expect(close(p.agreement, 1))
        #expect(close(try #require(p.accuracy), 0.5))
        #expect(close(p.costRate, (0.5 + 0.5 + 1 + 1) / 4))
        #expect(close(p.pathCost, (0.5 + 0.5 + 1.1 + 1.1) / 4))
        #expect(close(try #require(sweep(labels: labels).backboneAccuracy), 0.5))
    }

    @Test("Without labels: the cheapest single T that keeps every answer, then a cheaper vector")
    func chooseByAgreement() {
        let s = sweep(labels: nil)
        let points = s.sweep()
        #expect(points.count == 201 + 8, "0, 0.005, ..., 1 and eight points between 0.995 and 1")
        // Sample 3 must not leave at exit 0 (logit 0.5): T > sigmoid(0.5) ≈ 0.622. Up to
        // sigmoid(1) ≈ 0.731 sample 1 still leaves at exit 1: path (0.2 + 0.6 + 1.2 + 1.2) / 4;
        // ties go to the highest T.
        let chosen = s.choose(maxDrop: 0, from: points)
        #expect(chosen.thresholds == [0.73, 0.73])
        #expect(close(chosen.agreement, 1))
        #expect(close(chosen.pathCost, 0.8))
        // Exit 1 always agrees, so it may take everything that passes exit 0.
        let vector = s.searchPerExit(maxDrop: 0, start: chosen)
        #expect(vector.thresholds == [0.73, 0])
        #expect(close(vector.pathCost, (0.2 + 0.6 + 0.6 + 0.6) / 4))
        #expect(close(vector.agreement, 1))
    }

    @Test("An exit that is never right is switched off, which saves its head")
    func uselessExitIsSwitchedOff() {
        let never = ExitEvaluation(exitClasses: evaluation.backboneClasses.map { [($0 + 1) % 10, $0] },
                                   confidenceLogits: evaluation.confidenceLogits, backboneClasses: evaluation.backboneClasses)
        let s = ThresholdSweep(evaluation: never, labels: nil, costRates: [0.2, 0.5, 1], headCosts: [0.1, 0.1])
        let chosen = s.choose(maxDrop: 0, from: s.sweep())
        #expect(chosen.histogram[0] == 0)
        let vector = s.searchPerExit(maxDrop: 0, start: chosen)
        #expect(vector.thresholds == [1, 0])
        #expect(vector.histogram == [0, 4, 0])
        #expect(close(vector.pathCost, 0.5))
    }

    @Test("With labels the drop is in accuracy, and a better-than-backbone point qualifies")
    func chooseByAccuracy() {
        let s = sweep(labels: labels)
        // T ≤ sigmoid(−3) ≈ 0.047: everything leaves at exit 0 with classes 1, 0, 3, 4: accuracy
        // 0.5, the backbone's; ties go to the highest T.
        let chosen = s.choose(maxDrop: 0, from: s.sweep())
        #expect(chosen.thresholds == [0.045, 0.045])
        #expect(close(chosen.pathCost, 0.2))
        #expect(s.drop(s.evaluate([0.5, 0.5])) < 0)
    }

    @Test("Expensive heads: the papers' cost rate still takes the exits, the true path cost does not")
    func costRateAgainstPathCost() {
        // Heads of 0.3: exit 0 costs 0.1 + 0.3, exit 1 0.4 + 0.3.
        let s = ThresholdSweep(evaluation: evaluation, labels: nil, costRates: [0.4, 0.7, 1], headCosts: [0.3, 0.3])
        let points = s.sweep()
        let papers = s.choose(maxDrop: 0, from: points, by: .costRate)
        #expect(papers.thresholds == [0.73, 0.73])
        #expect(close(papers.costRate, (0.4 + 0.7 + 1 + 1) / 4))
        #expect(close(papers.pathCost, (0.4 + 1.0 + 1.6 + 1.6) / 4))
        let real = s.choose(maxDrop: 0, from: points)
        #expect(real.thresholds == [1, 1])
        #expect(close(real.pathCost, 1) && close(real.costRate, 1))
    }
}
