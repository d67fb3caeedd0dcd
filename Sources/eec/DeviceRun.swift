import Foundation
import IR
import Passes
import Codegen

/// `eec run --backend cortex-m4`: the network `--backend c` builds, compiled as firmware for a
/// Cortex-M4F and run under QEMU (mps2-an386), so the answers are the device's own, with the
/// instructions each inference took (deterministic: QEMU `-icount`, see `QEMU`).
///
/// The backbone's own prediction, for the agreement, comes from the host build's `run_all`; the
/// backbone's instruction count from one more inference on the device, sample 0 with every exit
/// switched off (the same firmware, so the same code path minus the heads).
enum DeviceRun {
    static let backendName = "cortex-m4"

    struct Result {
        var answers: [EarlyExitRun.Answer]
        var spent: EarlyExitRun.Spent
        /// Per sample, and sample 0 with every exit off.
        var instructions: [Int]
        var backboneInstructions: Int
        var stackBytesUsed: Int
        var stackBytes: Int
        var footprint: CortexM4Firmware.Footprint
        /// Host seconds of emulation per sample: not the device's time.
        var secondsPerSample: Double
        var exits: Int

        var how: String {
            "generated C as Cortex-M4F firmware, clang \(CortexM4Firmware.defaultFlags.last ?? ""), run in QEMU mps2-an386; time is the emulator's on this host"
        }

        var meanInstructions: Int { instructions.reduce(0, +) / max(1, instructions.count) }

        /// Mean instructions of the samples that left at each exit (the final classifier last); nil
        /// for an exit no sample took.
        var perExit: [Int?] {
            (0...exits).map { k in
                let taken = zip(answers, instructions).filter { $0.0.exitIndex == k }.map(\.1)
                return taken.isEmpty ? nil : taken.reduce(0, +) / taken.count
            }
        }
    }

    /// Runs the batch on the device and prints `eec run`'s report (or `--json`) with the
    /// device's figures; writes `--output` and `--exits`.
    static func run(_ args: ParsedArguments, _ withExits: Model, thresholds: [Double], inputs: [Tensor], labels: [Int]?,
                    convention: CostReport.Convention, path: String, _ console: inout Console) throws -> Int32 {
        let result = try measure(withExits, thresholds: thresholds, inputs: inputs, path: path)
        if args[RunOptions.json] {
            let object = EarlyExitRun.json(result.answers, labels: labels, thresholds: thresholds, withExits: withExits.graph,
                                           secondsPerSample: result.secondsPerSample, backboneSecondsPerSample: result.secondsPerSample,
                                           spent: result.spent, backend: .c,
                                           nonFinite: inputs.filter { $0.data.contains { !$0.isFinite } }.count)
            console.print(json(object, result).text)
        } else {
            EarlyExitRun.report(result.answers, labels: labels, thresholds: thresholds, withExits: withExits.graph, convention: convention,
                                secondsPerSample: result.secondsPerSample, how: result.how, spent: result.spent,
                                perSample: args[RunOptions.output] == nil && inputs.count <= 100, &console)
            report(result, &console)
        }
        try EarlyExitRun.write(result.answers, classes: withExits.graph.classes, args)
        return ExitStatus.ok
    }

