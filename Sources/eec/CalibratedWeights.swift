import IR
import Passes

/// What `eec calibrate -o` writes: one file from training to device. It holds the backbone's
/// tensors, the tensors of the selected exits only, renumbered in order (`exits.<j>.*` of the
/// trained file becomes `exits.<i>.*`), and in `__metadata__` the selected exits by the nodes
/// they attach after and their thresholds, so `compile` and `run` build exactly those exits
/// with no other flag. Exits not selected are removed, not switched off: the compiled network
/// does not carry them.
enum CalibratedWeights {
    static func tensors(_ trained: [String: Tensor], exits: Int, selected: [Int]) -> [String: Tensor] {
        var renumbered: [String: Int] = [:]
        for (i, j) in selected.enumerated() { renumbered["exits.\(j)."] = i }
        var out: [String: Tensor] = [:]
        for (key, tensor) in trained {
            guard key.hasPrefix("exits.") else {
                out[key] = tensor
                continue
            }
            // `exits.<j>.<layer>.<param>`: kept under its new number when exit j was selected.
            let parts = key.split(separator: ".", maxSplits: 2)
            guard parts.count == 3, let j = Int(parts[1]) else {
                out[key] = tensor
                continue
            }
            if let i = renumbered["exits.\(j)."] { out["exits.\(i).\(parts[2])"] = tensor }
        }
        return out
    }

    static func metadata(trained: [String: String], configuration: ExitConfiguration, attach: [String],
                         selected: [Int], thresholds: [Double], notes: [String: String]) -> [String: String] {
        var out = trained.filter { !$0.key.hasPrefix("eec.") || $0.key.hasPrefix("eec.train.") }
        for (key, value) in trained where ["eec.lambda", "eec.loss", "eec.epochs", "eec.warmup", "eec.seed", "eec.samples",
                                            "eec.augment", "eec.distill"].contains(key) {
            out["eec.train." + key.dropFirst(4)] = value
        }
        out.merge(configuration.resolved(attach: selected.map { attach[$0] }).metadata) { _, new in new }
        out.merge(RecordedThresholds.metadata(selected.map { thresholds[$0] })) { _, new in new }
        out.merge(notes) { _, new in new }
        return out
    }
}
