import IR

/// Ops that move data without computing: on activations, Flatten / Reshape to [N, -1] / Concat on
/// channels; on constants, the shape arithmetic exporters write, folded.
extension Translator {
    mutating func flatten(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes(["axis"])
        if try !isActivation(node, 0) {
            let c = try constant(node, 0, "input")
            let axis = try Folding.axis(try node.int("axis", default: 1), rank: c.shape.count + 1, node: node)
            define(node, .constant(c.reshaped([c.shape[..<axis].reduce(1, *), c.shape[axis...].reduce(1, *)])))
            return
        }
        let x = try activation(node, 0)
        let axis = try Folding.axis(try node.int("axis", default: 1), rank: x.shape.count + 1, node: node)
        guard axis == 1 else {
            throw ImportError.unsupported(node, "Flatten with axis=\(axis)", supported: "axis=1 ([N, C, H, W] → [N, C·H·W])")
        }
        try toFeatures(node, x)
    }

    /// [N, ...] → [N, rest]: eec's flatten, or nothing when the input is already [N, features].
    mutating func toFeatures(_ node: ONNXNode, _ x: Activation) throws(ImportError) {
        if x.shape.count == 2 {
            define(node, .activation(x))
        } else {
            try emitOutput(node, .flatten, [x])
        }
    }

    mutating func reshape(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes(["allowzero"])
        let target = try constant(node, 1, "shape").ints
        let allowZero = try node.int("allowzero", default: 0) != 0
        if try !isActivation(node, 0) {
            let c = try constant(node, 0, "data")
            define(node, .constant(c.reshaped(try Folding.reshapedShape(c.shape, target: target, allowZero: allowZero, node: node))))
            return
        }
        let x = try activation(node, 0)
        let shape = try Folding.reshapedShape(x.shape, target: target, allowZero: allowZero, node: node)
        if shape == x.shape {
            define(node, .activation(x))
        } else if shape.count == 2, shape[0] == x.shape[0] {
            try toFeatures(node, x)
        } else {
            throw ImportError.unsupported(node, "Reshape of \(x.shape) to \(shape) (target \(target))",
                                          supported: "Reshape to [N, -1] (a flatten) or to the same shape")
        }
    }

    mutating func concat(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes(["axis"])
        guard let axisValue = try node.int("axis") else { throw ImportError.unsupported(node, "Concat without an axis") }
        var anyActivation = false
        for i in node.inputs.indices where try isActivation(node, i) { anyActivation = true }
        if !anyActivation {
            var parts: [Constant] = []
            for i in node.inputs.indices { parts.append(try constant(node, i, "input")) }
            define(node, .constant(try Folding.concat(parts, axis: axisValue, node: node)))
            return
        }
        var inputs: [Activation] = []
        for i in node.inputs.indices {
            guard try isActivation(node, i) else {
                throw ImportError.unsupported(node, "Concat of an activation and a constant (input \(i))", supported: "Concat of activations")
            }
            inputs.append(try activation(node, i))
        }
        let axis = try Folding.axis(axisValue, rank: inputs[0].shape.count, node: node)
        guard axis == 1, inputs[0].shape.count == 4 else {
            throw ImportError.unsupported(node, "Concat along axis \(axis) of \(inputs[0].shape)", supported: "Concat of NCHW tensors along channels (axis 1)")
        }
        try emitOutput(node, .concat, inputs)
    }

    /// Shape of an activation is known at import time: eec's shapes are static.
    mutating func shape(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes(["start", "end"])
        guard let name = node.input(0) else { throw ImportError.unsupported(node, "missing input 0") }
        let dims = try value(name, node).shape
        let rank = Int64(dims.count)
        func clamp(_ v: Int64) -> Int { Int(min(max(v < 0 ? v + rank : v, 0), rank)) }
        let start = clamp(try node.int("start", default: 0)), end = clamp(try node.int("end", default: rank))
        let picked = start < end ? Array(dims[start..<end]) : []
        define(node, .constant(Constant(shape: [picked.count], elementType: ONNXDataType.int64, values: .ints(picked.map { Int64($0) }))))
    }

    mutating func gather(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes(["axis"])
        try requireConstantInputs(node)
        let data = try constant(node, 0, "data"), indices = try constant(node, 1, "indices")
        define(node, .constant(try Folding.gather(data, indices: indices, axis: try node.int("axis", default: 0), node: node)))
    }

    /// Unsqueeze and Squeeze, with their axes as an attribute (before opset 13) or an input.
    mutating func squeeze(_ node: ONNXNode) throws(ImportError) {
        var axes: [Int64]?
        if opset < 13 {
            try node.checkAttributes(["axes"])
            axes = try node.ints("axes")
        } else {
            try node.checkAttributes([])
            axes = try optionalConstant(node, 1, "axes")?.ints
        }
        try requireConstantInputs(node)
        let c = try constant(node, 0, "data")
        let shape: [Int]
        if node.opType == "Unsqueeze" {
            guard let axes else { throw ImportError.unsupported(node, "Unsqueeze without axes") }
            shape = try Folding.unsqueezedShape(c.shape, axes: axes, node: node)
        } else {
            shape = try Folding.squeezedShape(c.shape, axes: axes, node: node)
        }
        define(node, .constant(c.reshaped(shape)))
    }

    mutating func constantOfShape(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes(["value"])
        try requireConstantInputs(node)
        let dims = try constant(node, 0, "shape").ints
        let fill = try node.tensor("value").map { t throws(ImportError) in try wrap(node) { () throws(ImportError) in try t.constant("the value", modelDirectory: modelDirectory) } }
            ?? Constant(shape: [1], elementType: ONNXDataType.float, values: .floats([0]))
        guard fill.count == 1 else { throw ImportError.unsupported(node, "a value of shape \(fill.shape)", supported: "one value") }
        guard dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Folding.maxResult) }) else {
            throw ImportError.unsupported(node, "shape \(dims)", supported: "non-negative sizes")
        }
        let shape = dims.map { Int($0) }
        try Folding.checkSize(shape, node: node)
        let count = shape.reduce(1, *)
        let values: Constant.Values = fill.isFloat ? .floats(Array(repeating: fill.floats[0], count: count)) : .ints(Array(repeating: fill.ints[0], count: count))
        define(node, .constant(Constant(shape: shape, elementType: fill.elementType, values: values)))
    }

    mutating func cast(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes(["to", "saturate", "round_mode"])
        guard let to = try node.int("to") else { throw ImportError.unsupported(node, "Cast without 'to'") }
        if try isActivation(node, 0) {
            // Activations are float32; a cast to float32 changes nothing.
            guard to == Int64(ONNXDataType.float) else {
                throw ImportError.unsupported(node, "Cast of an activation to \(ONNXDataType.name(Int32(truncatingIfNeeded: to)))", supported: "FLOAT")
            }
            define(node, .activation(try activation(node, 0)))
            return
        }
        define(node, .constant(try Folding.cast(try constant(node, 0, "input"), to: to, node: node)))
    }

    mutating func transpose(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes(["perm"])
        try requireConstantInputs(node)
        define(node, .constant(try Folding.transpose(try constant(node, 0, "data"), perm: try node.intList("perm", in: 0...64), node: node)))
    }
}
