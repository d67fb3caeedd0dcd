import IR

/// Translates an ONNX graph into eec nodes, one ONNX node at a time in graph order (ONNX requires
/// topological order). Every ONNX value becomes a constant (initializers, and everything computed
/// from constants alone, folded here), an activation (the output of an eec node or the graph input),
/// or a pending H/W stride (a Slice whose subsample is emitted when the value is used).
struct Translator {
    /// One eec node in the making; names are given at the end (see NodeNaming).
    struct PendingNode {
        var op: OpKind
        var inputs: [Int]
        var attributes: Attributes
        /// Parameter tensors by parameter name (`weight`, `bias`, ...).
        var parameters: [String: Tensor]
        var shape: [Int]
        var hint: NamingHint
    }

    /// An activation: the output of node `id`, or the graph input when `id` is `Translator.graphInput`.
    struct Activation {
        var id: Int
        var shape: [Int]
    }

    enum Value {
        case constant(Constant)
        case activation(Activation)
        /// `base[:, :, ::hStep, ::wStep]`, not yet emitted: torch writes the option-A shortcut as two
        /// Slices, one per axis, which together are one `subsample`.
        case strided(base: Activation, hStep: Int, wStep: Int, shape: [Int], hint: NamingHint, node: ONNXNode)
        /// `base` with zeros around H and W ([top, left, bottom, right]), not yet emitted: eec pads
        /// only inside a convolution, so the Conv that reads it takes the padding into its own.
        case padded(base: Activation, pads: [Int], shape: [Int], node: ONNXNode)

        /// The shape the value has in the ONNX graph.
        var shape: [Int] {
            switch self {
            case .constant(let c): c.shape
            case .activation(let a): a.shape
            case .strided(_, _, _, let shape, _, _), .padded(_, _, let shape, _): shape
            }
        }
    }

    static let graphInput = -1
    static let supportedOpsets: ClosedRange<Int64> = 11...21

    let opset: Int64
    let modelDirectory: String?
    var values: [String: Value] = [:]
    var nodes: [PendingNode] = []
    /// How many node inputs and graph outputs read each ONNX value.
    var readers: [String: Int] = [:]
    /// Initializer names, to name weighted nodes after PyTorch parameters (`layer1.0.conv1.weight`).
    var initializerNames: Set<String> = []
    var inputName = ""
    var inputShape: [Int] = []

    init(opset: Int64, modelDirectory: String?) {
        self.opset = opset
        self.modelDirectory = modelDirectory
    }

    // MARK: Values

    func value(_ name: String, _ node: ONNXNode) throws(ImportError) -> Value {
        guard let v = values[name] else {
            throw ImportError.unsupported(node, "input '\(ONNXNode.shorten(name))' is not defined by an earlier node, an initializer or the graph input")
        }
        return v
    }

    /// Input `i` as a constant, or an error saying it must be one.
    func constant(_ node: ONNXNode, _ i: Int, _ role: String) throws(ImportError) -> Constant {
        guard let name = node.input(i) else { throw ImportError.unsupported(node, "missing input \(i) (\(role))") }
        guard case .constant(let c) = try value(name, node) else {
            throw ImportError.unsupported(node, "input \(i) (\(role)) is computed from the network's input; eec needs it constant")
        }
        return c
    }

    /// Optional input `i` as a constant, nil when omitted.
    func optionalConstant(_ node: ONNXNode, _ i: Int, _ role: String) throws(ImportError) -> Constant? {
        node.input(i) == nil ? nil : try constant(node, i, role)
    }

    /// Input `i` as an activation (a pending stride is emitted as a `subsample` first).
    mutating func activation(_ node: ONNXNode, _ i: Int) throws(ImportError) -> Activation {
        guard let name = node.input(i) else { throw ImportError.unsupported(node, "missing input \(i)") }
        switch try value(name, node) {
        case .activation(let a): return a
        case .constant:
            throw ImportError.unsupported(node, "input \(i) is a constant; eec runs \(node.opType) on activations only (constant folding covers \(Self.foldable.sorted().joined(separator: ", ")))")
        case let .strided(base, hStep, wStep, shape, hint, sliceNode):
            guard hStep == wStep else {
                throw ImportError.unsupported(sliceNode, "a Slice with step \(hStep) on H and \(wStep) on W",
                                              supported: "equal steps on H and W (eec's subsample)")
            }
            let a = try emit(.subsample, [base], ["stride": .int(hStep)], hint: hint, node: sliceNode)
            guard a.shape == shape else {
                throw ImportError.unsupported(sliceNode, "internal: subsample gives \(a.shape), the slices \(shape)")
            }
            values[name] = .activation(a)
            return a
        case let .padded(_, pads, _, padNode):
            throw ImportError.unsupported(padNode, "zero padding [top, left, bottom, right] = \(pads) read by \(node.label)",
                                          supported: "spatial padding right before a Conv, which takes it into its own")
        }
    }

