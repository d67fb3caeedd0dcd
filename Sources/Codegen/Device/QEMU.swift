import Foundation

/// `qemu-system-arm` emulating the mps2-an386 board (Cortex-M4F, 4 MB code memory), with
/// semihosting for the harness's files and `-icount` for a deterministic instruction count.
///
/// Why `-icount`: with it, QEMU's virtual clock advances 2^shift ns per guest instruction executed
/// and not with the host's time, and a timer read is always the last instruction of its
/// translation block, so the board's 25 MHz timer counts instructions exactly, the same on every
/// run and every host. It counts instructions, not cycles: QEMU models no pipeline, no flash wait
/// states and no FPU latencies (a VDIV counts as one, like a MOV).
public struct QEMU: Sendable {
    public var executable: String

    /// 2^7 = 128 ns per instruction, 3.2 ticks of the 25 MHz timer: every instruction moves the
    /// timer, so a difference of ticks gives the instructions exactly (see `instructions(ticks:)`).
    /// The 32-bit timer wraps every 1.3 billion instructions; the startup counts the wraps.
    public static let icountShift = 7
    /// The board's peripheral clock, which drives the CMSDK timer the harness reads.
    public static let timerHz = 25_000_000

    public static let installHint = "install it (Debian/Ubuntu: apt-get install qemu-system-arm; macOS: brew install qemu), or set $EEC_QEMU to its path"

    public init(executable: String) {
        self.executable = executable
    }

    /// `$EEC_QEMU` when set, else `qemu-system-arm` on the PATH.
    public static func find(environment: [String: String] = ProcessInfo.processInfo.environment) throws(CodegenError) -> QEMU {
        if let given = environment["EEC_QEMU"], !given.isEmpty {
            guard let found = CToolchain.resolve(given, path: environment["PATH"] ?? "") else {
                throw CodegenError("$EEC_QEMU is '\(given)', which is not an executable: \(installHint)")
            }
            return QEMU(executable: found)
        }
        guard let found = CToolchain.resolve("qemu-system-arm", path: environment["PATH"] ?? "/usr/bin:/bin") else {
            throw CodegenError("qemu-system-arm not found on the PATH, and the Cortex-M4 backend runs the firmware in it: \(installHint)")
        }
        return QEMU(executable: found)
    }

    /// Instructions between two timer reads `ticks` apart. A read at instruction n sees
    /// floor(n · 2^shift / 40 ns) ticks, so a difference of ticks is 3.2 per instruction give or
    /// take one tick, and rounding recovers the instructions exactly.
    public static func instructions(ticks: UInt64) -> Int {
        let nsPerTick = 1_000_000_000 / timerHz
        return Int((Double(ticks) * Double(nsPerTick) / Double(1 << icountShift)).rounded())
    }

    /// The command line: no devices but the board's, semihosting to the host's files in the
    /// working folder, instructions counted.
    func arguments(firmware: String) -> [String] {
        ["-M", "mps2-an386", "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "null",
         "-icount", "shift=\(Self.icountShift)", "-semihosting-config", "enable=on,target=native", "-kernel", firmware]
    }

    /// Runs `firmware` with `directory` as the working folder (where semihosting opens files).
    /// A firmware that fails exits 1 with its message on stderr; one still running after `timeout`
    /// seconds is stopped and reported.
    public func run(firmware: String, in directory: String, timeout: Double) throws(CodegenError) -> (status: Int32, stderr: String) {
        let errPath = (directory as NSString).appendingPathComponent("qemu.stderr")
        let process = Process()
        let done = DispatchSemaphore(value: 0)
        do {
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
            let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
            defer { try? err.close() }
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments(firmware: firmware)
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = err
            process.standardError = err
            process.terminationHandler = { _ in done.signal() }
            try process.run()
        } catch {
            throw CodegenError("cannot run \(executable): \(error.localizedDescription): \(Self.installHint)")
        }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            process.waitUntilExit()
            throw CodegenError("the firmware did not finish within \(Int(timeout)) s under \(executable); stopped")
        }
        process.waitUntilExit()
        // The board's unused network card always warns; it is noise in an error message.
        let stderr = ((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
            .split(separator: "\n").filter { !$0.contains("has no peer") }.joined(separator: "\n")
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        if status != 0 && stderr.contains("mps2-an386") {
            throw CodegenError("\(executable) has no mps2-an386 board (QEMU 6.0 or later has it):\n\(stderr)")
        }
        return (status, stderr)
    }
}
