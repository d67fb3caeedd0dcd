import Foundation

/// The parameters of every node, matched by name (`<node>.<param>`) and shape, in the order each
/// op's `parameters` lists them.
public struct BoundWeights: Sendable {
    /// Parameters per node, indexed like `graph.nodes`.
    public var byNode: [[Tensor]]
    /// Tensors of the file that no node uses (e.g. `num_batches_tracked`), sorted.
    public var unused: [String]
}

/// Every mismatch between a weights file and a graph, each naming the tensor.
public struct WeightBindingError: Error, Sendable, CustomStringConvertible {
    public var problems: [String]
    public var description: String { problems.joined(separator: "\n") }
}

public enum WeightBinder {
    /// Matches `tensors` to the graph. `source` names the file in messages. Every missing tensor and
    /// every shape mismatch is reported, not just the first.
    public static func bind(_ g: VerifiedGraph, tensors: [String: Tensor], source: String,
                            extraUnused: [String] = []) throws(WeightBindingError) -> BoundWeights {
        var byNode: [[Tensor]] = []
        var problems: [String] = []
        var used = Set<String>()
        for node in g.graph.nodes {
            var params: [Tensor] = []
            for spec in g.parameters(node) {
                let key = "\(node.name).\(spec.name)"
                used.insert(key)
                guard let tensor = tensors[key] else {
                    problems.append("\(source): error: missing tensor '\(key)' of shape \(Tensor.describe(spec.shape)) for \(node.op.name) '\(node.name)'")
                    continue
                }
                guard tensor.shape == spec.shape else {
                    problems.append("\(source): error: tensor '\(key)' has shape \(Tensor.describe(tensor.shape)), expected \(Tensor.describe(spec.shape))")
                    continue
                }
                if let bad = tensor.data.firstIndex(where: { !$0.isFinite }) {
                    problems.append("\(source): error: tensor '\(key)' holds a non-finite value (\(tensor.data[bad])) at element \(bad)")
                    continue
                }
                if spec.name == "running_var", let bad = tensor.data.firstIndex(where: { $0 < 0 }) {
                    problems.append("\(source): error: tensor '\(key)' has a negative variance (\(tensor.data[bad])) at element \(bad)")
                    continue
                }
                params.append(tensor)
            }
            byNode.append(params)
        }
        if !problems.isEmpty { throw WeightBindingError(problems: problems) }
        let unused = (tensors.keys.filter { !used.contains($0) } + extraUnused).sorted()
        return BoundWeights(byNode: byNode, unused: unused)
    }

    /// Deterministic weights for running a model with no weights file, each drawn as its
    /// `ParameterSpec.seeded` says: Kaiming-uniform conv weights, PyTorch's default for linear
    /// layers and biases, BatchNorm statistics away from the identity so that folding them is
    /// tested. `include` picks the nodes to make weights for (all by default).
    public static func seeded(_ g: VerifiedGraph, seed: UInt64 = 0,
                              include: (Node) -> Bool = { _ in true }) -> [String: Tensor] {
        var tensors: [String: Tensor] = [:]
        var mixer = SplitMix64(seed: seed)
        let mixedSeed = mixer.next()
        for node in g.graph.nodes where include(node) {
            for spec in g.parameters(node) {
                let key = "\(node.name).\(spec.name)"
                // The seed goes through a SplitMix step first, so no seed can make two names share a stream.
                var rng = SplitMix64(seed: SplitMix64.hash(key) ^ mixedSeed)
                let count = elementCount(spec.shape)
                let (low, high): (Float, Float)
                switch spec.seeded {
                case .uniform(let a, let b): (low, high) = (a, b)
                case .kaiming:
                    let fanIn = max(1, count / max(1, spec.shape.first ?? 1))
                    let bound = Float((6.0 / Double(fanIn)).squareRoot())
                    (low, high) = (-bound, bound)
                case .fanIn:
                    let weight = g.parameters(node)[0].shape
                    let weightFanIn = max(1, elementCount(weight) / max(1, weight.first ?? 1))
                    let bound = Float(1 / Double(weightFanIn).squareRoot())
                    (low, high) = (-bound, bound)
                }
                tensors[key] = Tensor(shape: spec.shape, data: (0..<count).map { _ in rng.uniform(low, high) })
            }
        }
        return tensors
    }
}
