import IR

/// Conv, BatchNormalization and the pools: ONNX's NCHW layouts are eec's, so weights carry over as
/// they are; what differs is padding, which eec keeps symmetric.
extension Translator {
    mutating func conv(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes(["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"])
        let (x, prePads) = try convolutionInput(node)
        let w = try constant(node, 1, "weight")
        guard x.shape.count == 4, w.shape.count == 4 else {
            throw ImportError.unsupported(node, "a convolution of input \(x.shape) with weight \(w.shape)", supported: "2-D convolutions (NCHW input, OIHW weight)")
        }
        let kernel = (w.shape[2], w.shape[3])
        if let ks = try node.intList("kernel_shape"), ks != [kernel.0, kernel.1] {
            throw ImportError.unsupported(node, "kernel_shape \(ks) differs from the weight's \(w.shape)")
        }
        let groups = Int(try node.int("group", default: 1))
        let strides = try node.intList("strides", in: 1...(1 << 20)) ?? [1, 1]
        let dilations = try node.intList("dilations", in: 1...(1 << 20)) ?? [1, 1]
        guard strides.count == 2, dilations.count == 2 else {
            throw ImportError.unsupported(node, "strides \(strides) and dilations \(dilations)", supported: "two values each")
        }
        var pads = try windowPads(node, input: x.shape, kernel: [kernel.0, kernel.1], strides: strides, dilations: dilations)
        if prePads != [0, 0, 0, 0] {
            guard (try node.string("auto_pad") ?? "NOTSET") == "NOTSET" else {
                throw ImportError.unsupported(node, "a Pad before a Conv with auto_pad", supported: "a Pad before a Conv with explicit pads")
            }
            pads = zip(pads, prePads).map { $0 + $1 }
        }
        let (padH, padW) = try symmetric(pads, node)
        guard groups >= 1, x.shape[1] == w.shape[1] * groups else {
            throw ImportError.unsupported(node, "group=\(groups) with \(x.shape[1]) input channels and weight \(w.shape)")
        }
        var parameters = ["weight": w.tensor]
        if let b = try optionalConstant(node, 2, "bias") {
            guard b.count == w.shape[0] else {
                throw ImportError.unsupported(node, "bias of shape \(b.shape) for \(w.shape[0]) output channels")
            }
            parameters["bias"] = Tensor(shape: [w.shape[0]], data: b.floats)
        }
        try emitOutput(node, .conv2d, [x], [
            "out": .int(w.shape[0]), "kernel": pair(kernel.0, kernel.1), "stride": pair(strides[0], strides[1]),
            "pad": pair(padH, padW), "dilation": pair(dilations[0], dilations[1]), "groups": .int(groups),
            "bias": .bool(parameters["bias"] != nil),
        ], parameters: parameters, weight: node.input(1))
    }

    func pair(_ a: Int, _ b: Int) -> AttributeValue { a == b ? .int(a) : .ints([a, b]) }

    /// The activation a Conv reads and the zeros a Pad right before it adds around H and W
    /// ([top, left, bottom, right]): nn.ZeroPad2d, or exporters that pad apart.
    mutating func convolutionInput(_ node: ONNXNode) throws(ImportError) -> (Activation, [Int]) {
        if let name = node.input(0), case let .padded(base, pads, _, _) = try value(name, node) { return (base, pads) }
        return (try activation(node, 0), [0, 0, 0, 0])
    }

    /// The (h, w) padding of a Conv or pool (see windowPads), which must be the same on both sides
    /// of each axis, as eec's ops pad.
    func symmetricPads(_ node: ONNXNode, input: [Int], kernel: [Int], strides: [Int], dilations: [Int]) throws(ImportError) -> (Int, Int) {
        try symmetric(try windowPads(node, input: input, kernel: kernel, strides: strides, dilations: dilations), node)
    }

    func symmetric(_ pads: [Int], _ node: ONNXNode) throws(ImportError) -> (Int, Int) {
        guard pads[0] == pads[2], pads[1] == pads[3] else {
            let autoPad = (try? node.string("auto_pad")) ?? nil
            throw ImportError.unsupported(node, "asymmetric padding [top, left, bottom, right] = \(pads)\(autoPad.map { $0 == "NOTSET" ? "" : " (from auto_pad \($0))" } ?? "")",
                                          supported: "the same padding on both sides of each axis")
        }
        return (pads[0], pads[1])
    }

