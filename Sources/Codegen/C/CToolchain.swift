import Foundation

/// The C compiler the C backend builds with, and the LLVM tools next to it: `$CC` when set,
/// else `clang` on the PATH, else the `clang` next to the Swift toolchain's `swift`.
public struct CToolchain: Sendable {
    /// The compiler's path.
    public var compiler: String

    public init(compiler: String) {
        self.compiler = compiler
    }

    public static func find(environment: [String: String] = ProcessInfo.processInfo.environment) throws(CodegenError) -> CToolchain {
        let path = environment["PATH"] ?? "/usr/bin:/bin"
        if let cc = environment["CC"], !cc.isEmpty {
            guard let found = resolve(cc, path: path) else {
                throw CodegenError("$CC is '\(cc)', which is not an executable")
            }
            return CToolchain(compiler: found)
        }
        if let clang = resolve("clang", path: path) { return CToolchain(compiler: clang) }
        if let swift = resolve("swift", path: path) {
            let dir = (realPath(swift) as NSString).deletingLastPathComponent
            let clang = (dir as NSString).appendingPathComponent("clang")
            if FileManager.default.isExecutableFile(atPath: clang) { return CToolchain(compiler: clang) }
        }
        throw CodegenError("no C compiler found: set $CC, or put clang on the PATH (the Swift toolchain ships one next to swift)")
    }

    /// An LLVM tool (`llvm-nm`, `llvm-objdump`, `ld.lld`) next to the compiler, else on the PATH.
    public func tool(_ name: String) -> String? {
        let dir = (Self.realPath(compiler) as NSString).deletingLastPathComponent
        let beside = (dir as NSString).appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return Self.resolve(name, path: ProcessInfo.processInfo.environment["PATH"] ?? "")
    }

    /// Runs the compiler in `directory`; a failure is an error carrying its diagnostics.
    public func compile(_ arguments: [String], in directory: String) throws(CodegenError) {
        let result = try Self.run(compiler, arguments, in: directory)
        guard result.status == 0 else {
            throw CodegenError("\(compiler) \(arguments.joined(separator: " ")) failed (status \(result.status)):\n\(result.stderr)")
        }
    }

    public struct ProcessResult: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs a program to completion. Its output goes through files, so a chatty child can never
    /// block on a full pipe.
    public static func run(_ executable: String, _ arguments: [String], in directory: String) throws(CodegenError) -> ProcessResult {
        let fm = FileManager.default
        let token = "\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))"
        let outPath = (NSTemporaryDirectory() as NSString).appendingPathComponent("eec-\(token).out")
        let errPath = (NSTemporaryDirectory() as NSString).appendingPathComponent("eec-\(token).err")
        defer {
            try? fm.removeItem(atPath: outPath)
            try? fm.removeItem(atPath: errPath)
        }
        do {
            fm.createFile(atPath: outPath, contents: nil)
            fm.createFile(atPath: errPath, contents: nil)
            let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
            let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            try out.close()
            try err.close()
            let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
            return ProcessResult(status: status, stdout: stdout, stderr: stderr)
        } catch {
            throw CodegenError("cannot run \(executable): \(error.localizedDescription)")
        }
    }

    /// `name` as a path (when it has a slash) or found on `path`.
    static func resolve(_ name: String, path: String) -> String? {
        let fm = FileManager.default
        if name.contains("/") { return fm.isExecutableFile(atPath: name) ? name : nil }
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = (String(dir) as NSString).appendingPathComponent(name)
            if fm.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static func realPath(_ path: String) -> String {
        (path as NSString).resolvingSymlinksInPath
    }
}
