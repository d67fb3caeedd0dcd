import IR

/// Gemm and MatMul (+ Add) as eec's `linear`: y = x·Wᵀ + b with W of shape [out, in], PyTorch's layout.
extension Translator {
    mutating func gemm(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes(["alpha", "beta", "transA", "transB"])
        let x = try activation(node, 0)
        guard x.shape.count == 2 else {
            throw ImportError.unsupported(node, "Gemm of an activation of shape \(x.shape)", supported: "[N, features] (flatten first)")
        }
        if try node.int("transA", default: 0) != 0 {
            throw ImportError.unsupported(node, "transA=1 (the activation transposed)", supported: "transA=0")
        }
        for name in ["alpha", "beta"] {
            if let v = try node.float(name), v != 1 {
                throw ImportError.unsupported(node, "\(name)=\(v)", supported: "\(name)=1")
            }
        }
        let b = try constant(node, 1, "B")
        guard b.shape.count == 2 else { throw ImportError.unsupported(node, "B of shape \(b.shape)", supported: "a matrix") }
        let transB = try node.int("transB", default: 0) != 0
        let w = transB ? b : try Folding.transpose(b, perm: [1, 0], node: node)
        guard w.shape[1] == x.shape[1] else {
            throw ImportError.unsupported(node, "B of shape \(b.shape)\(transB ? " (transposed)" : "") for \(x.shape[1]) input features")
        }
        let out = w.shape[0]
        var parameters = ["weight": w.tensor]
        if let c = try optionalConstant(node, 2, "C") {
            // A bias per output ([out] or [1, out]); a single value broadcasts to all of them.
            guard c.count == out || c.count == 1, c.shape.allSatisfy({ $0 == 1 || $0 == c.count }), c.shape.last.map({ $0 == c.count }) ?? true else {
                throw ImportError.unsupported(node, "C of shape \(c.shape) for \(out) outputs", supported: "[\(out)], [1, \(out)] or one value")
            }
            parameters["bias"] = Tensor(shape: [out], data: c.count == out ? c.floats : Array(repeating: c.floats[0], count: out))
        }
        try emitOutput(node, .linear, [x], ["out": .int(out), "bias": .bool(parameters["bias"] != nil)],
                       parameters: parameters, weight: node.input(1))
    }

    /// x [N, in] · B [in, out]; an Add of a constant right after becomes the bias (see addBias).
    mutating func matMul(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes([])
        guard try isActivation(node, 0), try !isActivation(node, 1) else {
            if try !isActivation(node, 0), try !isActivation(node, 1) {
                throw ImportError.unsupported(node, "MatMul of two constants", supported: "MatMul of an activation by a constant matrix")
            }
            throw ImportError.unsupported(node, "MatMul with the activation as right operand, or of two activations",
                                          supported: "MatMul of an activation [N, in] by a constant [in, out]")
        }
        let x = try activation(node, 0)
        let b = try constant(node, 1, "B")
        guard x.shape.count == 2, b.shape.count == 2, b.shape[0] == x.shape[1] else {
            throw ImportError.unsupported(node, "MatMul of \(x.shape) by \(b.shape)", supported: "[N, in] by [in, out]")
        }
        let w = try Folding.transpose(b, perm: [1, 0], node: node)
        try emitOutput(node, .linear, [x], ["out": .int(w.shape[0]), "bias": .bool(false)],
                       parameters: ["weight": w.tensor], weight: node.input(1))
    }
}
