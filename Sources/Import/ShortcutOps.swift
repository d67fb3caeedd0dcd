import IR

/// Slice and Pad. On activations eec has what the option-A ResNet shortcut needs, as PyTorch
/// exports `F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p))`: Slice steps on H and W become a
/// `subsample`, a zero Pad on channels a `channel_pad`. On constants both are folded (Slice) or
/// rejected (Pad).
extension Translator {
    mutating func slice(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes([])
        guard let name = node.input(0) else { throw ImportError.unsupported(node, "missing input 0") }
        for i in 1..<max(1, node.inputs.count) where try isActivation(node, i) {
            throw ImportError.unsupported(node, "input \(i) (starts, ends, axes or steps) is computed from the network's input; eec needs it constant")
        }
        let starts = try constant(node, 1, "starts").ints, ends = try constant(node, 2, "ends").ints
        let axes = try optionalConstant(node, 3, "axes")?.ints, steps = try optionalConstant(node, 4, "steps")?.ints
        let input = try value(name, node)
        let shape = input.shape
        if case .constant(let c) = input {
            let spec = try Folding.sliceSpec(rank: c.shape.count, starts: starts, ends: ends, axes: axes, steps: steps, node: node)
            define(node, .constant(Folding.slice(c, spec)))
            return
        }
        let spec = try Folding.sliceSpec(rank: shape.count, starts: starts, ends: ends, axes: axes, steps: steps, node: node)
        var keep = [1, 1]
        for s in spec {
            let dim = shape[s.axis]
            let (start, count) = Folding.sliceRange(dim: dim, start: s.start, end: s.end, step: s.step)
            // A step beyond the axis keeps row 0 alone, as a step equal to the axis does.
            let step = Int(min(s.step, Int64(max(dim, 1))))
            let everything = start == 0 && step > 0 && count == (dim + step - 1) / step
            guard shape.count == 4, everything, s.axis >= 2 || step == 1 else {
                throw ImportError.unsupported(node, "a Slice of \(shape) on axis \(s.axis) from \(s.start) to \(s.end) by \(s.step)",
                                              supported: "on activations, steps on H and W from 0 to the end (x[:, :, ::s, ::s])")
            }
            if s.axis >= 2 { keep[s.axis - 2] = step }
        }
        switch input {
        case .activation(let a) where keep == [1, 1]:
            define(node, .activation(a))
        case .activation(let a):
            define(node, .strided(base: a, hStep: keep[0], wStep: keep[1], shape: sliced(shape, keep), hint: NamingHint(node), node: node))
        case let .strided(base, hStep, wStep, _, hint, first):
            define(node, .strided(base: base, hStep: hStep * keep[0], wStep: wStep * keep[1], shape: sliced(shape, keep), hint: hint, node: first))
        case .padded:
            _ = try activation(node, 0)  // says that the padding must go to a Conv
        case .constant: break
        }
    }

    private func sliced(_ shape: [Int], _ keep: [Int]) -> [Int] {
        [shape[0], shape[1], (shape[2] + keep[0] - 1) / keep[0], (shape[3] + keep[1] - 1) / keep[1]]
    }

    mutating func pad(_ node: ONNXNode) throws(ImportError) {
        try node.checkAttributes(["mode"])
        let mode = try node.string("mode") ?? "constant"
        guard mode == "constant" else {
            throw ImportError.unsupported(node, "mode '\(mode)'", supported: "constant (zero) padding of channels")
        }
        guard try isActivation(node, 0) else {
            throw ImportError.unsupported(node, "Pad of a constant", supported: "Pad of an activation's channels")
        }
        let pads = try constant(node, 1, "pads").ints
        if let value = try optionalConstant(node, 2, "constant_value"), value.floats.contains(where: { $0 != 0 }) {
            throw ImportError.unsupported(node, "padding with \(value.floats[0])", supported: "padding with zeros")
        }
        let x = try activation(node, 0)
        let rank = x.shape.count
        var axes = Array(0..<rank)
        if let given = try optionalConstant(node, 3, "axes")?.ints {
            axes = []
            for a in given { axes.append(try Folding.axis(a, rank: rank, node: node)) }
        }
        guard pads.count == 2 * axes.count else {
            throw ImportError.unsupported(node, "pads \(pads) for \(axes.count) axes", supported: "two values per axis")
        }
        var before = [Int64](repeating: 0, count: rank), after = [Int64](repeating: 0, count: rank)
        for (k, axis) in axes.enumerated() {
            before[axis] = pads[k]
            after[axis] = pads[k + axes.count]
        }
        let spatial = [before[2], before[3], after[2], after[3]]
        guard rank == 4, before[0] == 0, after[0] == 0, (before[1] == 0 && after[1] == 0) || spatial.allSatisfy({ $0 == 0 }),
              (before + after).allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else {
            throw ImportError.unsupported(node, "Pad of \(x.shape) by \(pads) (begins \(before), ends \(after))",
                                          supported: "zeros added before and after the channels of an NCHW tensor (channel_pad), or around H and W right before a Conv")
        }
        if spatial.contains(where: { $0 != 0 }) {
            let p = spatial.map { Int($0) }
            define(node, .padded(base: x, pads: p, shape: [x.shape[0], x.shape[1], x.shape[2] + p[0] + p[2], x.shape[3] + p[1] + p[3]], node: node))
            return
        }
        if before[1] == 0, after[1] == 0 {
            define(node, .activation(x))
            return
        }
        try emitOutput(node, .channelPad, [x], ["before": .int(Int(before[1])), "after": .int(Int(after[1]))])
    }
}