    /// Whether input `i` is known only at run time.
    func isActivation(_ node: ONNXNode, _ i: Int) throws(ImportError) -> Bool {
        guard let name = node.input(i) else { return false }
        if case .constant = try value(name, node) { return false }
        return true
    }

    mutating func define(_ node: ONNXNode, _ value: Value, output: Int = 0) {
        guard output < node.outputs.count, !node.outputs[output].isEmpty else { return }
        values[node.outputs[output]] = value
    }

    /// Appends an eec node; its shape comes from the op's own shape rule, so a translation that
    /// eec cannot run fails here with the op's message.
    @discardableResult
    mutating func emit(_ op: OpKind, _ inputs: [Activation], _ attributes: [String: AttributeValue],
                       parameters: [String: Tensor] = [:], hint: NamingHint, node: ONNXNode) throws(ImportError) -> Activation {
        let attrs = Attributes(attributes)
        let shape: [Int]
        do {
            shape = try op.definition.outputShape(inputs: inputs.map(\.shape), attributes: attrs)
        } catch {
            throw ImportError.unsupported(node, "as eec \(op.name): \(error.message)")
        }
        nodes.append(PendingNode(op: op, inputs: inputs.map(\.id), attributes: attrs, parameters: parameters,
                                 shape: shape, hint: hint))
        return Activation(id: nodes.count - 1, shape: shape)
    }

    /// Emits the node for `node`'s first output, named after it.
    mutating func emitOutput(_ node: ONNXNode, _ op: OpKind, _ inputs: [Activation], _ attributes: [String: AttributeValue] = [:],
                             parameters: [String: Tensor] = [:], weight: String? = nil) throws(ImportError) {
        let hint = NamingHint(node, weightInitializer: weight.flatMap { initializerNames.contains($0) ? $0 : nil })
        let a = try emit(op, inputs, attributes, parameters: parameters, hint: hint, node: node)
        define(node, .activation(a))
    }

    // MARK: Dispatch

    /// Ops that only ever run on constants here.
    static let foldable: Set<String> = [
        "Shape", "Gather", "Unsqueeze", "Squeeze", "ConstantOfShape", "Cast", "Transpose", "Sub", "Mul", "Div",
        "Concat", "Reshape", "Slice", "Add", "Identity", "Constant",
    ]

    /// Every op type the importer knows (on activations or constants), for messages.
    static let supportedOps = [
        "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape", "Conv",
        "Div", "Dropout", "Flatten", "Gather", "Gemm", "GlobalAveragePool", "Identity", "MatMul", "MaxPool", "Mul",
        "Pad", "Relu", "Reshape", "Shape", "Sigmoid", "Slice", "Softmax", "Squeeze", "Sub", "Transpose", "Unsqueeze",
    ]

    mutating func translate(_ node: ONNXNode) throws(ImportError) {
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw ImportError.unsupported(node, "op \(node.domain).\(node.opType) is not in the default ONNX domain",
                                          supported: "ai.onnx ops " + Self.supportedOps.joined(separator: ", "))
        }
        switch node.opType {
        case "Constant": try constantNode(node)
        case "Identity", "Dropout": try identity(node)
        case "Conv": try conv(node)
        case "BatchNormalization": try batchNorm(node)
        case "MaxPool", "AveragePool": try pool(node)
        case "GlobalAveragePool": try globalAveragePool(node)
        case "Relu", "Sigmoid": try elementwise(node)
        case "Clip": try clip(node)
        case "Softmax": try softmax(node)
        case "Add", "Sub", "Mul", "Div": try arithmetic(node)
        case "Gemm": try gemm(node)
        case "MatMul": try matMul(node)
        case "Flatten": try flatten(node)
        case "Reshape": try reshape(node)
        case "Concat": try concat(node)
        case "Slice": try slice(node)
        case "Pad": try pad(node)
        case "Shape": try shape(node)
        case "Gather": try gather(node)
        case "Unsqueeze", "Squeeze": try squeeze(node)
        case "ConstantOfShape": try constantOfShape(node)
        case "Cast": try cast(node)
        case "Transpose": try transpose(node)
        default:
            throw ImportError.unsupported(node, "op \(node.opType) is not supported", supported: Self.supportedOps.joined(separator: ", "))
        }
    }

    /// Checks that every input of `node` is a constant: the ops eec only folds.
    func requireConstantInputs(_ node: ONNXNode) throws(ImportError) {
        for i in node.inputs.indices where node.input(i) != nil {
            guard case .constant = try value(node.inputs[i], node) else {
                throw ImportError.unsupported(node, "\(node.opType) on an activation (input \(i)); eec folds \(node.opType) only when all its inputs are constant")
            }
        }
    }
}
