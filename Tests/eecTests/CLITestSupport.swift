import Foundation
import Testing
import IR
@testable import eec

/// One `eec` invocation through `Driver.run`, with the console captured.
struct CLIResult {
    var status: Int32
    var out: String
    var err: String

    /// stdout and stderr together, for messages in failing expectations.
    var transcript: String { "status \(status)\n--- stdout ---\n\(out)\n--- stderr ---\n\(err)" }
}

enum CLI {
    /// Runs `eec args...` in process and returns what it printed.
    static func run(_ args: [String]) -> CLIResult {
        var console = Console()
        let status = Driver.run(args, &console)
        return CLIResult(status: status, out: console.out, err: console.err)
    }

    static func run(_ args: String...) -> CLIResult { run(args) }

    /// The package root, found from this file's path (Tests/eecTests/<file>).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Absolute path of `examples/<name>.eeir`.
    static func example(_ name: String) -> String {
        packageRoot.appendingPathComponent("examples/\(name).eeir").path
    }

    static let exampleNames = ["resnet20", "resnet20a", "resnet32", "resnet44a", "resnet110", "vgg19", "densenet121"]

    /// `../shared/data/cifar10` beside the package root (absent on most machines).
    static let cifarDirectory: URL = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/cifar10")

    static var hasCIFAR: Bool {
        ["resnet44a.safetensors", "test_x_0_2999.npy", "resnet44a_logits_0_2999.npy"].allSatisfy {
            FileManager.default.isReadableFile(atPath: cifarDirectory.appendingPathComponent($0).path)
        }
    }

    /// Parses a JSON object printed by a command.
    static func jsonObject(_ text: String) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(value as? [String: Any], "not a JSON object: \(text.prefix(200))")
    }
}

/// A fresh temporary directory; `defer { dir.remove() }` after creating one (a deinit could run
/// before the last use of a path, since Swift may end a value's lifetime after its last use).
final class CLITempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("eecTests-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// The absolute path of `name` in the directory.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `text` to `name` and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let p = path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: p))
        return p
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    func read(_ name: String) throws -> String {
        try String(contentsOfFile: path(name), encoding: .utf8)
    }
}

/// Reads a text file (an example) as a string.
func cliReadText(_ path: String) throws -> String {
    try String(contentsOfFile: path, encoding: .utf8)
}
