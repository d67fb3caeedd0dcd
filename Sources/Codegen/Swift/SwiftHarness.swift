import Foundation
import IR

/// Builds a generated Swift package with `swift build -c release` beside a harness package
/// depending on it (so the generated `Package.swift` is what gets built), caches the build by a
/// hash of every file, and runs batches with it. The answers have the layout of `CHarness`'s.
public struct SwiftHarness: Sendable {
    public let source: SwiftSource
    public let swift: String
    public let directory: String
    /// Extra `swift build` arguments (`releaseFlags`: this CPU, with its FMA unit, like the C's -march=native).
    public let flags: [String]
    /// Seconds the `swift build -c release` took (0 when the cache had it).
    public private(set) var buildSeconds = 0.0

    public static let releaseFlags = ["-Xswiftc", "-target-cpu", "-Xswiftc", "native", "-Xswiftc", "-DEEC_FMA"]

    public var executable: String { (directory as NSString).appendingPathComponent(Self.executablePath) }
    private static let executablePath = "harness/.build/release/Harness"

    /// `swift` on the PATH, or `$SWIFT_EXEC`.
    public static func findSwift(environment: [String: String] = ProcessInfo.processInfo.environment) throws(CodegenError) -> String {
        let path = environment["PATH"] ?? "/usr/bin:/bin"
        if let exec = environment["SWIFT_EXEC"], !exec.isEmpty, let found = CToolchain.resolve(exec, path: path) { return found }
        guard let swift = CToolchain.resolve("swift", path: path) else {
            throw CodegenError("no swift found on the PATH (or set $SWIFT_EXEC)")
        }
        return swift
    }

