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
            _ = fm.createFile(atPath: outPath, contents: nil)
            _ = fm.createFile(atPath: errPath, contents: nil)
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

extension CToolchain {
    /// The Cortex-M4 build the C backend promises to support (hard-float, freestanding, -Os).
    public static let cortexM4Flags = ["--target=thumbv7em-none-eabi", "-mcpu=cortex-m4", "-mfloat-abi=hard",
                                       "-ffreestanding", "-Os"]

    /// The warning flags generated code must pass with none.
    public static let strictFlags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]

    /// Compiles `file` (in `directory`) to an object for the Cortex-M4 and returns the object's path.
    public func compileCortexM4(_ file: String, in directory: String) throws(CodegenError) -> String {
        let object = (file as NSString).deletingPathExtension + ".m4.o"
        try compile(Self.strictFlags + Self.cortexM4Flags + ["-c", file, "-o", object], in: directory)
        return (directory as NSString).appendingPathComponent(object)
    }

    /// The size of an object's code (`.text` and `.text.*` sections), read with llvm-objdump.
    public func textBytes(ofObject path: String) throws(CodegenError) -> Int {
        guard let objdump = tool("llvm-objdump") else { throw CodegenError("llvm-objdump not found next to \(compiler) or on the PATH") }
        let result = try Self.run(objdump, ["-h", path], in: (path as NSString).deletingLastPathComponent)
        guard result.status == 0 else { throw CodegenError("llvm-objdump -h \(path) failed: \(result.stderr)") }
        // Lines read: "  2 .text  0000052c 00000000 TEXT".
        var total = 0
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, fields[1] == ".text" || fields[1].hasPrefix(".text."), let size = Int(fields[2], radix: 16) else { continue }
            total += size
        }
        return total
    }

    /// The symbols an object needs from elsewhere (`llvm-nm --undefined-only`).
    public func undefinedSymbols(ofObject path: String) throws(CodegenError) -> [String] {
        guard let nm = tool("llvm-nm") else { throw CodegenError("llvm-nm not found next to \(compiler) or on the PATH") }
        let result = try Self.run(nm, ["--undefined-only", path], in: (path as NSString).deletingLastPathComponent)
        guard result.status == 0 else { throw CodegenError("llvm-nm \(path) failed: \(result.stderr)") }
        return result.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
    }

    /// Builds (once per cache) and runs the FMA-throughput probe: this core's FP32 peak in GFLOP/s.
    public func measurePeak(cacheRoot: String) throws(CodegenError) -> Double {
        var hash = FNV1a()
        hash.add(compiler)
        hash.add(HarnessSource.peakProbe)
        let dir = (cacheRoot as NSString).appendingPathComponent("peak-" + hash.hex)
        let exe = (dir as NSString).appendingPathComponent("peak")
        let fm = FileManager.default
        if !fm.isExecutableFile(atPath: exe) {
            do {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
                try HarnessSource.peakProbe.write(toFile: (dir as NSString).appendingPathComponent("peak.c"), atomically: true, encoding: .utf8)
            } catch {
                throw CodegenError("\(dir): cannot write the FMA probe (\(error.localizedDescription))")
            }
            try compile(["-O3", "-march=native", "-ffp-contract=fast", "-o", "peak", "peak.c"], in: dir)
        }
        let result = try Self.run(exe, [], in: dir)
        guard result.status == 0, let gflops = CHarness.number(in: result.stdout, after: "gflops") else {
            throw CodegenError("the FMA probe failed: \(result.stderr)")
        }
        return gflops
    }
}
