import Foundation
import IR
import Passes
import Codegen
import Quantize

/// `eec bench-c --target cortex-m4`: each network with exits as Cortex-M4F firmware under QEMU,
/// one inference per path (the backbone with every exit off, each exit taken, the final
/// classifier after every head), its instructions (deterministic: QEMU `-icount`), and the
/// image's flash and RAM with the stack's high-water mark. Host time means nothing here, so
/// nothing is timed.
enum DeviceBench {
    static let target = "cortex-m4"
    static let defaultFiles = ["resnet20", "resnet44a"].map { "examples/\($0).eeir" }

    /// A threshold logit an exit's confidence never reaches, though its head runs (the runtime
    /// skips the head only at exactly EEC_LOGIT_MAX), and ones that switch it off or always take it.
    static let runButNeverTake: Float = 1e38
    static let off = Float.greatestFiniteMagnitude
    static let always = -Float.greatestFiniteMagnitude

    static func run(_ args: ParsedArguments, _ console: inout Console) throws -> Int32 {
        let configuration = flagConfiguration(args, defaultBranches: 3)
        let seed = args[seedOption]
        let qemu: QEMU
        do {
            qemu = try QEMU.find()
        } catch {
            throw InputError(message: "eec bench-c: \(error)")
        }
        let cache = try cacheRoot()
        for path in args.positionals.isEmpty ? defaultFiles : args.positionals {
            let graph = try loadGraph(path, &console)
            let withExits: Model
            do {
                withExits = try configuration.pass(seed: seed).run(Model(graph: graph, weights: WeightBinder.seeded(graph, seed: seed)))
            } catch {
                throw InputError(message: "\(path): \(error)")
            }
            let compiled = try EarlyExitRun.compile(withExits, path: path)
            do {
                try bench(compiled, qemu: qemu, cache: cache, &console)
                // The int8 network beside it (eec quantize's, ranges from 8 seeded inputs).
                try bench(compiled, integer: try benchInt8(compiled, path: path), qemu: qemu, cache: cache, &console)
            } catch let error as CodegenError {
                throw InputError(message: "eec bench-c: \(path): \(error)")
            }
        }
        console.print("instructions: QEMU -icount, the same on every run; not cycles (no pipeline, flash wait states or FPU latencies are modelled)")
        return ExitStatus.ok
    }

    /// One network: every path in one launch of the emulator, on one seeded input.
    static func bench(_ compiled: Model, integer: IntegerProgram? = nil, qemu: QEMU, cache: String, _ console: inout Console) throws {
        let source = CSource(try CProgram(try LoweredProgram(compiled, integer: integer)))
        let program = source.program
        let exits = program.exits.count
        let firmware = try CortexM4Firmware(source, toolchain: try CToolchain.find(), cacheRoot: cache)
        var paths: [(String, [Float])] = [("backbone, every exit off", Array(repeating: off, count: exits))]
        for k in 0..<exits {
            paths.append(("exit \(k) after \(program.exits[k].attach)", (0..<exits).map { $0 < k ? off : $0 == k ? always : off }))
        }
        if exits > 0 { paths.append(("final, after every head", Array(repeating: runButNeverTake, count: exits))) }
        var rng = SplitMix64(seed: 1)
        let input = Tensor(shape: program.inputShape, data: (0..<program.inputShape.reduce(1, *)).map { _ in rng.uniform(-2, 2) })
        let run = try firmware.run(Array(repeating: input, count: paths.count), thresholdLogits: paths.map(\.1), qemu: qemu)
        let backbone = run.answers[0].instructions
        console.print("\(program.model)\(integer != nil ? " int8" : ""): \(exits) exit\(exits == 1 ? "" : "s"), Cortex-M4F firmware (clang \(CortexM4Firmware.defaultFlags.joined(separator: " "))), QEMU mps2-an386")
        var table = TextTable(columns: ["path", "instructions", "MACs", "instr/MAC", "of backbone"],
                              rightAligned: [false, true, true, true, true])
        for ((name, _), answer) in zip(paths, run.answers) {
            table.add([name, grouped(answer.instructions), grouped(answer.macs),
                       String(format: "%.2f", Double(answer.instructions) / Double(max(1, answer.macs))),
                       percent(Double(answer.instructions) / Double(max(1, backbone)))])
        }
        console.write(table.render())
        console.print(DeviceRun.footprintLine(try firmware.footprint(), stackUsed: run.stackBytesUsed, stackBytes: run.stackBytes))
        console.print("")
    }
}
