import Foundation
import IR
@testable import Passes

/// The package root, found from this file's path (Tests/PassesTests/...).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Loads and verifies `examples/<name>.eeir`.
func example(_ name: String) throws -> VerifiedGraph {
    try load(packageRoot.appendingPathComponent("examples/\(name).eeir").path)
}

func load(_ path: String) throws -> VerifiedGraph {
    switch VerifiedGraph.load(path: path) {
    case .success(let (graph, _)): return graph
    case .failure(let failure): throw TestFailure(failure.message)
    }
}

func parse(_ text: String, name: String = "test.eeir") throws -> VerifiedGraph {
    switch VerifiedGraph.load(SourceFile(name: name, text: text)) {
    case .success(let (graph, _)): return graph
    case .failure(let diagnostics): throw TestFailure(diagnostics.rendered(in: SourceFile(name: name, text: text)))
    }
}

/// A model with deterministic seeded weights.
func seededModel(_ graph: VerifiedGraph, seed: UInt64 = 0) -> Model {
    Model(graph: graph, weights: WeightBinder.seeded(graph, seed: seed))
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
