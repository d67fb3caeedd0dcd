import Foundation
import IR
import Passes
import Codegen

/// `eec run --backend swift` (issue 9): the network generated as a Swift package, built with
/// `swift build -c release` beside a harness in the cache folder, run as `--backend c` runs the C,
/// backbone alone timed in the same run.
enum SwiftRun {
    static let backendName = "swift"

    struct Measured {
        var answers: [EarlyExitRun.Answer]
        var secondsPerSample: Double
        var backboneSecondsPerSample: Double
        var spent: EarlyExitRun.Spent
        var how: String
    }

    static func measure(_ withExits: Model, backbone: Model, thresholds: [Double], inputs: [Tensor], path: String) throws -> Measured {
        let exits = withExits.graph.graph.exits.count
        do {
            let cache = try cacheRoot()
            let swift = try SwiftHarness.findSwift()
            let harness = try SwiftHarness(SwiftSource(try lower(withExits, thresholds: thresholds, path: path)), swift: swift, cacheRoot: cache)
            let plain = try SwiftHarness(SwiftSource(try lower(backbone, thresholds: [], path: path)), swift: swift, cacheRoot: cache)
            let all = try harness.runAll(inputs)
            let (_, backboneNs) = try plain.run(inputs, thresholdLogits: [])
            let (results, ns) = try harness.run(inputs, thresholdLogits: thresholds.map(CSource.thresholdLogit))
            let answers = zip(results, all).map { r, a in
                EarlyExitRun.Answer(classIndex: r.classIndex, exitIndex: r.exitIndex, backboneClass: argmax(a.logits[exits]), logits: r.logits, macs: r.macs)
            }
            let spent = EarlyExitRun.Spent(mean: results.reduce(0) { $0 + $1.macs } / max(1, results.count),
                                           backbone: harness.source.program.lowered.backboneMacs, language: "Swift")
            return Measured(answers: answers, secondsPerSample: ns / 1e9, backboneSecondsPerSample: backboneNs / 1e9, spent: spent,
                            how: "generated Swift, swift build -c release \(SwiftHarness.releaseFlags.joined(separator: " ")), early exit")
        } catch let error as InputError {
            throw error
        } catch {
            throw InputError(message: "eec run: \(error)")
        }
    }

    /// Fused, segmented and lowered, as the C backend's harness compiles it.
    private static func lower(_ model: Model, thresholds: [Double], path: String) throws -> LoweredProgram {
        try LoweredProgram(EarlyExitRun.compile(model, path: path), thresholds: thresholds)
    }
}
