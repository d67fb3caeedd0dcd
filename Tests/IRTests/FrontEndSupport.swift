import Foundation
import IR

/// Helpers shared by DiagnosticsTests, MutationFuzzTests and PrinterTests (the `.eeir` front end).
/// Kept in one namespace so they cannot collide with helpers of other test files in this target.
enum FrontEnd {
    /// The package root, found from this file: Tests/IRTests/FrontEndSupport.swift.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every `examples/*.eeir`, sorted by name.
    static func exampleFiles() -> [URL] {
        let folder = packageRoot.appendingPathComponent("examples")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".eeir") }.sorted().map { folder.appendingPathComponent($0) }
    }

    /// The bytes of an example.
    static func bytes(_ url: URL) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url))
    }

    static func text(_ url: URL) throws -> String {
        String(decoding: try bytes(url), as: UTF8.self)
    }

    /// The file name every test source gets, as it appears in diagnostics.
    static let fileName = "t.eeir"

    /// The first two lines of most test files: `model m` and a small input `x` of [1,3,8,8].
    static let prelude = "model m\ninput x: f32[1,3,8,8]\n"
    /// Three lines that end a file validly, reading `x`: the output `f` is [1,3].
    static let tail = "p = global_avg_pool(x)\nf = flatten(p)\noutput f\n"

    /// Parses and verifies.
    static func load(_ bytes: [UInt8], name: String = fileName) -> Result<(VerifiedGraph, [Diagnostic]), DiagnosticList> {
        VerifiedGraph.load(SourceFile(name: name, bytes: bytes))
    }

    static func load(_ text: String) -> Result<(VerifiedGraph, [Diagnostic]), DiagnosticList> {
        load(Array(text.utf8))
    }

    /// The diagnostics of a file that must not load, each as its first rendered line:
    /// `t.eeir:3:5: error: message`. Empty when the file loads.
    static func diagnostics(_ bytes: [UInt8]) -> [String] {
        switch load(bytes) {
        case .success: return []
        case .failure(let list): return list.items.map { "\(fileName):\($0)" }
        }
    }

    static func diagnostics(_ text: String) -> [String] { diagnostics(Array(text.utf8)) }

    /// The full rendered diagnostics (source line, caret, the "too many errors" line); empty when it loads.
    static func rendered(_ bytes: [UInt8]) -> String {
        let source = SourceFile(name: fileName, bytes: bytes)
        switch VerifiedGraph.load(source) {
        case .success: return ""
        case .failure(let list): return list.rendered(in: source)
        }
    }

    static func rendered(_ text: String) -> String { rendered(Array(text.utf8)) }

    /// The canonical print of a valid file, nil when it does not load.
    static func format(_ text: String, annotate: Printer.Annotation? = nil) -> String? {
        guard case .success(let (graph, _)) = load(text) else { return nil }
        return Printer.print(graph.graph, annotate: annotate)
    }

    /// What `eec fmt --annotate` writes after each node: shape, MACs and parameters.
    static func annotation(for graph: VerifiedGraph) -> Printer.Annotation {
        { node in
            let cost = graph.cost(node)
            let params = graph.parameters(node).filter(\.learnable).reduce(0) { $0.saturatingAdd(elementCount($1.shape)) }
            var note = "f32\(Tensor.describe(graph.shape(node.name)))"
            if cost.macs > 0 { note += " macs=\(cost.macs)" }
            if params > 0 { note += " params=\(params)" }
            return note
        }
    }

    /// Monotonic seconds, for timing the pathological inputs.
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
