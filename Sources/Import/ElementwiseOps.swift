import IR

/// Activations, Softmax, Add (residual sums, and biases of a MatMul or bias-free Conv), Identity,
/// and constants.
extension Translator {
    mutating func constantNode(_ node: ONNXNode) throws(ImportError) {
        guard node.attributes.count == 1, let a = node.attributes.first else {
            throw ImportError.unsupported(node, "a Constant with \(node.attributes.count) attributes", supported: "exactly one value attribute")
        }
        let c: Constant
        switch (a.name, a.kind) {
        case ("value", .tensor):
            guard let t = a.t else { throw ImportError.unsupported(node, "a value attribute without a tensor") }
            c = try wrap(node) { () throws(ImportError) in try t.constant("the value", modelDirectory: modelDirectory) }
        case ("value_float", .float): c = Constant(shape: [], elementType: ONNXDataType.float, values: .floats([a.f]))
        case ("value_floats", .floats): c = Constant(shape: [a.floats.count], elementType: ONNXDataType.float, values: .floats(a.floats))
        case ("value_int", .int): c = Constant(shape: [], elementType: ONNXDataType.int64, values: .ints([a.i]))
        case ("value_ints", .ints): c = Constant(shape: [a.ints.count], elementType: ONNXDataType.int64, values: .ints(a.ints))
        default:
            throw ImportError.unsupported(node, "attribute '\(a.name)' of type \(a.kind.name)",
                                          supported: "value (a tensor), value_float, value_floats, value_int, value_ints")
        }
        define(node, .constant(c))
    }

    /// Errors from a tensor's data get the node's name in front.
    func wrap<T>(_ node: ONNXNode, _ body: () throws(ImportError) -> T) throws(ImportError) -> T {
        do { return try body() } catch { throw ImportError.unsupported(node, error.message) }
    }

    mutating func identity(_ node: ONNXNode) throws(ImportError) {
        if node.opType == "Dropout" {
            // Inference Dropout is the identity; its mask output and training mode are not.
            try node.checkAttributes(["ratio", "seed"])
            guard node.outputs.dropFirst().allSatisfy({ $0.isEmpty || readers[$0, default: 0] == 0 }) else {
                throw ImportError.unsupported(node, "Dropout's mask output is used", supported: "inference Dropout (one output)")
            }
            if let mode = try optionalConstant(node, 2, "training_mode"), mode.ints.contains(where: { $0 != 0 }) {
                throw ImportError.unsupported(node, "training_mode=true", supported: "inference (false)")
            }
        } else {
            try node.checkAttributes([])
        }
        guard let name = node.input(0) else { throw ImportError.unsupported(node, "missing input 0") }
        define(node, try value(name, node))
    }

    mutating func elementwise(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes([])
        try emitOutput(node, node.opType == "Relu" ? .relu : .sigmoid, [try activation(node, 0)])
    }

    /// Clip(min=0) is ReLU; Clip(0, 6) is ReLU6 (MobileNet).
    mutating func clip(_ node: ONNXNode) throws(ImportError) {
        // Since opset 11, min and max are inputs (optional, scalar); before, they were attributes.
        try node.checkAttributes([])
        var low: Float?, high: Float?
        for (i, role) in [(1, "min"), (2, "max")] {
            guard let c = try optionalConstant(node, i, role) else { continue }
            guard c.count == 1 else { throw ImportError.unsupported(node, "\(role) of shape \(c.shape)", supported: "a scalar") }
            if i == 1 { low = c.floats[0] } else { high = c.floats[0] }
        }
        let x = try activation(node, 0)
        switch (low, high) {
        case (0?, nil), (0?, Float.infinity?): try emitOutput(node, .relu, [x])
        case (0?, 6?): try emitOutput(node, .relu6, [x])
        default:
            let text = { (v: Float?, missing: String) in v.map { "\($0)" } ?? missing }
            throw ImportError.unsupported(node, "Clip(\(text(low, "-inf")), \(text(high, "inf")))",
                                          supported: "Clip(0, inf) as relu, Clip(0, 6) as relu6")
        }
    }

    /// eec's softmax normalises axis 1. Before opset 13 ONNX's axis flattens everything from it on.
    mutating func softmax(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes(["axis"])
        let x = try activation(node, 0)
        let rank = x.shape.count
        let axis = try Folding.axis(try node.int("axis", default: opset < 13 ? 1 : -1), rank: rank, node: node)
        let trailing = x.shape.dropFirst(2).reduce(1, *)
        guard axis == 1, opset >= 13 || trailing == 1 else {
            throw ImportError.unsupported(node, "Softmax over axis \(axis) of \(x.shape)\(opset < 13 ? " (opset \(opset): axes \(axis) and after, flattened)" : "")",
                                          supported: "softmax over axis 1 (the classes or channels)")
        }
        try emitOutput(node, .softmax, [x])
    }

    /// Add of two activations is a residual sum; arithmetic on constants is folded; Add of an activation
    /// and a constant is the bias of the MatMul or bias-free Conv before it.
    mutating func arithmetic(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes([])
        let left = try isActivation(node, 0), right = try isActivation(node, 1)
        switch (left, right) {
        case (false, false):
            define(node, .constant(try Folding.binary(node.opType, try constant(node, 0, "A"), try constant(node, 1, "B"), node: node)))
        case (true, true) where node.opType == "Add":
            let a = try activation(node, 0), b = try activation(node, 1)
            guard a.shape == b.shape else {
                throw ImportError.unsupported(node, "Add of \(a.shape) and \(b.shape) (broadcasting)", supported: "Add of two activations of the same shape")
            }
            try emitOutput(node, .add, [a, b])
        case (true, false) where node.opType == "Add", (false, true) where node.opType == "Add":
            try addBias(node, activationInput: left ? 0 : 1)
        default:
            throw ImportError.unsupported(node, "\(node.opType) on activations",
                                          supported: "Add of two activations, Add of a bias after MatMul or a bias-free Conv, and \(node.opType) of constants")
        }
    }

    /// Folds `x + b` into the node that computed x when that node is a linear or conv2d without bias,
    /// x is read by nothing else, and b is one value per output feature or channel.
    mutating func addBias(_ node: ONNXNode, activationInput i: Int) throws(ImportError) {
        let x = try activation(node, i)
        let b = try constant(node, 1 - i, "bias")
        let supported = "a bias after MatMul ([features] or [1, features]) or after a Conv without bias ([C, 1, 1] or [1, C, 1, 1])"
        guard x.id >= 0, readers[node.inputs[i], default: 0] == 1, nodes[x.id].parameters["bias"] == nil else {
            throw ImportError.unsupported(node, "Add of an activation and a constant of shape \(b.shape)", supported: supported)
        }
        let channels = x.shape.count > 1 ? x.shape[1] : 0
        let fits: Bool
        switch nodes[x.id].op {
        case .linear: fits = b.shape == [channels] || b.shape == [1, channels]
        case .conv2d: fits = b.shape == [channels, 1, 1] || b.shape == [1, channels, 1, 1]
        default: fits = false
        }
        guard fits else {
            throw ImportError.unsupported(node, "Add of a constant of shape \(b.shape) to the output \(x.shape) of \(nodes[x.id].op.name)", supported: supported)
        }
        nodes[x.id].parameters["bias"] = Tensor(shape: [channels], data: b.floats)
        nodes[x.id].attributes["bias"] = .bool(true)
        define(node, .activation(x))
    }
}
