import IR

/// The exit heads eec can attach, each built as ordinary IR nodes named `exits.<i>.<layer>`, so
/// their weights are `exits.<i>.<layer>.<param>` in a safetensors file. Every head ends in two
/// linear layers on pooled (or flattened) features: `classifier` (class logits) and `confidence`
/// (one logit; the runtime applies the sigmoid).
public enum ExitBlock: Sendable, Equatable, CustomStringConvertible {
    /// Global average pool → the two heads (the EENets default).
    case pool
    /// BatchNorm → ReLU → pool → the two heads (PTEEnet's `bnpool`).
    case bnpool
    /// Flatten the feature map as it is → the two heads.
    case plain
    /// X × [conv3×3 C→C without bias, BatchNorm, ReLU] → pool → the two heads (PTEEnet's ConvX).
    case conv(Int)

    public init?(_ text: String) {
        switch text {
        case "pool": self = .pool
        case "bnpool": self = .bnpool
        case "plain": self = .plain
        case "conv", "conv1": self = .conv(1)
        case "conv2": self = .conv(2)
        case "conv3": self = .conv(3)
        default: return nil
        }
    }

    public static let names = ["pool", "bnpool", "plain", "conv1", "conv2", "conv3"]

    public var description: String {
        switch self {
        case .pool: return "pool"
        case .bnpool: return "bnpool"
        case .plain: return "plain"
        case .conv(let x): return "conv\(x)"
        }
    }

    /// The nodes of exit `index` reading `attach` (a [1, C, H, W] map), for `classes` classes.
    public func nodes(index: Int, attach: String, channels: Int, classes: Int) -> [Node] {
        let prefix = "exits.\(index)."
        var nodes: [Node] = []
        var last = attach
        func add(_ name: String, _ op: OpKind, _ attributes: [String: AttributeValue] = [:]) {
            nodes.append(Node(name: prefix + name, op: op, inputs: [last], attributes: Attributes(attributes)))
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
        }
        add("flat", .flatten)
        let features = last
        add("classifier", .linear, ["out": .int(classes)])
        last = features
        add("confidence", .linear, ["out": .int(1)])
        return nodes
    }
}
