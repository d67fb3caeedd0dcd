import Foundation
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
        compiled = try PassPipeline.afterExits.run(reference)
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

/// A test's temporary folders, removed when the test ends: a suite holds one
/// (`let temporary = TemporaryFolders()`), and Swift Testing makes a fresh suite instance for
/// each test and drops it when the test returns.
final class TemporaryFolders {
    private var paths: [String] = []

    /// A fresh folder, removed with the others at the end of the test.
    func folder() throws -> String {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("eec-cg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        paths.append(path)
        return path
    }

    deinit {
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// Where test builds are cached: one folder per test process, removed when the process exits
/// (the weights files of VGG-19 and DenseNet-121 alone are over 100 MB). Tests run in parallel
/// and some build the same network with the same flags: CHarness and SwiftHarness build in a
/// private staging folder and move it into place, so the first finished build is shared.
let testCache: String = {
    try? FileManager.default.createDirectory(atPath: testCachePath, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: testCachePath) }
    return testCachePath
}()

private let testCachePath = (NSTemporaryDirectory() as NSString).appendingPathComponent("eec-cg-cache-\(ProcessInfo.processInfo.processIdentifier)")

/// The flags test builds use: optimized (as users build), but quick to compile.
let testFlags = ["-O2", "-march=native"]

func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}

/// Every op and every kernel variant the C backend has, on odd shapes: strided, grouped,
/// dilated and non-square convolutions, a remainder pixel tile and a remainder channel block,
/// standalone BatchNorm and ReLU, a ReLU6 whose input x·4 in [−8, 8] reaches both clamps,
/// padded max and average pooling, concat, subsample and channel padding, softmax over channels
/// and over features, sigmoid, a transposing flatten, linear layers with and without bias.
let allOpsSource = """
    model allops
    input x: f32[1,3,11,9]
    c0 = conv2d(x, out=40, kernel=3, pad=1)
    b0 = batchnorm(c0)
    r0 = relu(b0)
    c1 = conv2d(r0, out=8, kernel=3, stride=2, pad=1)
    r1 = relu(c1)
    c2 = conv2d(r1, out=12, kernel=[3, 1], pad=[1, 0], groups=4, bias=false)
    c3 = conv2d(r1, out=4, kernel=3, pad=2, dilation=2)
    x2 = add(x, x)
    x4 = add(x2, x2)
    r6 = relu6(x4)
    c6 = conv2d(r6, out=4, kernel=3, stride=2, pad=1)
    cat = concat(c2, c3, r1, c6)
    bn = batchnorm(cat)
    act = relu(bn)
    mp = maxpool(act, kernel=3, stride=2, pad=1)
    ap = avgpool(act, kernel=3, stride=2, pad=1)
    s = add(mp, ap)
    sr = relu(s)
    sub = subsample(sr, stride=2)
    c5 = conv2d(sr, out=28, kernel=1, stride=2)
    mix = add(sub, c5)
    padded = channel_pad(mix, before=4, after=4)
    c4 = conv2d(padded, out=16, kernel=1)
    sm = softmax(c4)
    sg = sigmoid(sm)
    both = add(c4, sg)
    f = flatten(both)
    fc1 = linear(f, out=20)
    fr = relu(fc1)
    p = softmax(fr)
    q = add(fr, p)
    fc2 = linear(q, out=5, bias=false)
    output fc2

    """

func allOpsGraph() throws -> VerifiedGraph { try parseGraph(allOpsSource, name: "allops.eeir") }

/// Parses and verifies `.eeir` text; a graph that does not load fails the test with its diagnostics.
func parseGraph(_ text: String, name: String = "test.eeir") throws -> VerifiedGraph {
    let source = SourceFile(name: name, text: text)
    switch VerifiedGraph.load(source) {
    case .success(let (graph, _)): return graph
    case .failure(let diagnostics): throw TestFailure(diagnostics.rendered(in: source))
    }
}
