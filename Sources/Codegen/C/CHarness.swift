import Foundation
import IR
import Passes

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
    /// The tensors `dump` writes, in the order asked for; compiled into the harness.
    public let dumped: [CProgram.TensorLocation]
    var executable: String { (directory as NSString).appendingPathComponent("harness") }
    var weightsPath: String { (directory as NSString).appendingPathComponent("weights.bin") }

    /// The flags of `eec run --backend c` and the benchmark.
    public static let releaseFlags = ["-O3", "-march=native"]

    /// Generates and compiles (unless the cache has it). `compiledWeights` links
    /// `<model>_weights.c` instead of reading `weights.bin` (slow to compile for large networks).
    /// `dumping` names the tensors `dump` writes; the program must keep them alive
    /// (`CProgram(_:keepAlive:)`, or use `init(dumping:of:toolchain:cacheRoot:flags:)`). Their
    /// table is part of `harness.c`, so each dump build has its own cache folder.
    public init(_ source: CSource, toolchain: CToolchain, cacheRoot: String, flags: [String] = CHarness.releaseFlags,
                compiledWeights: Bool = false, dumping: [String] = []) throws(CodegenError) {
        self.source = source
        self.toolchain = toolchain
        self.flags = flags
        var dumped: [CProgram.TensorLocation] = []
        for name in dumping {
            let location = try source.program.location(of: name)
            guard source.program.keptAlive.contains(name) else {
                throw CodegenError("'\(name)' is not kept alive by this program, so a later node may overwrite it before the harness copies it: lower it with CProgram(_:keepAlive:)")
            }
            dumped.append(location)
        }
        self.dumped = dumped
        var files = try source.files(includeWeights: compiledWeights)
        files.append(("harness.c", Array(HarnessSource.harness(prefix: source.program.prefix, dump: dumped).utf8)))
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
        let staging = Self.stagingFolder(for: directory)
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
        try Self.moveIntoPlace(staging, directory, marker: executable)
    }

    /// A private folder beside `directory` to build it in (this process's id and a random number).
    static func stagingFolder(for directory: String) -> String {
        directory + ".tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Moves a finished build from `staging` to `directory` with one rename(2), which is atomic and
    /// fails when `directory` already exists: a folder there was put there the same way, complete,
    /// by another test or process that built the same network, and may be running, so it is never
    /// removed; `staging` is. Only a folder without `marker` (the file a complete build ends
    /// with; left by hand or by an older eec) is stale: it is renamed aside, removed, and the move
    /// is tried once more.
    static func moveIntoPlace(_ staging: String, _ directory: String, marker: String) throws(CodegenError) {
        let fm = FileManager.default
        defer { try? fm.removeItem(atPath: staging) }  // gone once moved; otherwise not needed
        for attempt in 0..<2 {
            if rename(staging, directory) == 0 { return }
            let reason = String(cString: strerror(errno))
            if fm.fileExists(atPath: marker) { return }
            guard attempt == 0, fm.fileExists(atPath: directory) else {
                throw CodegenError("\(directory): cannot move the build into place (\(reason))")
            }
            let stale = stagingFolder(for: directory) + "-stale"
            if rename(directory, stale) == 0 { try? fm.removeItem(atPath: stale) }
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
        try checkSizes(inputs)
        let fm = FileManager.default
        let work = try Self.workFolder("run")
        defer { try? fm.removeItem(atPath: work) }
        let inputPath = (work as NSString).appendingPathComponent("inputs.bin")
        let thresholdPath = (work as NSString).appendingPathComponent("thresholds.bin")
        let outPath = (work as NSString).appendingPathComponent("out.bin")
        try Self.write(inputs, to: inputPath)
        if let thresholdLogits {
            do {
                try thresholdLogits.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: thresholdPath))
            } catch {
                throw CodegenError("\(thresholdPath): cannot write the thresholds (\(error.localizedDescription))")
            }
        }
        let thresholds = thresholdLogits == nil || source.program.exits.isEmpty ? "-" : thresholdPath
        let result = try CToolchain.run(executable, [mode, weightsPath, inputPath, thresholds, outPath] + extra, in: work)
        guard result.status == 0 else {
            throw CodegenError("the C harness (\(mode)) failed with status \(result.status):\n\(result.stderr)")
        }
        guard let out = fm.contents(atPath: outPath) else { throw CodegenError("the C harness wrote no output") }
        let words = out.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
        return (words, result.stdout + result.stderr)
    }

    /// Every input must have the network's input size.
    func checkSizes(_ inputs: [Tensor]) throws(CodegenError) {
        let program = source.program
        let size = program.inputShape.reduce(1, *)
        for input in inputs where input.count != size {
            throw CodegenError("an input of \(input.count) values, expected \(size) (\(Tensor.describe(program.inputShape)))")
        }
    }

    /// A fresh private folder under the system's temporary one.
    static func workFolder(_ kind: String) throws(CodegenError) -> String {
        let work = (NSTemporaryDirectory() as NSString).appendingPathComponent("eec-\(kind)-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))")
        do {
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        } catch {
            throw CodegenError("\(work): cannot create a folder for the harness (\(error.localizedDescription))")
        }
        return work
    }

    /// The samples' values one after the other, raw float32, as the harness reads INPUTS.
    static func write(_ inputs: [Tensor], to path: String) throws(CodegenError) {
        var data = Data()
        data.reserveCapacity(inputs.reduce(0) { $0 + $1.count * 4 })
        for input in inputs { input.data.withUnsafeBytes { data.append(contentsOf: $0) } }
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw CodegenError("\(path): cannot write the harness inputs (\(error.localizedDescription))")
        }
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