    static func measure(_ withExits: Model, thresholds: [Double], inputs: [Tensor], path: String) throws -> Result {
        // The emulator first: without it, building anything is wasted time.
        let qemu: QEMU
        do {
            qemu = try QEMU.find()
        } catch {
            throw InputError(message: "eec run: \(error)")
        }
        let harness = try EarlyExitRun.harness(EarlyExitRun.compile(withExits, path: path), thresholds: thresholds, command: "run")
        let program = harness.source.program
        let exits = program.exits.count
        let limits = thresholds.map(CSource.thresholdLogit)
        do {
            let firmware = try CortexM4Firmware(harness.source, toolchain: harness.toolchain, cacheRoot: try cacheRoot())
            // One launch: the batch with its thresholds, then sample 0 with every exit off.
            let sets = Array(repeating: limits, count: inputs.count) + [Array(repeating: Float.greatestFiniteMagnitude, count: exits)]
            let extra = inputs.first.map { [$0] } ?? []
            let device = try firmware.run(inputs + extra, thresholdLogits: inputs.isEmpty ? [limits] : sets, qemu: qemu)
            let all = try harness.runAll(inputs)
            let results = Array(device.answers.prefix(inputs.count))
            let answers = zip(results, all).map { r, a in
                EarlyExitRun.Answer(classIndex: r.classIndex, exitIndex: r.exitIndex, backboneClass: argmax(a.logits[exits]),
                                    logits: r.logits, macs: r.macs)
            }
            return Result(answers: answers,
                          spent: EarlyExitRun.Spent(mean: results.reduce(0) { $0 + $1.macs } / max(1, results.count), backbone: program.backboneMacs),
                          instructions: results.map(\.instructions), backboneInstructions: device.answers.count > inputs.count ? device.answers[inputs.count].instructions : 0,
                          stackBytesUsed: device.stackBytesUsed, stackBytes: device.stackBytes, footprint: try firmware.footprint(),
                          secondsPerSample: device.seconds / Double(max(1, device.answers.count)), exits: exits)
        } catch let error as CodegenError {
            throw InputError(message: "eec run: \(error)")
        }
    }

    /// The lines `eec run` prints after the exit table.
    static func report(_ result: Result, _ console: inout Console) {
        let backbone = result.backboneInstructions
        console.print("Cortex-M4 instructions per inference: \(grouped(result.meanInstructions)) mean, \(percent(Double(result.meanInstructions) / Double(max(1, backbone)))) of the backbone's \(grouped(backbone)) (every exit off)")
        let paths = result.perExit.enumerated().compactMap { k, count in
            count.map { "\(k < result.exits ? "exit \(k)" : "final") \(grouped($0))" }
        }
        console.print("  mean per exit path: " + paths.joined(separator: ", "))
        console.print(footprintLine(result.footprint, stackUsed: result.stackBytesUsed, stackBytes: result.stackBytes))
        console.print("(instructions counted by QEMU -icount, deterministic; not cycles: no pipeline, wait states or FPU latencies are modelled)")
    }

    static func footprintLine(_ f: CortexM4Firmware.Footprint, stackUsed: Int, stackBytes: Int) -> String {
        let flash = "flash \(grouped(f.flash)) bytes: .text \(grouped(f.text)) (network and runtime \(grouped(f.networkText))), .rodata \(grouped(f.rodata)) (weights \(grouped(f.weights)))"
        let ram = "RAM \(grouped(f.data + f.bss + stackUsed)) bytes: arena \(grouped(f.arena)), other static \(grouped(f.data + f.bss - f.arena)), stack high-water mark \(grouped(stackUsed)) of \(grouped(stackBytes))"
        return flash + "\n" + ram
    }

    /// `--json`: `eec run`'s object with the device's figures; its times are the emulator's,
    /// so the backbone's time and the time ratio are null (the instruction ratio replaces them).
    static func json(_ base: JSON, _ result: Result) -> JSON {
        guard case .object(var fields) = base else { return base }
        fields = fields.map { key, value in
            switch key {
            case "backend": return (key, .string(backendName))
            case "backbone_ms_per_sample", "time_ratio": return (key, .null)
            default: return (key, value)
            }
        }
        let f = result.footprint
        fields += [
            ("instructions_per_sample", .array(result.instructions.map { .int($0) })),
            ("instructions_mean", .int(result.meanInstructions)),
            ("instructions_per_exit", .array(result.perExit.map { $0.map { .int($0) } ?? .null })),
            ("backbone_instructions", .int(result.backboneInstructions)),
            ("instructions_ratio", .double(Double(result.meanInstructions) / Double(max(1, result.backboneInstructions)))),
            ("flash_bytes", .int(f.flash)), ("text_bytes", .int(f.text)), ("rodata_bytes", .int(f.rodata)),
            ("weights_bytes", .int(f.weights)), ("arena_bytes", .int(f.arena)), ("static_ram_bytes", .int(f.data + f.bss)),
            ("stack_bytes_used", .int(result.stackBytesUsed)),
        ]
        return .object(fields)
    }
}
