import Foundation
import IR

/// A generated library built with the host harness (see `HarnessSource`), ready to run batches.
///
/// Builds are cached: the folder `<cacheRoot>/<hash>` is named by a hash of the compiler, the
/// flags, every source file and the weights, and holds the generated files, `weights.bin` and the
/// `harness` executable. A second build of the same network with the same flags reuses it.
public struct CHarness: Sendable {
    public let source: CSource
    public let toolchain: CToolchain
    public let directory: String
    public let flags: [String]
    var executable: String { (directory as NSString).appendingPathComponent("harness") }
    var weightsPath: String { (directory as NSString).appendingPathComponent("weights.bin") }

    /// The flags of `eec run --backend c` and the benchmark.
    public static let releaseFlags = ["-O3", "-march=native"]

    /// Generates and compiles (unless the cache has it). `compiledWeights` links
    /// `<model>_weights.c` instead of reading `weights.bin` (slow to compile for large networks).
    public init(_ source: CSource, toolchain: CToolchain, cacheRoot: String, flags: [String] = CHarness.releaseFlags,
                compiledWeights: Bool = false) throws(CodegenError) {
        self.source = source
        self.toolchain = toolchain
        self.flags = flags
        var files = try source.files(includeWeights: compiledWeights)
        files.append(("harness.c", Array(HarnessSource.harness(prefix: source.program.prefix).utf8)))
        let weights = source.weightsBinary
        var hash = FNV1a()
        hash.add(toolchain.compiler)
        hash.add(flags.joined(separator: " ") + (compiledWeights ? " compiled-weights" : ""))
        for (name, bytes) in files {
            hash.add(name)
            hash.add(bytes)
        }
        hash.add(weights)
        directory = (cacheRoot as NSString).appendingPathComponent(source.program.prefix + "-" + hash.hex)
        let fm = FileManager.default
        if fm.isExecutableFile(atPath: executable) && fm.fileExists(atPath: weightsPath) { return }
        // Build in a private folder, then move it into place: concurrent builds never see half a folder.
        let staging = directory + ".tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
            for (name, bytes) in files {
                try Data(bytes).write(to: URL(fileURLWithPath: (staging as NSString).appendingPathComponent(name)))
            }
            try Data(weights).write(to: URL(fileURLWithPath: (staging as NSString).appendingPathComponent("weights.bin")))
        } catch {
            throw CodegenError("\(staging): cannot write the harness files (\(error.localizedDescription))")
        }
        var sources = [source.sourceName, "eec_runtime.c", "harness.c"]
        var extra: [String] = []
        if compiledWeights {
            sources.insert(source.weightsName, at: 1)
            extra.append("-DEEC_HARNESS_COMPILED_WEIGHTS")
        }
        do {
            try toolchain.compile(["-std=c99"] + flags + extra + ["-o", "harness"] + sources, in: staging)
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
        try? fm.removeItem(atPath: directory)
        do {
            try fm.moveItem(atPath: staging, toPath: directory)
        } catch {
            // Another process built the same folder first; theirs is as good as ours.
            try? fm.removeItem(atPath: staging)
            guard fm.isExecutableFile(atPath: executable) else {
                throw CodegenError("\(directory): cannot move the build into place (\(error.localizedDescription))")
            }
        }
    }

    /// What `<model>_run` returned for one sample.
    public struct Answer: Sendable, Equatable {
        public var classIndex: Int
        public var exitIndex: Int
        public var confidenceLogit: Float
        public var macs: Int
        public var logits: [Float]
    }

    /// What `<model>_run_all` returned for one sample: logits of every exit then the final
    /// classifier, and every exit's confidence logit.
    public struct AllExits: Sendable {
        public var logits: [[Float]]
        public var confidenceLogits: [Float]
    }

    /// Runs `inputs` ([1,C,H,W] each) with early exits at `thresholdLogits`; returns every answer
    /// and the measured mean nanoseconds per sample (the run calls alone).
    public func run(_ inputs: [Tensor], thresholdLogits: [Float]) throws(CodegenError) -> (answers: [Answer], nsPerSample: Double) {
        let program = source.program
        let (words, stdout) = try invoke("run", inputs: inputs, thresholdLogits: thresholdLogits)
        let record = 5 + program.classes
        guard words.count == record * inputs.count else { throw CodegenError("the harness wrote \(words.count) words for \(inputs.count) samples") }
        var answers: [Answer] = []
        for s in 0..<inputs.count {
            let r = Array(words[(s * record)..<((s + 1) * record)])
            answers.append(Answer(classIndex: Int(Int32(bitPattern: r[0])), exitIndex: Int(Int32(bitPattern: r[1])),
                                  confidenceLogit: Float(bitPattern: r[2]), macs: Int(r[3]) | (Int(r[4]) << 32),
                                  logits: r[5...].map { Float(bitPattern: $0) }))
        }
        return (answers, Self.number(in: stdout, after: "ns_per_sample") ?? 0)
    }