// MARK: - Dumping tensors

extension CHarness {
    /// Lowers `compiled` (after the passes) keeping `tensors` alive, and builds its dump harness.
    public init(dumping tensors: [String], of compiled: Model, toolchain: CToolchain, cacheRoot: String,
                flags: [String] = CHarness.releaseFlags) throws(CodegenError) {
        let program = try CProgram(compiled, keepAlive: Set(tensors))
        try self.init(CSource(program), toolchain: toolchain, cacheRoot: cacheRoot, flags: flags, dumping: tensors)
    }

    /// Runs every segment and exit head on each input, as `<model>_run_all` does, and hands
    /// `consume` each sample's values of `tensors` (in that order, each in the IR's layout: NCHW
    /// for a `[1,C,H,W]` tensor, transposed here from the arena's channels last; `[1,F]` as it
    /// is), its final logits and its index, in sample order. `tensors` are IR names among those
    /// this harness was built to dump (`dumped`); the harness writes all of those anyway.
    ///
    /// Memory stays bounded whatever the number of inputs, and nothing but the inputs touches the
    /// disk (a sample's tensors may be megabytes: files would wait on the disk, not the cores).
    /// Inputs go in batches of `batch` samples; each batch is dealt to `processes` harnesses,
    /// harness j taking samples j, j + processes, ..., and each streams its records through a
    /// pipe, read in turn, so samples arrive in order while the harnesses compute side by side,
    /// each at most a pipe's buffer ahead. `progress` gets the number of samples consumed after
    /// each batch. Returns the harnesses' mean nanoseconds per sample (steps and copies).
    @discardableResult
    public func dump(_ inputs: [Tensor], tensors: [String], processes: Int = 2, batch: Int = 1000,
                     progress: (Int) -> Void = { _ in },
                     consume: (_ tensors: [[Float]], _ logits: [Float], _ sample: Int) -> Void) throws(CodegenError) -> Double {
        try checkSizes(inputs)
        var picked: [Int] = []
        for name in tensors {
            guard let i = dumped.firstIndex(where: { $0.name == name }) else {
                throw CodegenError("'\(name)' is not among the tensors this harness was built to dump (\(dumped.map(\.name).joined(separator: ", ")))")
            }
            picked.append(i)
        }
        let work = try Self.workFolder("dump")
        defer { try? FileManager.default.removeItem(atPath: work) }
        var record = DumpRecord(dumped, classes: source.program.classes)
        var nanoseconds = 0.0
        for start in stride(from: 0, to: inputs.count, by: max(1, batch)) {
            let samples = start..<min(inputs.count, start + max(1, batch))
            nanoseconds += try dumpBatch(inputs, samples, lanes: min(max(1, processes), samples.count), work: work) { (sample, lane) throws(CodegenError) in
                try lane.nextRecord(&record.values)
                consume(picked.map { record.tensor($0) }, record.logits, sample)
            }
            progress(samples.upperBound)
        }
        return inputs.isEmpty ? 0 : nanoseconds / Double(inputs.count)
    }