    /// Explicit `pads` [top, left, bottom, right], or those `auto_pad` gives.
    func windowPads(_ node: ONNXNode, input: [Int], kernel: [Int], strides: [Int], dilations: [Int]) throws(ImportError) -> [Int] {
        let autoPad = try node.string("auto_pad") ?? "NOTSET"
        var pads: [Int]
        switch autoPad {
        case "NOTSET":
            pads = try node.intList("pads", in: 0...(1 << 20)) ?? [0, 0, 0, 0]
            guard pads.count == 4 else { throw ImportError.unsupported(node, "pads \(pads)", supported: "four values for a 2-D op") }
        case "VALID":
            pads = [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            pads = [0, 0, 0, 0]
            for axis in 0..<2 {
                let size = input[2 + axis], s = strides[axis]
                let span = (kernel[axis] - 1) * dilations[axis] + 1
                let total = max(0, ((size + s - 1) / s - 1) * s + span - size)
                let small = total / 2, large = total - small
                (pads[axis], pads[axis + 2]) = autoPad == "SAME_UPPER" ? (small, large) : (large, small)
            }
        default:
            throw ImportError.unsupported(node, "auto_pad '\(autoPad)'", supported: "NOTSET, VALID, SAME_UPPER, SAME_LOWER")
        }
        return pads
    }

    mutating func batchNorm(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes(["epsilon", "momentum", "training_mode", "spatial"])
        if try node.int("training_mode", default: 0) != 0 {
            throw ImportError.unsupported(node, "training_mode=1", supported: "inference (training_mode=0)")
        }
        if try node.int("spatial", default: 1) != 1 {
            throw ImportError.unsupported(node, "spatial=0", supported: "spatial=1")
        }
        guard node.outputs.dropFirst().allSatisfy({ $0.isEmpty }) else {
            throw ImportError.unsupported(node, "the running statistics as extra outputs (training)", supported: "one output")
        }
        let x = try activation(node, 0)
        guard x.shape.count == 4 else { throw ImportError.unsupported(node, "BatchNormalization of \(x.shape)", supported: "NCHW tensors") }
        var parameters: [String: Tensor] = [:]
        for (i, name) in [(1, "weight"), (2, "bias"), (3, "running_mean"), (4, "running_var")] {
            let c = try constant(node, i, name)
            guard c.count == x.shape[1] else {
                throw ImportError.unsupported(node, "\(name) of shape \(c.shape) for \(x.shape[1]) channels")
            }
            parameters[name] = Tensor(shape: [x.shape[1]], data: c.floats)
        }
        // The float32 epsilon as its shortest decimal (1e-05, not 9.99999974737875e-06): the value the
        // model's author wrote, 1e-13 from the float.
        let epsilon = try node.float("epsilon") ?? 1e-5
        guard epsilon > 0, let eps = Double("\(epsilon)") else { throw ImportError.unsupported(node, "epsilon \(epsilon)", supported: "a positive value") }
        try emitOutput(node, .batchnorm, [x], ["eps": .float(eps)], parameters: parameters, weight: node.input(1))
    }

    mutating func pool(_ node: ONNXNode) throws(ImportError) {
        let isMax = node.opType == "MaxPool"
        try node.checkAttributes(isMax ? ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"]
                                       : ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"])
        guard node.outputs.dropFirst().allSatisfy({ $0.isEmpty }) else {
            throw ImportError.unsupported(node, "MaxPool's Indices output", supported: "one output")
        }
        let x = try activation(node, 0)
        guard x.shape.count == 4 else { throw ImportError.unsupported(node, "\(node.opType) of \(x.shape)", supported: "NCHW tensors") }
        guard let kernel = try node.intList("kernel_shape", in: 1...(1 << 20)), kernel.count == 2 else {
            throw ImportError.unsupported(node, "kernel_shape \(try node.ints("kernel_shape") ?? [])", supported: "two values")
        }
        let strides = try node.intList("strides", in: 1...(1 << 20)) ?? [1, 1]
        let dilations = try node.intList("dilations", in: 1...1) ?? [1, 1]
        guard strides.count == 2, dilations.count == 2 else {
            throw ImportError.unsupported(node, "strides \(strides), dilations \(dilations)", supported: "two values each, dilations 1")
        }
        let pads = try symmetricPads(node, input: x.shape, kernel: kernel, strides: strides, dilations: dilations)
        if !isMax, pads != (0, 0), try node.int("count_include_pad", default: 0) == 0 {
            throw ImportError.unsupported(node, "count_include_pad=0 with padding \(pads)",
                                          supported: "count_include_pad=1 or no padding (eec's avgpool counts the padding, as PyTorch's default)")
        }
        guard pads.0 * 2 <= kernel[0], pads.1 * 2 <= kernel[1] else {
            throw ImportError.unsupported(node, "padding \(pads) larger than half the kernel \(kernel)", supported: "padding at most half the kernel")
        }
        if try node.int("ceil_mode", default: 0) != 0 {
            // Rounding up adds a last window only when the windows do not tile the padded input.
            for axis in 0..<2 where (x.shape[2 + axis] + 2 * (axis == 0 ? pads.0 : pads.1) - kernel[axis]) % strides[axis] != 0 {
                throw ImportError.unsupported(node, "ceil_mode=1 where it adds a partial window", supported: "ceil_mode=0, or windows that tile the input")
            }
        }
        if !isMax, pads == (0, 0), kernel == [x.shape[2], x.shape[3]] {
            // A window over the whole plane is a global average pool (the classic export's F.avg_pool2d(x, 8)):
            // the same values, and the exit-candidate rules know it as the classifier's pool.
            try emitOutput(node, .globalAvgPool, [x])
            return
        }
        try emitOutput(node, isMax ? .maxpool : .avgpool, [x], [
            "kernel": pair(kernel[0], kernel[1]), "stride": pair(strides[0], strides[1]), "pad": pair(pads.0, pads.1),
        ])
    }

    mutating func globalAveragePool(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes([])
        try emitOutput(node, .globalAvgPool, [try activation(node, 0)])
    }
}
