import IR

/// What passes transform: a verified graph and the weights that go with it. Passes that change
/// weights (BatchNorm folding) keep the two consistent; the others pass the weights through.
public struct Model: Sendable {
    public var graph: VerifiedGraph
    /// Tensors by `<node>.<param>` name.
    public var weights: [String: Tensor]

    public init(graph: VerifiedGraph, weights: [String: Tensor]) {
        self.graph = graph
        self.weights = weights
    }
}

/// A transformation: one pass per file, each with a name (for `--print-after`) and a one-line
/// summary (for `eec compile --list-passes`).
public protocol Pass: Sendable {
    var name: String { get }
    var summary: String { get }
    func run(_ model: Model) throws(PassError) -> Model
}

/// A pass failed: either it was asked for something impossible (a user error, exit status 1),
/// or it produced a graph that does not verify (a compiler bug).
public struct PassError: Error, Sendable, CustomStringConvertible {
    public var pass: String
    public var message: String

    public init(pass: String, message: String) {
        self.pass = pass
        self.message = message
    }

    public var description: String { "error: \(message)" }
}

/// Runs passes in order; each one's output is verified before the next runs.
public struct PassPipeline: Sendable {
    public var passes: [any Pass]

    public init(_ passes: [any Pass]) {
        self.passes = passes
    }

    /// The passes every code generator runs on a graph whose exits are in place: fold BatchNorm,
    /// fuse ReLU, cut into segments. One list, so `compile`, `run`, `quantize`, the benchmarks
    /// and the tests cannot drift apart.
    public static let afterExits = PassPipeline([FoldBatchNorm(), FuseReLU(), SegmentGraph()])

    /// The whole compile: `insertExits` (an `InsertExits`, or the exits a trained file records), then
    /// `afterExits`.
    public static func inserting(_ insertExits: any Pass) -> PassPipeline {
        PassPipeline([insertExits] + afterExits.passes)
    }

    /// `after` is called with each pass's name and its output (for `--print-after`).
    public func run(_ model: Model, after: (_ pass: String, _ model: Model) -> Void = { _, _ in }) throws(PassError) -> Model {
        var current = model
        for pass in passes {
            current = try pass.run(current)
            after(pass.name, current)
        }
        return current
    }

    /// Re-verifies a graph a pass built; a failure is reported as that pass's bug.
    public static func verify(_ graph: Graph, after pass: String) throws(PassError) -> VerifiedGraph {
        do {
            return try VerifiedGraph(graph)
        } catch {
            let details = error.items.map(\.description).joined(separator: "; ")
            throw PassError(pass: pass, message: "internal error: pass '\(pass)' produced an invalid graph: \(details)")
        }
    }
}