    /// One batch dealt to `lanes` harnesses; `next` reads each sample's record from its lane, in
    /// sample order. Returns the harnesses' total nanoseconds.
    private func dumpBatch(_ inputs: [Tensor], _ samples: Range<Int>, lanes: Int, work: String,
                           next: (Int, DumpLane) throws(CodegenError) -> Void) throws(CodegenError) -> Double {
        var running: [DumpLane] = []
        // On an error, closing the pipes stops the harnesses at their next write.
        defer { for lane in running { lane.stop() } }
        for j in 0..<lanes {
            let inputPath = (work as NSString).appendingPathComponent("inputs-\(j).bin")
            let share = stride(from: samples.lowerBound + j, to: samples.upperBound, by: lanes).map { inputs[$0] }
            try Self.write(share, to: inputPath)
            let errPath = (work as NSString).appendingPathComponent("stderr-\(j).txt")
            running.append(try DumpLane(executable, ["dump", weightsPath, inputPath, "-", "-"], in: work, stderr: errPath))
        }
        for sample in samples {
            let lane = running[(sample - samples.lowerBound) % lanes]
            do {
                try next(sample, lane)
            } catch {
                let (status, stderr) = lane.stop()
                throw CodegenError(error.message + (status == 0 || stderr.isEmpty ? "" : " (status \(status)):\n\(stderr)"))
            }
        }
        var total = 0.0
        for (j, lane) in running.enumerated() {
            let (status, stderr) = lane.stop()
            guard status == 0 else { throw CodegenError("the C harness (dump) failed with status \(status):\n\(stderr)") }
            let share = (samples.count - j + lanes - 1) / lanes
            total += (Self.number(in: stderr, after: "ns_per_sample") ?? 0) * Double(share)
        }
        return total
    }

    /// The arena's layout to the IR's: `[H][W][C]` → `[C][H][W]` for a `[1,C,H,W]` tensor;
    /// other ranks (`[1,F]`: flattened features, logits) are stored as they are.
    static func irLayout(_ values: ArraySlice<Float>, shape: [Int]) -> [Float] {
        guard shape.count == 4 else { return Array(values) }
        let (channels, pixels) = (shape[1], shape[2] * shape[3])
        guard channels > 1 && pixels > 1 else { return Array(values) }
        return [Float](unsafeUninitializedCapacity: values.count) { out, initialized in
            values.withUnsafeBufferPointer { x in
                for i in 0..<pixels {
                    for c in 0..<channels { out[c * pixels + i] = x[i * channels + c] }
                }
            }
            initialized = values.count
        }
    }
}

/// One harness process of a dump, its records streamed through a pipe.
private final class DumpLane {
    private let process = Process()
    private let output = Pipe()
    private let errPath: String
    private var stopped = false

    init(_ executable: String, _ arguments: [String], in directory: String, stderr errPath: String) throws(CodegenError) {
        self.errPath = errPath
        do {
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
            let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
            defer { try? err.close() }
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            process.standardOutput = output
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
        } catch {
            throw CodegenError("cannot run \(executable): \(error.localizedDescription)")
        }
    }

    /// Fills `values` with the next record; a pipe hands over at most its buffer at a time.
    func nextRecord(_ values: inout [Float]) throws(CodegenError) {
        let fd = output.fileHandleForReading.fileDescriptor
        let wanted = values.count * MemoryLayout<Float>.size
        let got = values.withUnsafeMutableBytes { buffer -> Int in
            var done = 0
            while done < wanted, let base = buffer.baseAddress {
                let n = read(fd, base + done, wanted - done)
                if n > 0 {
                    done += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            return done
        }
        guard got == wanted else { throw CodegenError("the C harness (dump) ended in the middle of a record") }
    }

    /// Closes the pipe and waits for the harness to exit: one that read all its records has
    /// nothing left to write; one still writing (an error cut the dump short, or it writes more
    /// than it should) dies of SIGPIPE rather than blocking forever. Its status and its stderr.
    @discardableResult
    func stop() -> (status: Int32, stderr: String) {
        if !stopped {
            try? output.fileHandleForReading.close()
            process.waitUntilExit()
            stopped = true
        }
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return (status, (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }
}

/// One sample's values as the dump harness writes them: the dumped tensors, then the logits.
private struct DumpRecord {
    var values: [Float]
    let tensors: [CProgram.TensorLocation]
    let starts: [Int]
    let logitsStart: Int

    init(_ tensors: [CProgram.TensorLocation], classes: Int) {
        var starts: [Int] = []
        var position = 0
        for tensor in tensors {
            starts.append(position)
            position += tensor.count
        }
        self.tensors = tensors
        self.starts = starts
        logitsStart = position
        values = [Float](repeating: 0, count: position + classes)
    }

    /// Tensor `i`, in the IR's layout.
    func tensor(_ i: Int) -> [Float] {
        CHarness.irLayout(values[starts[i]..<(starts[i] + tensors[i].count)], shape: tensors[i].shape)
    }

    var logits: [Float] { Array(values[logitsStart...]) }
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
