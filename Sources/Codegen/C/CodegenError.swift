/// The C backend cannot compile a graph (an op or shape it does not support, an exit schedule
/// the memory plan does not match) or cannot build what it generated (no compiler, a compile
/// error, a harness that failed). The message says which and why.
public struct CodegenError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "error: \(message)" }
}
