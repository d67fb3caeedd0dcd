import IR
import Passes
import Quantize

extension LoweredProgram {
    /// Lowers `model`, a model after the passes (exits inserted, BatchNorm folded, ReLUs fused,
    /// segments cut): every executed node becomes one call of a shape-specialized kernel,
    /// reading and writing the arena at the offsets of the memory plan.
    ///
    /// `thresholds` gives T per exit (default 0.5 each); `alignment` is the arena alignment in
    /// bytes (a power of two, at least 4). `keepAlive` names tensors (IR node names of the
    /// compiled graph, or its input) that must survive until the step writing them ends, so a
    /// harness can copy them out between steps; it only moves arena offsets, and empty (the
    /// default) gives the ordinary program.
    ///
    /// `integer`, the int8 program of this very graph, lowers it as an int8 network: uint8
    /// activations, int8 weights, the float input quantized in place by a first call, float32
    /// outputs (see `Int8Kernel`); `model`'s float weights are then unused but must bind.
    public init(_ model: Model, thresholds: [Double]? = nil, alignment: Int = 16,
                keepAlive: Set<String> = [], integer: IntegerProgram? = nil) throws(CodegenError) {
        let graph = model.graph.graph
        guard alignment >= 4, alignment & (alignment - 1) == 0 else {
            throw CodegenError("the arena alignment must be a power of two of at least 4 bytes, found \(alignment)")
        }
        guard graph.input.shape.count == 4, graph.input.shape[0] == 1 else {
            throw CodegenError("code generation needs a [1,C,H,W] input, found \(Tensor.describe(graph.input.shape))")
        }
        guard !graph.segments.isEmpty else {
            throw CodegenError("the graph has no segments: run the segment pass before generating C")
        }
        let thresholds = thresholds ?? Array(repeating: 0.5, count: graph.exits.count)
        guard thresholds.count == graph.exits.count else {
            throw CodegenError("\(thresholds.count) threshold\(thresholds.count == 1 ? "" : "s") given for \(graph.exits.count) exit\(graph.exits.count == 1 ? "" : "s")")
        }
        if let bad = thresholds.first(where: { !($0 >= 0 && $0 <= 1) }) {
            throw CodegenError("thresholds are probabilities from 0 to 1, found \(bad)")
        }
        try self.init(lowering: model, thresholds: thresholds, alignment: alignment, keepAlive: keepAlive, integer: integer)
    }

