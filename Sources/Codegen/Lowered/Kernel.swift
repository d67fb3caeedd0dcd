/// One distinct kernel of a lowered program, as data: which op, and its specialization (shapes,
/// strides, block sizes, fused ReLU). An enum rather than an existential so that every backend
/// switches over all of them and the compiler says when a new kernel lacks a printer.
enum Kernel: Sendable {
    case conv(ConvKernel)
    case batchNorm(BatchNormKernel)
    case relu(ReluKernel)
    case add(AddKernel)
    case concat(ConcatKernel)
    case pool(PoolKernel)
    case globalAvgPool(GlobalAvgPoolKernel)
    case flatten(FlattenKernel)
    case linear(LinearKernel)
    case softmax(SoftmaxKernel)
    case maxSoftmaxLogit(MaxSoftmaxLogitKernel)
    case sigmoid(SigmoidKernel)
    case subsample(SubsampleKernel)
    case channelPad(ChannelPadKernel)

    /// The payload, for what every kernel has (key, summary, scratch).
    var spec: any KernelSpec {
        switch self {
        case .conv(let k): k
        case .batchNorm(let k): k
        case .relu(let k): k
        case .add(let k): k
        case .concat(let k): k
        case .pool(let k): k
        case .globalAvgPool(let k): k
        case .flatten(let k): k
        case .linear(let k): k
        case .softmax(let k): k
        case .maxSoftmaxLogit(let k): k
        case .sigmoid(let k): k
        case .subsample(let k): k
        case .channelPad(let k): k
        }
    }

    var key: String { spec.key }
    var summary: String { spec.summary }
    var scratchFloats: Int { spec.scratchFloats }
}
