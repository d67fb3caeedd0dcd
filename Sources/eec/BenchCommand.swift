import Foundation
import IR

enum BenchOptions {
    static let repeats = Option<Int>.int("--repeat", in: 1...100_000, default: 50, help: "runs per file; the median is printed")
}

let benchCommand = Command(
    name: "bench", summary: "time the front end (parse, verify, cost)",
    positionals: .oneOrMore("FILE"), options: [BenchOptions.repeats],
    details: """
        Times the front end on each FILE: reading, parsing, verifying (shape inference) and the
        cost model, as the median of N runs. Build with -c release for real figures:
          swift run -c release eec bench examples/resnet110.eeir examples/densenet121.eeir
        """
) { args, console in
    let repeats = args[BenchOptions.repeats]
    var table = TextTable(columns: ["file", "nodes", "parse ms", "verify ms", "cost ms", "total ms"],
                          rightAligned: [false, true, true, true, true, true])
    for path in args.positionals {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(message: "\(path): error: cannot read file")
        }
        var parse: [Double] = [], verify: [Double] = [], cost: [Double] = [], total: [Double] = []
        var nodes = 0
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            var parsed = Parser.parse(SourceFile(name: path, bytes: [UInt8](data)))
            let t1 = DispatchTime.now().uptimeNanoseconds
            let shapes = Verifier.verify(parsed.graph, poisoned: parsed.poisoned, diagnostics: &parsed.diagnostics)
            let t2 = DispatchTime.now().uptimeNanoseconds
            guard !parsed.diagnostics.hasErrors, !shapes.isEmpty, let graph = try? VerifiedGraph(parsed.graph) else {
                throw InputError(message: parsed.diagnostics.rendered(in: SourceFile(name: path, bytes: [UInt8](data))))
            }
            let t3 = DispatchTime.now().uptimeNanoseconds
            let report = CostReport(graph)
            let t4 = DispatchTime.now().uptimeNanoseconds
            nodes = report.rows.count
            parse.append(Double(t1 - t0) / 1e6)
            verify.append(Double(t2 - t1) / 1e6)
            cost.append(Double(t4 - t3) / 1e6)
            total.append(Double((t2 - t0) + (t4 - t3)) / 1e6)
        }
        table.add([path, String(nodes), ms(median(parse)), ms(median(verify)), ms(median(cost)), ms(median(total))])
    }
    console.write(table.render())
    console.print("median of \(repeats) runs; total = parse + verify + cost (the file is read once, before timing)")
    return ExitStatus.ok
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

func ms(_ value: Double) -> String { String(format: "%.3f", value) }
