import Foundation
import IR

/// A translated model: the `.eeir` graph and its weights, named `<node>.<parameter>`.
public struct ImportedModel: Sendable {
    public var graph: Graph
    public var weights: [String: Tensor]
    /// The ai.onnx opset the model declares, and who wrote it (`pytorch 2.15.0`).
    public var opset: Int64
    public var producer: String
}

/// ONNX → eec: decodes the protobuf, folds constant subgraphs, translates every node into eec ops,
/// names the nodes after the PyTorch modules, and checks the result with eec's own verifier and
/// weight binder, so an imported model compiles or the import fails.
public enum ONNXImporter {
    /// The ONNX op types the importer translates (on activations, or folded on constants).
    public static let supportedOps = Translator.supportedOps
    public static let supportedOpsets = Translator.supportedOpsets

    /// Imports the model file at `path`; `modelName` defaults to the file's base name.
    public static func importModel(path: String, modelName: String? = nil) throws(ImportError) -> ImportedModel {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            throw ImportError(file: path, exists ? (isDirectory.boolValue ? "is a directory, expected an .onnx file" : "cannot read file") : "no such file")
        }
        let url = URL(fileURLWithPath: path)
        let name = modelName ?? url.deletingPathExtension().lastPathComponent
        return try importModel(bytes: [UInt8](data), source: path, modelDirectory: url.deletingLastPathComponent().path,
                               modelName: name)
    }

    /// Imports model bytes; `source` names them in messages, `modelDirectory` is where external
    /// tensor data is looked up (nil: the model may not use any).
    public static func importModel(bytes: [UInt8], source: String, modelDirectory: String?,
                                   modelName: String) throws(ImportError) -> ImportedModel {
        do {
            return try translate(try ONNXModel.decode(bytes), source: source, modelDirectory: modelDirectory, modelName: modelName)
        } catch {
            var located = error
            located.file = source
            throw located
        }
    }

    static func translate(_ model: ONNXModel, source: String, modelDirectory: String?, modelName: String) throws(ImportError) -> ImportedModel {
        guard let opset = model.defaultOpset else { throw ImportError("the model imports no ai.onnx operator set") }
        guard Translator.supportedOpsets.contains(opset) else {
            throw ImportError("ai.onnx opset \(opset) is not supported; supported: opsets \(Translator.supportedOpsets.lowerBound) to \(Translator.supportedOpsets.upperBound) (re-export with opset_version in that range)")
        }
        let graph = model.graph
        guard !graph.hasSparseInitializers else { throw ImportError("sparse initializers are not supported") }
        var t = Translator(opset: opset, modelDirectory: modelDirectory)
        for node in graph.nodes { for input in node.inputs where !input.isEmpty { t.readers[input, default: 0] += 1 } }
        for output in graph.outputs { t.readers[output.name, default: 0] += 1 }
        for tensor in graph.initializers {
            let what = "initializer '\(ONNXNode.shorten(tensor.name))'"
            t.values[tensor.name] = .constant(try tensor.constant(what, modelDirectory: modelDirectory))
            t.initializerNames.insert(tensor.name)
        }
        try defineInput(graph, &t)
        for (i, var node) in graph.nodes.enumerated() {
            node.index = i
            try t.translate(node)
        }
        guard graph.outputs.count == 1, let output = graph.outputs.first else {
            throw ImportError("the graph has \(graph.outputs.count) outputs (\(graph.outputs.map(\.name).joined(separator: ", "))); eec needs one, the class logits")
        }
        var outputNode = ONNXNode()
        outputNode.name = output.name
        outputNode.opType = "graph output"
        outputNode.inputs = [output.name]
        let result = try t.activation(outputNode, 0)
        guard result.id >= 0 else { throw ImportError("the graph output '\(output.name)' is the graph input") }
        guard result.shape.count == 2 else {
            throw ImportError("the graph output '\(output.name)' has shape \(result.shape); eec needs class logits [1, classes] (end the network with a flatten or linear layer)")
        }
        return try assemble(t, output: result.id, model: model, source: source, modelName: modelName)
    }

    /// The one graph input that is not an initializer: float32 NCHW, batch 1 (a symbolic batch is 1).
    private static func defineInput(_ graph: ONNXGraph, _ t: inout Translator) throws(ImportError) {
        let inputs = graph.inputs.filter { !t.initializerNames.contains($0.name) }
        guard inputs.count == 1, let input = inputs.first else {
            throw ImportError("the graph has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))); eec needs one image input")
        }
        guard input.elementType == nil || input.elementType == ONNXDataType.float else {
            throw ImportError("input '\(input.name)' has type \(ONNXDataType.name(input.elementType ?? 0)); eec needs FLOAT")
        }
        guard let dims = input.shape, dims.count == 4 else {
            throw ImportError("input '\(input.name)' has \(input.shape.map { "rank \($0.count)" } ?? "no shape"); eec needs [N, C, H, W]")
        }
        var shape: [Int] = []
        for (i, d) in dims.enumerated() {
            switch d {
            case .value(let v) where v >= 1 && v <= 1 << 20 && (i > 0 || v == 1): shape.append(Int(v))
            case .parameter where i == 0, .unknown where i == 0: shape.append(1)
            default:
                throw ImportError("input '\(input.name)' dimension \(i) is \(d); eec needs fixed sizes, and batch 1 (symbolic is fine for the batch)")
            }
        }
        t.inputName = NodeNaming.sanitize(input.name) ?? "input"
        t.inputShape = shape
        t.values[input.name] = .activation(.init(id: Translator.graphInput, shape: shape))
    }

    /// Drops nodes the output does not depend on, names the rest, and checks the graph and weights.
    private static func assemble(_ t: Translator, output: Int, model: ONNXModel, source: String, modelName: String) throws(ImportError) -> ImportedModel {
        var live = [Bool](repeating: false, count: t.nodes.count)
        var stack = [output]
        while let i = stack.popLast() {
            if i < 0 || live[i] { continue }
            live[i] = true
            stack += t.nodes[i].inputs.filter { $0 >= 0 }
        }
        let kept = t.nodes.indices.filter { live[$0] }
        let names = NodeNaming.names(for: kept.map { t.nodes[$0].hint }, inputName: t.inputName)
        var nameOf: [Int: String] = [Translator.graphInput: t.inputName]
        for (k, i) in kept.enumerated() { nameOf[i] = names[k] }
        var nodes: [Node] = []
        var weights: [String: Tensor] = [:]
        for i in kept {
            let pending = t.nodes[i]
            let name = nameOf[i] ?? ""
            nodes.append(Node(name: name, op: pending.op, inputs: pending.inputs.map { nameOf[$0] ?? "" }, attributes: pending.attributes))
            for (parameter, tensor) in pending.parameters { weights["\(name).\(parameter)"] = tensor }
        }
        let producer = printable([model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " "))
        let file = printable(URL(fileURLWithPath: source).lastPathComponent)
        let header = [" Imported from \(file) by eec import (ai.onnx opset \(model.defaultOpset ?? 0)\(producer.isEmpty ? "" : ", written by \(producer)"))."]
        let graph = Graph(model: NodeNaming.sanitize(modelName) ?? "model", headerComments: header,
                          input: Input(name: t.inputName, shape: t.inputShape), nodes: nodes,
                          output: Output(name: nameOf[output] ?? ""))
        // The translation emits only what eec's ops accept; these checks make any slip an error here.
        let verified: VerifiedGraph
        do { verified = try VerifiedGraph(graph) } catch {
            throw ImportError("internal error: the translated graph does not verify: \(error)")
        }
        do { _ = try WeightBinder.bind(verified, tensors: weights, source: source) } catch {
            throw ImportError("the weights do not fit the translated graph:\n\(error)")
        }
        return ImportedModel(graph: graph, weights: weights, opset: model.defaultOpset ?? 0, producer: producer)
    }
}

/// Text from the file for a `#` comment line: printable ASCII only (a newline would end the comment,
/// other bytes are not allowed in `.eeir`), at most 100 characters.
func printable(_ text: String) -> String {
    let kept = text.unicodeScalars.map { (0x20...0x7e).contains($0.value) ? Character($0) : "?" }
    return kept.count <= 100 ? String(kept) : String(kept.prefix(97)) + "..."
}
