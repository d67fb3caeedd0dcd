import Foundation
import IR

/// A generated library linked into a firmware image for the Cortex-M4F of QEMU's mps2-an386:
/// the library's files (weights compiled in, so they live in code memory as on a device), the
/// startup, the linker script and the device harness (`DeviceSource`), built with the
/// toolchain's clang for thumbv7em hard-float and linked with its `ld.lld`.
///
/// Builds are cached like `CHarness`'s: `<cacheRoot>/<model>-m4-<hash>` holds the sources, the
/// objects and `firmware.elf`, named by a hash of the compiler, the flags and every file.
public struct CortexM4Firmware: Sendable {
    public let source: CSource
    public let toolchain: CToolchain
    public let directory: String
    public let flags: [String]
    public var elf: String { (directory as NSString).appendingPathComponent("firmware.elf") }

    /// `CToolchain.cortexM4Flags` with the FPU named and -O2: the instruction counts are a speed
    /// figure, and -O2 runs about 11 % fewer instructions than -Os for 3 times the code
    /// (ResNet-20: 40 KB of .text against 13 KB, next to 1.1 MB of weights).
    public static let defaultFlags = ["--target=thumbv7em-none-eabi", "-mcpu=cortex-m4", "-mfloat-abi=hard",
                                      "-mfpu=fpv4-sp-d16", "-ffreestanding", "-O2"]

    static let linkerScriptName = "mps2-an386.ld"

    public init(_ source: CSource, toolchain: CToolchain, cacheRoot: String,
                flags: [String] = CortexM4Firmware.defaultFlags) throws(CodegenError) {
        self.source = source
        self.toolchain = toolchain
        self.flags = flags
        guard let linker = toolchain.tool("ld.lld") else {
            throw CodegenError("ld.lld not found next to \(toolchain.compiler) or on the PATH: the Cortex-M4 firmware is linked with LLVM's lld (the Swift toolchain ships it next to clang; set $CC to that clang)")
        }
        try Self.checkFits(source.program)
        var files = try source.files(includeWeights: true)
        files.append(("eec_device.h", Array(DeviceSource.deviceHeader.utf8)))
        files.append(("startup.c", Array(DeviceSource.startup.utf8)))
        files.append(("harness.c", Array(DeviceSource.harness(prefix: source.program.prefix).utf8)))
        files.append((Self.linkerScriptName, Array(DeviceSource.linkerScript.utf8)))
        var hash = FNV1a()
        hash.add(toolchain.compiler)
        hash.add(flags.joined(separator: " "))
        for (name, bytes) in files {
            hash.add(name)
            hash.add(bytes)
        }
        directory = (cacheRoot as NSString).appendingPathComponent(source.program.prefix + "-m4-" + hash.hex)
        let fm = FileManager.default
        if fm.fileExists(atPath: elf) { return }
        // Built in a private folder and moved into place, so concurrent builds never see half of one.
        let staging = CHarness.stagingFolder(for: directory)
        do {
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
            for (name, bytes) in files {
                try Data(bytes).write(to: URL(fileURLWithPath: (staging as NSString).appendingPathComponent(name)))
            }
        } catch {
            throw CodegenError("\(staging): cannot write the firmware sources (\(error.localizedDescription))")
        }
        defer { try? fm.removeItem(atPath: staging) }
        let sources = Self.sources(source)
        do {
            try toolchain.compile(CToolchain.strictFlags + flags + ["-c"] + sources, in: staging)
        } catch {
            throw Self.explain(error, compiler: toolchain.compiler)
        }
        let objects = sources.map { ($0 as NSString).deletingPathExtension + ".o" }
        let link = try CToolchain.run(linker, ["-T", Self.linkerScriptName, "--gc-sections", "-o", "firmware.elf"] + objects, in: staging)
        guard link.status == 0 else {
            throw CodegenError("ld.lld could not link the Cortex-M4 firmware (does it fit the board's 4 MB of code and 4 MB of RAM?):\n\(link.stderr)")
        }
        // Never removes a complete build another test or process moved there first (it may be running).
        try CHarness.moveIntoPlace(staging, directory, marker: elf)
    }

    /// The board's memories, as the linker script gives them.
    public static let codeBytes = 4 << 20
    public static let ramBytes = 4 << 20

    /// Says before compiling megabytes of weights when they or the arena cannot fit the board
    /// (the linker would say so too, later and less plainly). The code needs about 64 KB beside
    /// the weights; the stack region 64 KB beside the arena.
    static func checkFits(_ program: CProgram) throws(CodegenError) {
        let weights = program.weightCount * 4
        if weights + 64 * 1024 > codeBytes {
            throw CodegenError("\(program.model): \(grouped(weights)) bytes of weights do not fit the \(codeBytes >> 20) MB of code memory of the mps2-an386 board (beside about 64 KB of code)")
        }
        if program.arenaBytes + DeviceSource.stackBytes + 64 * 1024 > ramBytes {
            throw CodegenError("\(program.model): an arena of \(grouped(program.arenaBytes)) bytes does not fit the \(ramBytes >> 20) MB of RAM of the mps2-an386 board (beside its 64 KB stack)")
        }
    }

