import IR

/// One IR node as a kernel description and the weights it reads, packed for that kernel.
struct LoweredNode {
    struct Weight {
        var name: String
        var layout: String
        var data: [Float]
    }

    var kernel: Kernel
    var weights: [Weight]
    /// Attributes worth showing in the node's comment (` 3x3 stride 2 pad 1, relu`).
    var detail: String
    /// An int8 network's node: its int8 weights (in `weights`' place) and its int32 table.
    var int8Weights: [(name: String, layout: String, data: [Int8])] = []
    var constants: [Int32]? = nil
}

/// Codegen's side of an op: how a node of it becomes a kernel and the packed weights that kernel
/// reads. Each kernel spec lowers the ops it serves (beside its definition in KernelSpecs.swift);
/// `OpKind.lowering` below says which spec lowers which op.
protocol OpLowering {
    static func lower(_ node: NodeToLower) throws(CodegenError) -> LoweredNode
}

/// A node being lowered, with what every lowering reads.
struct NodeToLower {
    var node: Node
    /// Input shapes, in argument order.
    var inputs: [[Int]]
    var output: [Int]
    /// The node's tensors, in the order of its op's `parameters`.
    var params: [Tensor]

    var attributes: Attributes { node.attributes }
    /// A ReLU was fused into the node.
    var relu: Bool { attributes.bool("relu") }
    /// `, relu` for the node's comment when a ReLU was fused into it.
    var reluNote: String { relu ? ", relu" : "" }

    /// The channels-last geometry of a value; code generation handles batch 1 only.
    func map(_ shape: [Int]) throws(CodegenError) -> MapShape {
        guard shape.count == 4 || shape.count == 2, shape[0] == 1 else {
            throw CodegenError("'\(node.name)': code generation handles [1,C,H,W] and [1,F] values, found \(Tensor.describe(shape))")
        }
        return MapShape(shape)
    }
}

extension OpKind {
    /// The kernel spec that lowers this op. Exhaustive: a new op fails to build until it has one.
    var lowering: any OpLowering.Type {
        switch self {
        case .conv2d: ConvKernel.self
        case .batchnorm: BatchNormKernel.self
        case .relu: ReluKernel.self
        case .relu6: Relu6Kernel.self
        case .add: AddKernel.self
        case .concat: ConcatKernel.self
        case .maxpool, .avgpool: PoolKernel.self
        case .globalAvgPool: GlobalAvgPoolKernel.self
        case .flatten: FlattenKernel.self
        case .linear: LinearKernel.self
        case .softmax: SoftmaxKernel.self
        case .maxSoftmaxLogit: MaxSoftmaxLogitKernel.self
        case .sigmoid: SigmoidKernel.self
        case .subsample: SubsampleKernel.self
        case .channelPad: ChannelPadKernel.self
        }
    }
}

enum NodeLowering {
    /// Picks the kernel for `node` from its op, attributes and shapes; `params` are the node's
    /// tensors in the order of its op's `parameters`.
    static func lower(_ node: Node, _ g: VerifiedGraph, params: [Tensor]) throws(CodegenError) -> LoweredNode {
        let n = NodeToLower(node: node, inputs: node.inputs.map { g.shape($0) }, output: g.shape(node.name), params: params)
        return try node.op.lowering.lower(n)
    }
}
