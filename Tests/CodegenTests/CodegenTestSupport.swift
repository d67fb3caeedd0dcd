import Foundation
import XCTest
import IR
import Passes
import Codegen
import Runtime

/// The package root, found from this file's path (Tests/CodegenTests/...).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// `../shared/data/cifar10`, next to the package (absent on most machines: tests using it skip).
let sharedData = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/cifar10")

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Loads and verifies `examples/<name>.eeir`.
func example(_ name: String) throws -> VerifiedGraph {
    switch VerifiedGraph.load(path: packageRoot.appendingPathComponent("examples/\(name).eeir").path) {
    case .success(let (graph, _)): return graph
    case .failure(let failure): throw TestFailure(failure.message)
    }
}

/// A network with exits, before and after the passes: the reference interpreter runs `reference`
/// (BatchNorm and ReLU unfused, as written), the C backend compiles `compiled`.
struct CompiledNetwork {
    var reference: Model
    var compiled: Model

    init(_ backbone: VerifiedGraph, weights: [String: Tensor], branches: Int, exitAfter: Set<OpKind>? = nil) throws {
        reference = try InsertExits(branches: branches, candidateOps: exitAfter).run(Model(graph: backbone, weights: weights))
        compiled = try PassPipeline([FoldBatchNorm(), FuseReLU(), SegmentGraph()]).run(reference)
    }

    init(_ name: String, branches: Int, exitAfter: Set<OpKind>? = nil) throws {
        let graph = try example(name)
        try self.init(graph, weights: WeightBinder.seeded(graph), branches: branches, exitAfter: exitAfter)
    }

    func interpreter() throws -> Interpreter {
        Interpreter(reference.graph, weights: try WeightBinder.bind(reference.graph, tensors: reference.weights, source: "test"))
    }
}

/// Deterministic inputs, uniform in [-2, 2) (about the range of normalized images).
func seededInputs(_ shape: [Int], count: Int, seed: UInt64 = 7) -> [Tensor] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.uniform(-2, 2) }) }
}

/// The toolchain, or a skip when this machine has no C compiler.
func toolchain() throws -> CToolchain {
    do {
        return try CToolchain.find()
    } catch {
        throw XCTSkip("no C compiler: \(error)")
    }
}

/// A fresh temporary folder, removed when the test ends.
func temporaryFolder(_ test: XCTestCase) throws -> String {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("eec-cg-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// Where test builds are cached: one folder per test process run.
let testCache: String = {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("eec-cg-cache-\(ProcessInfo.processInfo.processIdentifier)")
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

/// The flags test builds use: optimized (as users build), but quick to compile.
let testFlags = ["-O2", "-march=native"]

func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}
