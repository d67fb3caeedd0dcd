import Foundation
import IR
import Passes
import Codegen
import Quantize

/// `--threshold T` (every exit) or `--thresholds t0,t1,..` (one per exit), as given.
enum ThresholdOption {
    case uniform(Double)
    case perExit([Double])

    /// The thresholds the command line gives; nil when it gives none.
    init?(_ args: ParsedArguments) {
        if let single = args[ThresholdOptions.threshold] {
            self = .uniform(single)
        } else if let list = args[ThresholdOptions.thresholds] {
            self = .perExit(list)
        } else {
            return nil
        }
    }

    /// One threshold per exit; a list must have exactly one per exit.
    func resolve(exits: Int) throws(UsageError) -> [Double] {
        switch self {
        case .uniform(let t): return Array(repeating: t, count: exits)
        case .perExit(let values):
            guard values.count == exits else {
                throw UsageError(message: "--thresholds gives \(values.count) value\(values.count == 1 ? "" : "s") for \(exits) exit\(exits == 1 ? "" : "s")")
            }
            return values
        }
    }
}

/// The default threshold when none is given: an exit answers when its confidence is at least 0.5.
let defaultThreshold = 0.5

/// `eec compile --emit c -o DIR`: writes the library and says what it wrote.
func emitC(_ compiled: Model, thresholds: ThresholdOption?, alignment: Int, directory: String,
           _ console: inout Console, integer: IntegerProgram? = nil) throws {
    try emit(compiled, thresholds: thresholds, &console) { values throws(CodegenError) in
        let source = CSource(try CProgram(try LoweredProgram(compiled, thresholds: values, alignment: alignment, integer: integer)))
        try source.write(to: directory)
        let program = source.program
        return ("\(program.model): wrote \(source.headerName), \(source.sourceName), \(source.weightsName), eec_runtime.h, eec_runtime.c to \(directory)",
                program.kernelNames.count, program.weightCount, program.arenaBytes)
    }
}

/// `eec compile --emit swift -o DIR`: writes the SwiftPM package and says what it wrote.
func emitSwift(_ compiled: Model, thresholds: ThresholdOption?, alignment: Int, directory: String,
               _ console: inout Console) throws {
    try emit(compiled, thresholds: thresholds, &console) { values throws(CodegenError) in
        let source = SwiftSource(try LoweredProgram(compiled, thresholds: values, alignment: alignment))
        try source.write(to: directory)
        let lowered = source.program.lowered
        return ("\(lowered.model): wrote Package.swift and \(source.sourceFolder)/: \(source.program.typeName).swift, Weights.swift, Runtime.swift to \(directory)",
                lowered.kernelCount, lowered.weights.values.count, lowered.arena.bytes)
    }
}

/// What both emitters share: the thresholds (given, or the default), the writing (a code
/// generation error is bad input), and the two report lines.
private func emit(_ compiled: Model, thresholds: ThresholdOption?, _ console: inout Console,
                  write: ([Double]) throws(CodegenError) -> (wrote: String, kernels: Int, weights: Int, arena: Int)) throws {
    let exits = compiled.graph.graph.exits.count
    let values = try thresholds?.resolve(exits: exits) ?? Array(repeating: defaultThreshold, count: exits)
    let report: (wrote: String, kernels: Int, weights: Int, arena: Int)
    do {
        report = try write(values)
    } catch {
        throw InputError(message: "eec compile: \(error)")
    }
    console.print(report.wrote)
    console.print("  \(report.kernels) kernels, \(grouped(report.weights)) weights, arena \(grouped(report.arena)) bytes, \(exits) exit\(exits == 1 ? "" : "s")"
                  + (exits > 0 ? " (T = \(thresholdSummary(values)))" : ""))
}

/// Thresholds for a one-line report: one value when they are all the same, else the list.
func thresholdSummary(_ values: [Double]) -> String {
    if let first = values.first, values.count > 1, values.allSatisfy({ $0 == first }) { return "\(String(format: "%g", first)) for all" }
    return values.map { String(format: "%g", $0) }.joined(separator: ", ")
}
