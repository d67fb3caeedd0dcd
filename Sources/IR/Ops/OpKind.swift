/// The op set. Small on purpose (in the spirit of tinygrad): what CIFAR ResNets, VGG, DenseNet and
/// their exit heads need, each op defined in its own file.
public enum OpKind: String, CaseIterable, Sendable {
    case conv2d
    case batchnorm
    case relu
    case relu6
    case add
    case concat
    case maxpool
    case avgpool
    case globalAvgPool = "global_avg_pool"
    case flatten
    case linear
    case softmax
    case maxSoftmaxLogit = "max_softmax_logit"
    case sigmoid
    case subsample
    case channelPad = "channel_pad"

    public var definition: any OpDefinition.Type {
        switch self {
        case .conv2d: return Conv2D.self
        case .batchnorm: return BatchNorm.self
        case .relu: return ReLU.self
        case .relu6: return ReLU6.self
        case .add: return Add.self
        case .concat: return Concat.self
        case .maxpool: return MaxPool.self
        case .avgpool: return AvgPool.self
        case .globalAvgPool: return GlobalAvgPool.self
        case .flatten: return Flatten.self
        case .linear: return Linear.self
        case .softmax: return Softmax.self
        case .maxSoftmaxLogit: return MaxSoftmaxLogit.self
        case .sigmoid: return Sigmoid.self
        case .subsample: return Subsample.self
        case .channelPad: return ChannelPad.self
        }
    }

    /// The spelling in `.eeir`.
    public var name: String { rawValue }
}
