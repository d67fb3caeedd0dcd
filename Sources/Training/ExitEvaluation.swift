import IR

/// Every exit's answer for every sample, computed once (the reference interpreter evaluates all
/// heads); threshold sweeps then only re-read these numbers.
public struct ExitEvaluation: Sendable {
    /// Per sample, per exit: predicted class and confidence logit.
    public var exitClasses: [[Int]]
    public var confidenceLogits: [[Float]]
    /// Per sample: the backbone's own prediction.
    public var backboneClasses: [Int]

    public var count: Int { backboneClasses.count }
    public var exits: Int { exitClasses.first?.count ?? 0 }

    public init(exitClasses: [[Int]], confidenceLogits: [[Float]], backboneClasses: [Int]) {
        self.exitClasses = exitClasses
        self.confidenceLogits = confidenceLogits
        self.backboneClasses = backboneClasses
    }

    /// Runs `graph` (with exits) on every input, on every core.
    public init(graph: VerifiedGraph, weights: BoundWeights, inputs: [Tensor], progress: (Int) -> Void = { _ in }) {
        let interpreter = Interpreter(graph, weights: weights)
        var classes: [[Int]] = [], logits: [[Float]] = [], backbone: [Int] = []
        let block = 32
        for start in stride(from: 0, to: inputs.count, by: block) {
            let end = min(inputs.count, start + block)
            let results = SlotArray<Interpreter.Result>(count: end - start)
            parallelChunks(end - start) { range, _ in
                for i in range { results[i] = interpreter.run(inputs[start + i]) }
            }
            for i in 0..<(end - start) {
                guard let r = results[i] else { continue }
                classes.append(r.exits.map { argmax($0.logits.data) })
                logits.append(r.exits.map(\.confidence))
                backbone.append(argmax(r.logits.data))
            }
            progress(end)
        }
        self.init(exitClasses: classes, confidenceLogits: logits, backboneClasses: backbone)
    }
}
