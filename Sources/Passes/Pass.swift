import IR

/// A transformation of a verified graph: one pass per file, each with a name (used by
/// `--print-after`) and a one-line summary (shown by `eec compile --list-passes`).
public protocol Pass: Sendable {
    var name: String { get }
    var summary: String { get }
    func run(_ graph: VerifiedGraph) throws(PassError) -> VerifiedGraph
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

/// Runs passes in order, verifying after each, and optionally prints the IR after each one.
public struct PassPipeline: Sendable {
    public var passes: [any Pass]

    public init(_ passes: [any Pass]) {
        self.passes = passes
    }

    /// `printAfter` is called with each pass's name and its output graph.
    public func run(_ graph: VerifiedGraph,
                    printAfter: (_ pass: String, _ graph: VerifiedGraph) -> Void = { _, _ in }) throws(PassError) -> VerifiedGraph {
        var current = graph
        for pass in passes {
            current = try pass.run(current)
            printAfter(pass.name, current)
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
