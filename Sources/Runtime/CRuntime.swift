import Foundation

/// The C runtime that every generated network links with: `eec_runtime.h` and `eec_runtime.c`,
/// kept as plain files in `Sources/Runtime/c` (SwiftPM copies them as resources, so they are
/// never compiled into this Swift target) and read from the resource bundle.
public enum CRuntime {
    /// The runtime's files, in the order they are written next to a generated network.
    public static let fileNames = ["eec_runtime.h", "eec_runtime.c"]

    /// The runtime files could not be read: the resource bundle was moved away from the binary.
    public struct MissingFile: Error, CustomStringConvertible {
        public var name: String
        public var description: String {
            "cannot read the C runtime file '\(name)' from eec's resources (eec_Runtime.resources must stay next to the eec binary)"
        }
    }

    /// The text of one runtime file.
    public static func source(_ name: String) throws(MissingFile) -> String {
        let base = (name as NSString).deletingPathExtension, ext = (name as NSString).pathExtension
        guard let url = Bundle.module.url(forResource: base, withExtension: ext, subdirectory: "c"),
              let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw MissingFile(name: name)
        }
        return text
    }

    /// Every runtime file by name.
    public static func files() throws(MissingFile) -> [(name: String, text: String)] {
        var out: [(name: String, text: String)] = []
        for name in fileNames { out.append((name, try source(name))) }
        return out
    }
}
