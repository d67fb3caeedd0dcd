import IR

/// The weights for a graph: those of the `--weights` file read from `path` (matched by name and
/// shape, unused tensors warned about), or seeded deterministically with a notice so every
/// example runs offline.
func loadWeights(_ graph: VerifiedGraph, from file: (path: String, weights: TrainedWeights)?, seed: UInt64,
                 _ console: inout Console) throws(InputError) -> [String: Tensor] {
    guard let file else {
        console.error("eec: note: no --weights given; using deterministic seeded weights (seed \(seed))")
        return WeightBinder.seeded(graph, seed: seed)
    }
    try warnUnused(graph, file.weights.tensors, source: file.path, extraUnused: file.weights.skipped, &console)
    return file.weights.tensors
}

/// Binds `tensors` to `graph` (an input error when one is missing or misshapen) and warns about
/// the tensors the graph does not use.
func warnUnused(_ graph: VerifiedGraph, _ tensors: [String: Tensor], source path: String, extraUnused: [String] = [],
                _ console: inout Console) throws(InputError) {
    do {
        let bound = try WeightBinder.bind(graph, tensors: tensors, source: path, extraUnused: extraUnused)
        if !bound.unused.isEmpty {
            let shown = bound.unused.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            console.error("\(path): warning: \(bound.unused.count) tensor\(bound.unused.count == 1 ? "" : "s") not used by the graph: \(shown)\(bound.unused.count > 5 ? ", ..." : "")")
        }
    } catch {
        throw InputError(message: error.description)
    }
}

/// Binds weights that are known to match (after loadWeights or a pass), as an input error otherwise.
func bind(_ graph: VerifiedGraph, _ weights: [String: Tensor], source: String) throws(InputError) -> BoundWeights {
    do {
        return try WeightBinder.bind(graph, tensors: weights, source: source)
    } catch {
        throw InputError(message: error.description)
    }
}
