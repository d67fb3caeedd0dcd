import FuzzDriver
import IR
import Passes
import Codegen

/// Any bytes as a `.eeir` file; a graph that verifies goes through the whole compile pipeline
/// (exits at every candidate with cheap heads, fold, fuse, segment), the memory plan and the C
/// emitter. Each stage may refuse the graph with an error, never trap. Large graphs are skipped
/// (the fuzzer looks for crashes, not for slow inputs).
@_cdecl("FuzzCompile_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in test(bytes(data, size)) }
}

func test(_ input: [UInt8]) -> CInt {
    let source = SourceFile(name: "fuzz.eeir", bytes: input)
    guard case .success(let (graph, _)) = VerifiedGraph.load(source) else { return 0 }
    let cost = CostReport(graph, convention: .macs)
    guard cost.total.macs < 5_000_000, graph.graph.nodes.count < 200 else { return 0 }
    let weights = WeightBinder.seeded(graph, seed: 1)
    for insert in [InsertExits(branches: 0), InsertExits(branches: 1, block: .sdn, sites: .everyCandidate, confidence: .softmax),
                   InsertExits(branches: 2, block: .pool)] {
        guard let compiled = try? PassPipeline.inserting(insert)
            .run(Model(graph: graph, weights: weights)) else { continue }
        _ = MemoryPlan(compiled.graph)
        if let program = try? CProgram(compiled) { _ = try? CSource(program).files(includeWeights: true) }
    }
    return 0
}
