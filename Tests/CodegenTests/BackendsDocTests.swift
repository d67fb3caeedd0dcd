import Foundation
import Testing

/// docs/backends.md describes every backend folder of Sources/Codegen, and the source files it
/// names exist under Sources/ (the generated files it names apart).
struct BackendsDocTests {
    @Test func theDocNamesEveryBackendAndOnlyFilesThatExist() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/backends.md"), encoding: .utf8)
        let codegen = root.appendingPathComponent("Sources/Codegen")
        let fm = FileManager.default
        let folders = try fm.contentsOfDirectory(atPath: codegen.path).filter { name in
            var isDirectory: ObjCBool = false
            return fm.fileExists(atPath: codegen.appendingPathComponent(name).path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
        let sources = Set((fm.enumerator(atPath: root.appendingPathComponent("Sources").path)?.allObjects as? [String] ?? [])
            .map { ($0 as NSString).lastPathComponent })
        // Lowered/ is shared; Device/ wraps the C as firmware; every other folder is a backend.
        for backend in folders where !["Lowered", "Device"].contains(backend) {
            #expect(doc.contains("`Sources/Codegen/\(backend)/`"), "docs/backends.md does not describe the \(backend) backend")
        }
        #expect(folders.contains("C") && folders.contains("Swift"), "\(folders)")
        let generated: Set<String> = ["Package.swift", "Weights.swift", "Runtime.swift"]
        let named = try NSRegularExpression(pattern: "`([A-Z][A-Za-z]*\\.swift)`")
            .matches(in: doc, range: NSRange(doc.startIndex..., in: doc))
            .compactMap { Range($0.range(at: 1), in: doc).map { String(doc[$0]) } }
        #expect(named.count > 10)
        for file in named where !generated.contains(file) {
            #expect(sources.contains(file), "docs/backends.md names \(file), which is not in Sources/")
        }
    }
}
