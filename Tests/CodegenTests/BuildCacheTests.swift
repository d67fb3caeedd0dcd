import Foundation
import Testing
@testable import Codegen

/// Moving a finished build into the cache: a complete build already there (another test or
/// process built the same network, and may be running it) is never replaced; a stale folder is.
struct BuildCacheTests {
    let temporary = TemporaryFolders()

    /// A folder holding `files` (name → contents).
    func folder(_ path: String, _ files: [String: String]) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, text) in files {
            try Data(text.utf8).write(to: URL(fileURLWithPath: (path as NSString).appendingPathComponent(name)))
        }
    }

    func contents(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func movesIntoAnEmptyPlace() throws {
        let root = try temporary.folder()
        let (staging, directory) = (root + "/net.tmp-1", root + "/net")
        try folder(staging, ["harness": "ours"])
        try CHarness.moveIntoPlace(staging, directory, marker: directory + "/harness")
        #expect(contents(directory + "/harness") == "ours")
        #expect(!FileManager.default.fileExists(atPath: staging))
    }

    @Test func keepsACompleteBuildThatIsAlreadyThere() throws {
        let root = try temporary.folder()
        let (staging, directory) = (root + "/net.tmp-2", root + "/net")
        try folder(directory, ["harness": "theirs", "weights.bin": "w"])
        try folder(staging, ["harness": "ours", "weights.bin": "w"])
        try CHarness.moveIntoPlace(staging, directory, marker: directory + "/harness")
        #expect(contents(directory + "/harness") == "theirs", "a complete build in use was replaced")
        #expect(!FileManager.default.fileExists(atPath: staging), "the unused staging folder is left behind")
    }

    @Test func replacesAStaleFolder() throws {
        let root = try temporary.folder()
        let (staging, directory) = (root + "/net.tmp-3", root + "/net")
        try folder(directory, ["net.c": "half a build"])
        try folder(staging, ["harness": "ours"])
        try CHarness.moveIntoPlace(staging, directory, marker: directory + "/harness")
        #expect(contents(directory + "/harness") == "ours")
        #expect(!FileManager.default.fileExists(atPath: directory + "/net.c"))
        let left = try FileManager.default.contentsOfDirectory(atPath: root)
        #expect(left == ["net"], "left behind: \(left)")
    }
}