    public init(_ source: SwiftSource, swift: String, cacheRoot: String, flags: [String] = SwiftHarness.releaseFlags) throws(CodegenError) {
        self.source = source
        self.swift = swift
        self.flags = flags
        let t = source.program.typeName
        var files = source.files().map { (path: "package/" + $0.path, bytes: $0.bytes) }
        files.append(("harness/Package.swift", Array(SwiftHarnessSource.manifest(t).utf8)))
        files.append(("harness/Sources/Harness/main.swift", Array(SwiftHarnessSource.main(t).utf8)))
        var hash = FNV1a()
        hash.add(swift)
        hash.add(flags.joined(separator: " "))
        for (path, bytes) in files {
            hash.add(path)
            hash.add(bytes)
        }
        directory = (cacheRoot as NSString).appendingPathComponent("swift-" + t + "-" + hash.hex)
        let fm = FileManager.default
        if fm.isExecutableFile(atPath: executable) { return }
        // Build in a private folder, then move it into place (as CHarness does): two processes
        // building the same package never share a .build folder nor see half a one. The
        // executable runs from anywhere (its runpath is the toolchain's and $ORIGIN); the moved
        // .build is never built again (the folder is named by the hash of its files).
        let staging = CHarness.stagingFolder(for: directory)
        do {
            for (path, bytes) in files {
                let url = URL(fileURLWithPath: staging).appendingPathComponent(path)
                try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(bytes).write(to: url)
            }
        } catch {
            try? fm.removeItem(atPath: staging)
            throw CodegenError("\(staging): cannot write the harness files (\(error.localizedDescription))")
        }
        let harness = (staging as NSString).appendingPathComponent("harness")
        let start = Date()
        let result: CToolchain.ProcessResult
        do {
            result = try CToolchain.run(swift, ["build", "-c", "release"] + flags, in: harness)
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
        buildSeconds = Date().timeIntervalSince(start)
        guard result.status == 0, fm.isExecutableFile(atPath: (staging as NSString).appendingPathComponent(Self.executablePath)) else {
            try? fm.removeItem(atPath: staging)
            throw CodegenError("swift build of the generated package failed (status \(result.status)):\n\(result.stdout)\n\(result.stderr)")
        }
        try CHarness.moveIntoPlace(staging, directory, marker: executable)
    }

    /// Runs `inputs` ([1,C,H,W] each) with early exits at `thresholdLogits`.
    public func run(_ inputs: [Tensor], thresholdLogits: [Float]) throws(CodegenError) -> (answers: [CHarness.Answer], nsPerSample: Double) {
        let lowered = source.program.lowered
        let (words, stdout) = try invoke("run", inputs: inputs, thresholdLogits: thresholdLogits)
        let record = 5 + lowered.classes
        guard words.count == record * inputs.count else { throw CodegenError("the harness wrote \(words.count) words for \(inputs.count) samples") }
        let answers = (0..<inputs.count).map { s in
            let r = Array(words[(s * record)..<((s + 1) * record)])
            return CHarness.Answer(classIndex: Int(Int32(bitPattern: r[0])), exitIndex: Int(Int32(bitPattern: r[1])),
                                   confidenceLogit: Float(bitPattern: r[2]), macs: Int(r[3]) | (Int(r[4]) << 32),
                                   logits: r[5...].map { Float(bitPattern: $0) })
        }
        return (answers, CHarness.number(in: stdout, after: "ns_per_sample") ?? 0)
    }

    /// Every exit on every input: logits of each exit then the final classifier, confidence logits.
    public func runAll(_ inputs: [Tensor]) throws(CodegenError) -> [CHarness.AllExits] {
        let lowered = source.program.lowered
        let e = lowered.exits.count, k = lowered.classes
        let (words, _) = try invoke("all", inputs: inputs, thresholdLogits: nil)
        let record = (e + 1) * k + e
        guard words.count == record * inputs.count else { throw CodegenError("the harness wrote \(words.count) words for \(inputs.count) samples") }
        return (0..<inputs.count).map { s in
            let r = words[(s * record)..<((s + 1) * record)].map { Float(bitPattern: $0) }
            return CHarness.AllExits(logits: (0...e).map { Array(r[($0 * k)..<(($0 + 1) * k)]) }, confidenceLogits: Array(r[((e + 1) * k)...]))
        }
    }

    /// Times `run` on `input` `repeats` times (after 10 warm-up runs); nanoseconds per run.
    public func bench(_ input: Tensor, thresholdLogits: [Float]?, repeats: Int) throws(CodegenError) -> [Double] {
        let (words, _) = try invoke("bench", inputs: [input], thresholdLogits: thresholdLogits, extra: [String(repeats)])
        return stride(from: 0, to: words.count - 1, by: 2).map { Double(bitPattern: UInt64(words[$0]) | (UInt64(words[$0 + 1]) << 32)) }
    }

    private func invoke(_ mode: String, inputs: [Tensor], thresholdLogits: [Float]?, extra: [String] = []) throws(CodegenError) -> ([UInt32], String) {
        let size = source.program.lowered.inputShape.reduce(1, *)
        for input in inputs where input.count != size {
            throw CodegenError("an input of \(input.count) values, expected \(size)")
        }
        let fm = FileManager.default
        let work = try CHarness.workFolder("swift-run")
        defer { try? fm.removeItem(atPath: work) }
        let inputPath = (work as NSString).appendingPathComponent("inputs.bin")
        let thresholdPath = (work as NSString).appendingPathComponent("thresholds.bin")
        let outPath = (work as NSString).appendingPathComponent("out.bin")
        try CHarness.write(inputs, to: inputPath)
        var thresholds = "-"
        if let thresholdLogits, !thresholdLogits.isEmpty {
            do {
                try thresholdLogits.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: thresholdPath))
            } catch {
                throw CodegenError("\(thresholdPath): cannot write the thresholds (\(error.localizedDescription))")
            }
            thresholds = thresholdPath
        }
        let result = try CToolchain.run(executable, [mode, inputPath, thresholds, outPath] + extra, in: work)
        guard result.status == 0 else {
            throw CodegenError("the Swift harness (\(mode)) failed with status \(result.status):\n\(result.stderr)")
        }
        guard let out = fm.contents(atPath: outPath) else { throw CodegenError("the Swift harness wrote no output") }
        return (out.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }, result.stdout + result.stderr)
    }
}
