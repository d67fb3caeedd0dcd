import Foundation
import Testing
import IR
import Passes
import Codegen
import Runtime

/// Builds `network` with `flags`, compares run_all with the interpreter, then run's decisions at
/// several threshold sets (see EquivalenceTests). Returns what run_all gave.
@discardableResult
func checkAgainstInterpreter(_ network: CompiledNetwork, inputs: [Tensor], flags: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> [CHarness.AllExits] {
    let program = try CProgram(network.compiled)
    let harness = try CHarness(CSource(program), toolchain: try toolchain(), cacheRoot: testCache, flags: flags)
    let all = try harness.runAll(inputs)
    let interpreter = try network.interpreter()
    let expected = inputs.map { interpreter.run($0) }
    let exits = program.exits.count
    let name = "\(program.model) with \(exits) exits"
    assertRunAllMatches(all, expected, exits: exits, name: name, sourceLocation: sourceLocation)
    guard exits > 0 else {
        // Without exits, run answers with the final classifier, as run_all computed it.
        let (answers, _) = try harness.run(inputs, thresholdLogits: [])
        for (s, answer) in answers.enumerated() {
            #expect(answer.exitIndex == 0, sourceLocation: sourceLocation)
            #expect(answer.logits == all[s].logits[0], sourceLocation: sourceLocation)
            #expect(answer.macs == program.backboneMacs, sourceLocation: sourceLocation)
        }
        return all
    }
    var rng = SplitMix64(seed: 11)
    var sets: [[Double]] = [Array(repeating: 0, count: exits), Array(repeating: 1, count: exits), Array(repeating: 0.5, count: exits)]
    for _ in 0..<3 { sets.append((0..<exits).map { _ in Double(rng.uniform(0, 1)) }) }
    // Thresholds at the interpreter's own confidences, nudged down: the first sample takes exit k
    // at the k-th set when it gets there, by a margin far above float rounding.
    for k in 0..<exits {
        var t = Array(repeating: 1.0, count: exits)
        t[k] = max(0, ExitRule.sigmoid(Double(expected[0].exits[k].confidence)) - 1e-3)
        sets.append(t)
    }
    var near = 0
    for thresholds in sets {
        let (answers, _) = try harness.run(inputs, thresholdLogits: thresholds.map(CSource.thresholdLogit))
        for (s, answer) in answers.enumerated() {
            let z = expected[s].exits.map(\.confidence)
            let want = ExitRule.firstExit(confidenceLogits: z, thresholdLogits: thresholds.map(ExitRule.logitThreshold))
            if answer.exitIndex != want {
                let last = min(exits - 1, max(want, answer.exitIndex))
                let close = (0...last).contains { abs(ExitRule.sigmoid(Double(z[$0])) - thresholds[$0]) < 1e-5 }
                if close {
                    near += 1
                } else {
                    Issue.record("\(name), sample \(s), T = \(thresholds): C took exit \(answer.exitIndex), the rule on the interpreter's confidences says \(want)", sourceLocation: sourceLocation)
                }
            }
            // The answer is the answering classifier of run_all, bit for bit, and its cost.
            #expect(answer.logits == all[s].logits[answer.exitIndex], sourceLocation: sourceLocation)
            #expect(answer.classIndex == argmax(answer.logits), sourceLocation: sourceLocation)
            let e = answer.exitIndex
            // Heads of exits switched off (T = 1) are not run.
            let heads = (0..<min(e + 1, exits)).filter { thresholds[$0] < 1 }.reduce(0) { $0 + program.exits[$1].head.macs }
            let macs = program.segments[0...e].reduce(0) { $0 + $1.macs } + heads
            #expect(answer.macs == macs, sourceLocation: sourceLocation)
            #expect(answer.confidenceLogit == (e < exits ? all[s].confidenceLogits[e] : .greatestFiniteMagnitude), sourceLocation: sourceLocation)
        }
    }
    if near > 0 { print("\(name): \(near) decision\(near == 1 ? "" : "s") within 1e-5 of a threshold differ (allowed)") }
    return all
}

/// run_all's logits and confidence logits of every sample against the interpreter's, within
/// 1e-4 of each tensor's largest magnitude (confidences: relative, or absolute below 1). Shared
/// by the C and the Swift backend's checks.
func assertRunAllMatches(_ all: [CHarness.AllExits], _ expected: [Interpreter.Result], exits: Int, name: String,
                         sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    for (s, reference) in expected.enumerated() {
        let referenceLogits = reference.exits.map(\.logits.data) + [reference.logits.data]
        #expect(all[s].logits.count == exits + 1, sourceLocation: sourceLocation)
        for (k, logits) in referenceLogits.enumerated() where k < all[s].logits.count {
            #expect(logits.count == all[s].logits[k].count, sourceLocation: sourceLocation)
            let scale = max(Float.leastNormalMagnitude, logits.map { abs($0) }.max() ?? 0)
            let error = zip(logits, all[s].logits[k]).map { abs($0 - $1) }.max() ?? .infinity
            #expect(error / scale <= 1e-4, "\(name), sample \(s), \(k < exits ? "exit \(k)" : "final") logits: error \(error) of \(scale)", sourceLocation: sourceLocation)
        }
        for (k, exit) in reference.exits.enumerated() {
            let error = abs(exit.confidence - all[s].confidenceLogits[k])
            #expect(error / max(1, abs(exit.confidence)) <= 1e-4, "\(name), sample \(s), exit \(k) confidence logit", sourceLocation: sourceLocation)
        }
    }
}
