import Foundation
import IR
import Passes
import Codegen
import Training

/// The feature cache of `eec train`, filled by the generated C: the network with every exit is
/// compiled as `eec run --backend c` compiles it, with the cached tensors kept alive to the end
/// of the step that writes them, and a harness streams them out batch by batch on every core.
/// 25,000 ResNet-44 images take a minute or two, against an hour in the reference interpreter.
enum FeatureDump {
    static func run(_ withExits: Model, features: [String], inputs: [Tensor], half: Bool, path: String,
                    progress: @escaping (Int) -> Void) throws -> FeatureCache {
        let compiled = try EarlyExitRun.compile(withExits, path: path)
        let names = compiledNames(features, withExits: withExits.graph, compiled: compiled.graph)
        let shapes = features.map { Array(withExits.graph.shape($0).dropFirst()) }
        var cache = FeatureCache(shapes: shapes, samples: inputs.count, classes: withExits.graph.classes, half: half)
        do {
            let harness = try CHarness(dumping: names, of: compiled, toolchain: try CToolchain.find(), cacheRoot: try cacheRoot())
            try harness.dump(inputs, tensors: names, progress: progress) { values, logits, n in
                cache.set(sample: n, features: values, backboneLogits: logits)
            }
        } catch let error as CodegenError {
            throw InputError(message: "eec train: \(error)")
        }
        return cache
    }

    /// The names the cached tensors have after fusion: a head's own tensors keep theirs; an
    /// attach tensor whose ReLU was fused into its producer is the input of the head's first node.
    static func compiledNames(_ features: [String], withExits: VerifiedGraph, compiled: VerifiedGraph) -> [String] {
        let graph = compiled.graph
        let index = graph.nodeIndex()
        let backbone = graph.backbone(index: index)
        return features.enumerated().map { e, name in
            if index[name] != nil || name == graph.input.name { return name }
            guard e < graph.exits.count else { return name }
            let exit = graph.exits[e]
            let members = graph.ancestors(of: [exit.classifier, exit.confidence], index: index)
            for i in graph.nodes.indices where members[i] && !backbone[i] {
                if let input = graph.nodes[i].inputs.first(where: { index[$0].map { backbone[$0] } ?? ($0 == graph.input.name) }) {
                    return input
                }
            }
            return name
        }
    }
}
