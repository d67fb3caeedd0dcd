import FuzzDriver
import IR

/// Any bytes as a `.eeir` file: parse, verify and cost must give a graph or diagnostics, never
/// trap; diagnostics must render against their source.
@_cdecl("FuzzEEIR_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in test(bytes(data, size)) }
}

func test(_ input: [UInt8]) -> CInt {
    let source = SourceFile(name: "fuzz.eeir", bytes: input)
    switch VerifiedGraph.load(source) {
    case .success(let (graph, warnings)):
        _ = CostReport(graph, convention: .macs)
        _ = CostReport(graph, convention: .eenets)
        _ = Printer.print(graph.graph)
        for warning in warnings { _ = warning.rendered(in: source) }
    case .failure(let diagnostics):
        for item in diagnostics.items { _ = item.rendered(in: source) }
    }
    return 0
}
