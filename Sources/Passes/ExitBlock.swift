import IR

/// The exit heads eec can attach, each built as ordinary IR nodes named `exits.<i>.<layer>`, so
/// their weights are `exits.<i>.<layer>.<param>` in a safetensors file. Every head ends in a
/// linear `classifier` (class logits) and a `confidence` node giving one logit (the runtime
/// compares it with logit(T)): a linear layer on the same features (`ExitConfidence.head`), or
/// the logit of the classifier's largest softmax probability (`ExitConfidence.softmax`).
public enum ExitBlock: Sendable, Equatable, CustomStringConvertible {
    /// Global average pool → the two heads (the EENets default).
    case pool
    /// BatchNorm → ReLU → pool → the two heads (PTEEnet's `bnpool`).
    case bnpool
    /// Flatten the feature map as it is → the two heads.
    case plain
    /// X × [conv3×3 C→C without bias, BatchNorm, ReLU] → pool → the two heads (PTEEnet's ConvX).
    case conv(Int)
    /// Shallow-Deep-Networks style: max and average pooling to at most 4×4 cells, concatenated,
    /// → the two heads. Costs the pooling and one small linear layer: about 0.02 % of a CIFAR
    /// ResNet-44 per exit, against 4.9 % for `conv2`, so an exit that rarely answers costs
    /// almost nothing. (SDN mixes max and average with a learnt weight; the linear layer on
    /// both learns any mix and more.)
    case sdn
    /// One strided conv3×3 C→C (stride 2, no bias), BatchNorm, ReLU → pool → the two heads:
    /// a learnt feature at a quarter of a backbone conv's cost.
    case sconv

    public init?(_ text: String) {
        switch text {
        case "pool": self = .pool
        case "bnpool": self = .bnpool
        case "plain": self = .plain
        case "conv", "conv1": self = .conv(1)
        case "conv2": self = .conv(2)
        case "conv3": self = .conv(3)
        case "sdn": self = .sdn
        case "sconv": self = .sconv
        default: return nil
        }
    }

    public static let names = ["sdn", "sconv", "pool", "bnpool", "plain", "conv1", "conv2", "conv3"]

    public var description: String {
        switch self {
        case .pool: return "pool"
        case .bnpool: return "bnpool"
        case .plain: return "plain"
        case .conv(let x): return "conv\(x)"
        case .sdn: return "sdn"
        case .sconv: return "sconv"
        }
    }

    /// The side of the pooled grid of an `sdn` head: the map is pooled to at most this many
    /// cells a side (kernel = stride = side / 4, rounded down; maps of 4 or fewer are not pooled).
    public static let sdnCells = 4

    /// The nodes of exit `index` reading `attach`, a [1, C, H, W] map of shape `shape`, for
    /// `classes` classes.
    public func nodes(index: Int, attach: String, shape: [Int], classes: Int,
                      confidence: ExitConfidence = .head) -> [Node] {
        let prefix = "exits.\(index)."
        let channels = shape.count > 1 ? shape[1] : 1
        var nodes: [Node] = []
        var last = attach
        func add(_ name: String, _ op: OpKind, _ attributes: [String: AttributeValue] = [:], inputs: [String]? = nil) {
            nodes.append(Node(name: prefix + name, op: op, inputs: inputs ?? [last], attributes: Attributes(attributes)))
            last = prefix + name
        }
        switch self {
        case .pool:
            add("pool", .globalAvgPool)
        case .bnpool:
            add("bn", .batchnorm)
            add("relu", .relu)
            add("pool", .globalAvgPool)
        case .plain:
            break
        case .conv(let x):
            for j in 1...x {
                add("conv\(j)", .conv2d, ["out": .int(channels), "kernel": .int(3), "pad": .int(1), "bias": .bool(false)])
                add("bn\(j)", .batchnorm)
                add("relu\(j)", .relu)
            }
            add("pool", .globalAvgPool)
        case .sconv:
            add("conv", .conv2d, ["out": .int(channels), "kernel": .int(3), "stride": .int(2), "pad": .int(1), "bias": .bool(false)])
            add("bn", .batchnorm)
            add("relu", .relu)
            add("pool", .globalAvgPool)
        case .sdn:
            let h = shape.count == 4 ? shape[2] : 1, w = shape.count == 4 ? shape[3] : 1
            let kernel = [max(1, h / Self.sdnCells), max(1, w / Self.sdnCells)]
            let window: [String: AttributeValue] = kernel[0] == kernel[1] ? ["kernel": .int(kernel[0])] : ["kernel": .ints(kernel)]
            add("maxpool", .maxpool, window, inputs: [attach])
            add("avgpool", .avgpool, window, inputs: [attach])
            add("pool", .concat, inputs: [prefix + "maxpool", prefix + "avgpool"])
        }
        add("flat", .flatten)
        let features = last
        add("classifier", .linear, ["out": .int(classes)])
        switch confidence {
        case .head:
            last = features
            add("confidence", .linear, ["out": .int(1)])
        case .softmax:
            add("confidence", .maxSoftmaxLogit)
        }
        return nodes
    }
}

/// What an exit's confidence is.
public enum ExitConfidence: String, CaseIterable, Sendable {
    /// A learnt linear layer on the head's features, h = sigmoid(z) (EENets/PTEEnet).
    case head
    /// The classifier's largest softmax probability (SDN, BranchyNet-style): no extra layer to
    /// learn or run; the confidence node computes its logit, `max_softmax_logit`.
    case softmax
}