    private init(lowering model: Model, thresholds: [Double], alignment: Int, keepAlive: Set<String>,
                 integer: IntegerProgram?) throws(CodegenError) {
        let g = model.graph
        let graph = g.graph
        let bound: BoundWeights
        do {
            bound = try WeightBinder.bind(g, tensors: model.weights, source: "weights")
        } catch {
            throw CodegenError(error.description)
        }
        let schedule = try Schedule(graph)
        let stepOf = schedule.steps(input: graph.input.name, graph)
        let uncomputed = Set([graph.input.name] + graph.nodes.map(\.name)).subtracting(stepOf.keys)
        var keepUntil: [String: Int] = [:]
        for name in keepAlive.sorted() {
            guard let step = stepOf[name] else { throw Self.missing(name, uncomputed: uncomputed) }
            keepUntil[name] = schedule.end(of: step)
        }
        var integerOps: [String: IntegerProgram.Op] = [:]
        var elementBytes: [String: Int] = [:]
        if let integer {
            for (node, op) in zip(integer.graph.graph.nodes, integer.nodes) { if let op { integerOps[node.name] = op } }
            for (name, quant) in integer.network.tensors where name != graph.input.name {
                if case .uint8 = quant { elementBytes[name] = 1 }
            }
        }
        let plan = MemoryPlan(g, alignment: alignment, keepUntil: keepUntil, bytesPerElement: elementBytes)
        var offsets: [String: Int] = [:]
        for buffer in plan.buffers { offsets[buffer.name] = buffer.offset / 4 }
        func aligned(_ bytes: Int) -> Int { (bytes + alignment - 1) / alignment * alignment }

        // Kernels and weights are numbered in the order calls are lowered: every segment, then
        // every exit head (the order the C backend has always used, which fixes its names).
        var weights = WeightBlob()
        var constants: [(name: String, values: [Int32])] = []
        var kernels: [Kernel] = []
        var kernelIndex: [String: Int] = [:]
        var scratchFloats = 0
        func lower(_ node: Node, _ i: Int) throws(CodegenError) -> LoweredNode {
            guard integer != nil else { return try NodeLowering.lower(node, g, params: bound.byNode[i]) }
            guard let op = integerOps[node.name] else {
                throw CodegenError("'\(node.name)' has no int8 form: the quantized network was made for another graph")
            }
            return try Int8NodeLowering.lower(node, g, op: op)
        }
        func call(_ i: Int) throws(CodegenError) -> Call {
            let node = graph.nodes[i]
            let lowered = try lower(node, i)
            let kernel = lowered.kernel
            let index: Int
            if let known = kernelIndex[kernel.key] {
                index = known
            } else {
                index = kernels.count
                kernelIndex[kernel.key] = index
                kernels.append(kernel)
            }
            scratchFloats = max(scratchFloats, kernel.scratchFloats)
            for tensor in node.inputs + [node.name] where offsets[tensor] == nil {
                throw CodegenError("internal error: no arena offset for '\(tensor)'")
            }
            var slices: [WeightBlob.Entry] = []
            for tensor in lowered.weights {
                let name = "\(node.name).\(tensor.name)"
                let offset = weights.add(name, layout: tensor.layout, tensor.data)
                slices.append(WeightBlob.Entry(name: name, layout: tensor.layout, offset: offset, count: tensor.data.count))
            }
            for tensor in lowered.int8Weights {
                let name = "\(node.name).\(tensor.name)"
                let offset = weights.add(name, layout: tensor.layout, int8: tensor.data)
                slices.append(WeightBlob.Entry(name: name, layout: tensor.layout, offset: offset, count: tensor.data.count))
            }
            var table: String?
            if let values = lowered.constants {
                table = "\(node.name).q"
                constants.append((node.name + ".q", values))
            }
            let shapes = node.inputs.map { Tensor.describe(g.shape($0)) }.joined(separator: ", ")
            let macs = g.cost(node).macs
            var description = "\(node.name): \(node.op.name)\(lowered.detail), \(shapes) -> \(Tensor.describe(g.shape(node.name)))"
            if macs > 0 { description += ", \(grouped(macs)) MACs" }
            return Call(node: node.name, kernelIndex: index, inputs: node.inputs, output: node.name, weights: slices,
                        constants: table, usesScratch: kernel.scratchFloats > 0, macs: macs, description: description)
        }
        /// An int8 network's first call: the float input to uint8 codes, in place.
        func quantizeInput(_ integer: IntegerProgram) -> Call {
            let kernel: Kernel = Int8Kernel.quantizeInput(count: elementCount(graph.input.shape), inverseScale: integer.input.inverseScale)
            kernelIndex[kernel.key] = kernels.count
            let index = kernels.count
            kernels.append(kernel)
            let name = graph.input.name + ".quantize"
            constants.append((name, [integer.input.zeroPoint]))
            return Call(node: name, kernelIndex: index, inputs: [graph.input.name], output: graph.input.name, weights: [],
                        constants: name, usesScratch: false, macs: 0,
                        description: "\(graph.input.name): float32 to uint8, scale \(integer.input.scale), zero point \(integer.input.zeroPoint)")
        }

        var segments: [Step] = []
        for (k, segment) in graph.segments.enumerated() {
            var calls: [Call] = []
            if k == 0, let integer { calls.append(quantizeInput(integer)) }
            for i in schedule.segments[k] { calls.append(try call(i)) }
            segments.append(Step(name: segment.name, id: .segment(k),
                                 description: "\(segment.name): \(segment.input) -> \(segment.output)", calls: calls))
        }
        var exits: [Exit] = []
        for (k, exit) in graph.exits.enumerated() {
            var calls: [Call] = []
            for i in schedule.heads[k] { calls.append(try call(i)) }
            guard offsets[exit.classifier] != nil, offsets[exit.confidence] != nil else {
                throw CodegenError("internal error: no arena offset for exit '\(exit.name)'")
            }
            let attach = graph.segments[k].output
            let head = Step(name: exit.name, id: .head(k),
                            description: "\(exit.name): head after \(attach), classifier \(exit.classifier), confidence \(exit.confidence)",
                            calls: calls)
            exits.append(Exit(name: exit.name, attach: attach, head: head, logits: exit.classifier,
                              confidence: exit.confidence, threshold: thresholds[k]))
        }
        weights.finish()
        guard offsets[graph.input.name] != nil, offsets[graph.output.name] != nil else {
            throw CodegenError("internal error: no arena offset for the input or the output")
        }
        self.model = graph.model
        self.inputShape = graph.input.shape
        self.input = graph.input.name
        self.output = graph.output.name
        self.classes = g.classes
        self.segments = segments
        self.exits = exits
        self.kernels = kernels
        self.weights = weights
        self.constants = constants
        self.keptAlive = keepAlive
        self.uncomputed = uncomputed
        let scratchOffset = aligned(plan.arenaBytes)
        self.arena = Arena(alignment: alignment, planBytes: plan.arenaBytes, scratchOffset: scratchOffset,
                           bytes: scratchOffset + aligned(scratchFloats * 4), slots: [], byName: [:])
        // Slots in the order tensors are first written: the input, then each call's output.
        let written = [graph.input.name] + steps.flatMap { $0.calls.map(\.output) }
        for name in written {
            guard let step = stepOf[name], let offset = offsets[name], arena.byName[name] == nil else { continue }
            let shape = g.shape(name)
            arena.byName[name] = arena.slots.count
            arena.slots.append(TensorLocation(name: name, shape: shape, offset: offset, count: elementCount(shape), step: step))
        }
    }
}