    /// Runs every exit on every input.
    public func runAll(_ inputs: [Tensor]) throws(CodegenError) -> [AllExits] {
        let program = source.program
        let e = program.exits.count, k = program.classes
        let (words, _) = try invoke("all", inputs: inputs, thresholdLogits: nil)
        let record = (e + 1) * k + e
        guard words.count == record * inputs.count else { throw CodegenError("the harness wrote \(words.count) words for \(inputs.count) samples") }
        return (0..<inputs.count).map { s in
            let r = words[(s * record)..<((s + 1) * record)].map { Float(bitPattern: $0) }
            return AllExits(logits: (0...e).map { Array(r[($0 * k)..<(($0 + 1) * k)]) }, confidenceLogits: Array(r[((e + 1) * k)...]))
        }
    }

    /// Times `<model>_run` on `input` `repeats` times (after 10 warm-up runs); nanoseconds per run.
    public func bench(_ input: Tensor, thresholdLogits: [Float]?, repeats: Int) throws(CodegenError) -> [Double] {
        let (words, _) = try invoke("bench", inputs: [input], thresholdLogits: thresholdLogits, extra: [String(repeats)])
        return stride(from: 0, to: words.count - 1, by: 2).map { Double(bitPattern: UInt64(words[$0]) | (UInt64(words[$0 + 1]) << 32)) }
    }

    /// Runs the harness on files in a private temporary folder; returns OUT as 32-bit words.
    private func invoke(_ mode: String, inputs: [Tensor], thresholdLogits: [Float]?, extra: [String] = []) throws(CodegenError) -> ([UInt32], String) {
        let program = source.program
        let size = program.inputShape.reduce(1, *)
        for input in inputs where input.count != size {
            throw CodegenError("an input of \(input.count) values, expected \(size) (\(Tensor.describe(program.inputShape)))")
        }
        let fm = FileManager.default
        let work = (NSTemporaryDirectory() as NSString).appendingPathComponent("eec-run-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? fm.removeItem(atPath: work) }
        let inputPath = (work as NSString).appendingPathComponent("inputs.bin")
        let thresholdPath = (work as NSString).appendingPathComponent("thresholds.bin")
        let outPath = (work as NSString).appendingPathComponent("out.bin")
        do {
            try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
            var data = Data()
            for input in inputs { input.data.withUnsafeBytes { data.append(contentsOf: $0) } }
            try data.write(to: URL(fileURLWithPath: inputPath))
            if let thresholdLogits {
                try thresholdLogits.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: thresholdPath))
            }
        } catch {
            throw CodegenError("\(work): cannot write the harness inputs (\(error.localizedDescription))")
        }
        let thresholds = thresholdLogits == nil || program.exits.isEmpty ? "-" : thresholdPath
        let result = try CToolchain.run(executable, [mode, weightsPath, inputPath, thresholds, outPath] + extra, in: work)
        guard result.status == 0 else {
            throw CodegenError("the C harness (\(mode)) failed with status \(result.status):\n\(result.stderr)")
        }
        guard let out = fm.contents(atPath: outPath) else { throw CodegenError("the C harness wrote no output") }
        let words = out.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
        return (words, result.stdout + result.stderr)
    }

    /// The number after `key` in the harness's output.
    static func number(in text: String, after key: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(key + " ") {
            return Double(line.dropFirst(key.count + 1))
        }
        return nil
    }

    /// The sanitizer's output when the last run printed one (for tests).
    public static func sanitizerReport(_ text: String) -> Bool {
        text.contains("ERROR: AddressSanitizer") || text.contains("runtime error:")
    }
}

/// FNV-1a, 64 bits: names cache folders after their contents.
struct FNV1a {
    private var h: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ bytes: [UInt8]) {
        var h = self.h
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        self.h = h
    }

    mutating func add(_ text: String) {
        add(Array(text.utf8))
        add([0])
    }

    var hex: String {
        let s = String(h, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