    /// The C files of the image, the library's first.
    static func sources(_ source: CSource) -> [String] {
        [source.sourceName, source.weightsName, "eec_runtime.c", "startup.c", "harness.c"]
    }

    /// A clang without the ARM backend fails on the target itself; say so rather than leave the
    /// user to read the driver's complaint.
    static func explain(_ error: CodegenError, compiler: String) -> CodegenError {
        let text = error.message.lowercased()
        guard text.contains("unable to create target") || text.contains("no available targets")
            || text.contains("unknown target triple") || text.contains("not a recognized processor") else { return error }
        return CodegenError("\(compiler) cannot compile for the Cortex-M4 (no ARM target, thumbv7em-none-eabi): use a clang with the ARM backend, such as the Swift toolchain's (set $CC to it)\n\(error.message)")
    }

    // MARK: - Running

    /// What `<model>_run` returned for one sample on the device, and the instructions it took.
    public struct Answer: Sendable, Equatable {
        public var classIndex: Int
        public var exitIndex: Int
        public var confidenceLogit: Float
        public var macs: Int
        /// Instructions executed by the `<model>_run` call (QEMU `-icount`; see `QEMU`).
        public var instructions: Int
        public var logits: [Float]
    }

    public struct Run: Sendable {
        public var answers: [Answer]
        /// The stack's high-water mark over the whole run (harness, runtime and network), and
        /// the size of its region.
        public var stackBytesUsed: Int
        public var stackBytes: Int
        /// Host seconds QEMU took (emulation, not the device's time).
        public var seconds: Double
    }

    /// Runs `inputs` ([1,C,H,W] each) under `qemu`. `thresholdLogits` holds one per exit for
    /// every sample, or one set per sample (a run of the backbone alone beside early exits, or
    /// one exit forced after another, in one launch of the emulator).
    public func run(_ inputs: [Tensor], thresholdLogits: [[Float]], qemu: QEMU, timeout: Double? = nil) throws(CodegenError) -> Run {
        let program = source.program
        let exits = program.exits.count
        guard thresholdLogits.count == 1 || thresholdLogits.count == inputs.count, thresholdLogits.allSatisfy({ $0.count == exits }) else {
            throw CodegenError("\(thresholdLogits.count) threshold sets for \(inputs.count) samples and \(exits) exits: give one set of \(exits), or one per sample")
        }
        let size = program.inputShape.reduce(1, *)
        for input in inputs where input.count != size {
            throw CodegenError("an input of \(input.count) values, expected \(size) (\(Tensor.describe(program.inputShape)))")
        }
        let fm = FileManager.default
        let work = try CHarness.workFolder("m4")
        defer { try? fm.removeItem(atPath: work) }
        try CHarness.write(inputs, to: (work as NSString).appendingPathComponent("inputs.bin"))
        if exits > 0 {
            let flat = thresholdLogits.count == inputs.count ? thresholdLogits.flatMap { $0 } : thresholdLogits[0]
            let path = (work as NSString).appendingPathComponent("thresholds.bin")
            do {
                try flat.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: path))
            } catch {
                throw CodegenError("\(path): cannot write the thresholds (\(error.localizedDescription))")
            }
        }
        let start = Date()
        // About a second per 300 million instructions here; a generous bound catches a hang.
        let limit = timeout ?? 120 + 30 * Double(inputs.count)
        let (status, stderr) = try qemu.run(firmware: elf, in: work, timeout: limit)
        let seconds = Date().timeIntervalSince(start)
        guard status == 0 else {
            throw CodegenError("the Cortex-M4 firmware failed under \(qemu.executable) (status \(status))\(stderr.isEmpty ? "" : ":\n" + stderr)")
        }
        guard let out = fm.contents(atPath: (work as NSString).appendingPathComponent("out.bin")) else {
            throw CodegenError("the Cortex-M4 firmware wrote no output")
        }
        let words = out.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
        let record = 7 + program.classes
        guard words.count == record * inputs.count + 3 else {
            throw CodegenError("the Cortex-M4 firmware wrote \(words.count) words for \(inputs.count) samples, expected \(record * inputs.count + 3)")
        }
        let trailer = words.suffix(3).map { Int($0) }
        let overhead = QEMU.instructions(ticks: UInt64(trailer[2]))
        let answers = (0..<inputs.count).map { s in
            let r = Array(words[(s * record)..<((s + 1) * record)])
            return Answer(classIndex: Int(Int32(bitPattern: r[0])), exitIndex: Int(Int32(bitPattern: r[1])),
                          confidenceLogit: Float(bitPattern: r[2]), macs: Int(UInt64(r[3]) | (UInt64(r[4]) << 32)),
                          instructions: QEMU.instructions(ticks: UInt64(r[5]) | (UInt64(r[6]) << 32)) - overhead,
                          logits: r[7...].map { Float(bitPattern: $0) })
        }
        return Run(answers: answers, stackBytesUsed: trailer[0], stackBytes: trailer[1], seconds: seconds)
    }
}
