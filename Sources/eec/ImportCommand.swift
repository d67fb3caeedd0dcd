import Foundation
import IR
import Import

enum ImportOptions {
    static let out = Option<String?>.path("-o", "NAME.eeir", help: "the graph to write; the model is named NAME").required(unused: "")
    static let weightsOut = Option<String?>.path("--weights-out", "W", help: "where to write the weights (default: NAME.safetensors beside NAME.eeir)")
}

let importCommand = Command(
    name: "import", summary: "translate an ONNX model into .eeir and its weights as safetensors",
    positionals: .one("MODEL.onnx"), options: [ImportOptions.out, ImportOptions.weightsOut],
    details: """
        Reads a model as torch.onnx.export writes it (classic or dynamo exporter, ai.onnx opsets
        \(ONNXImporter.supportedOpsets.lowerBound) to \(ONNXImporter.supportedOpsets.upperBound)) and writes canonical .eeir and the weights, so that
        'eec compile NAME.eeir --weights NAME.safetensors' works at once. Node names follow the
        PyTorch modules (layer1.0.conv1); weights are <node>.weight and <node>.bias. Shape
        computations on constants are folded; an op, attribute or value eec cannot run exactly
        is an error naming the node and what is supported (exit 1).

        \(Help.wrap("Ops: " + ONNXImporter.supportedOps.joined(separator: ", ") + ".", indent: ""))
        """
) { args, console in
    try importONNX(args.file, to: args[ImportOptions.out], weightsOut: args[ImportOptions.weightsOut], &console)
    return ExitStatus.ok
}

/// `eec import`: reads and translates the model, writes the graph and its weights, says what it wrote.
func importONNX(_ path: String, to out: String, weightsOut: String?, _ console: inout Console) throws(InputError) {
    // NAME.eeir → NAME.safetensors beside it, the path kept as the user wrote it.
    let base = out.hasSuffix(".eeir") ? String(out.dropLast(".eeir".count)) : out
    let weightsPath = weightsOut ?? (base + ".safetensors")
    let start = Date()
    let imported: ImportedModel
    do {
        imported = try ONNXImporter.importModel(path: path, modelName: URL(fileURLWithPath: base).lastPathComponent)
    } catch {
        throw InputError(message: error.description)
    }
    let seconds = Date().timeIntervalSince(start)
    try writeFile(out, Printer.print(imported.graph))
    do {
        try SafetensorsFile.write(tensors: imported.weights, to: weightsPath)
    } catch {
        throw InputError(message: error.description)
    }
    let parameters = imported.weights.values.reduce(0) { $0 + $1.count }
    let source = imported.producer.isEmpty ? "" : ", written by \(imported.producer)"
    console.print("imported \(path) (ai.onnx opset \(imported.opset)\(source)) in \(String(format: "%.2f", seconds)) s")
    console.print("wrote \(out) (\(imported.graph.nodes.count) nodes) and \(weightsPath) (\(imported.weights.count) tensors, \(parameters) parameters)")
}
