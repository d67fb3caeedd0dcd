import FuzzDriver
import IR
import Import

/// Any bytes as an ONNX model: an imported graph that verifies, or an `ImportError`; never a trap,
/// a stack overflow or a huge allocation.
@_cdecl("FuzzONNX_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in test(bytes(data, size)) }
}

func test(_ input: [UInt8]) -> CInt {
    if let model = try? ONNXImporter.importModel(bytes: input, source: "fuzz.onnx", modelDirectory: nil, modelName: "fuzz") {
        // What imports prints as canonical text that parses back to the same graph.
        let text = Printer.print(model.graph)
        guard case .success(let (again, _)) = VerifiedGraph.load(SourceFile(name: "fuzz.eeir", text: text)),
              Printer.print(again.graph) == text
        else { fatalError("an imported graph does not print canonically") }
    }
    return 0
}
