import IR

/// One exit head as a trainable network, built from the exit's IR nodes: a trunk (convs,
/// BatchNorms, ReLUs, pooling, flatten) feeding the linear classifier and, for a learnt
/// confidence, a second linear layer (nil for a max-softmax confidence, which has nothing to
/// learn). Parameters keep their IR names (`exits.0.conv1.weight`, ...).
///
/// The head starts where the feature cache does (`featureNode`): the nodes before it are
/// parameter-free and already applied to the cached tensor.
struct ExitHead {
    var trunk: [any Layer]
    var classifier: LinearLayer
    var confidence: LinearLayer?
    /// IR parameter names of each layer's `parameters`: trunk layers, then classifier, confidence.
    let parameterNames: [[String]]
    /// Names of BatchNorm running statistics, per trunk layer (empty for other layers).
    let statisticsNames: [[String]]

    struct Unsupported: Error {
        var message: String
    }

    /// The node of `exit`'s head whose output the feature cache should hold: the classifier's
    /// input when every head node before the classifier is parameter-free (pooling, concat,
    /// flatten), so only the linear layers are trained on a few hundred cached floats; nil when
    /// the head has layers to learn before it (convs, BatchNorms): the attach tensor is cached.
    static func featureNode(_ g: VerifiedGraph, exit: Exit) -> String? {
        let graph = g.graph
        let index = graph.nodeIndex()
        let backbone = graph.backbone(index: index)
        let members = graph.ancestors(of: [exit.classifier, exit.confidence], index: index)
        guard let classifier = index[exit.classifier], let input = graph.nodes[classifier].inputs.first else { return nil }
        for i in graph.nodes.indices where members[i] && !backbone[i] {
            let node = graph.nodes[i]
            if node.name == exit.classifier || node.name == exit.confidence { continue }
            if !g.parameters(node).isEmpty { return nil }
        }
        return index[input].map { backbone[$0] } == false ? input : nil
    }

    /// Builds the head of `exit` from the graph and its (seeded or trained) weights. With
    /// `featureNode`, the layers up to and including that node are left out (the cache holds its output).
    init(_ g: VerifiedGraph, exit: Exit, weights: [String: Tensor], featureNode: String? = nil) throws(Unsupported) {
        let graph = g.graph
        let index = graph.nodeIndex()
        let backbone = graph.backbone(index: index)
        let members = graph.ancestors(of: [exit.classifier, exit.confidence], index: index)
        let applied = featureNode.map { graph.ancestors(of: [$0], index: index) } ?? [Bool](repeating: false, count: graph.nodes.count)
        let nodes = graph.nodes.indices.filter { members[$0] && !backbone[$0] && !applied[$0] }.map { graph.nodes[$0] }
        func tensor(_ key: String) throws(Unsupported) -> [Float] {
            guard let t = weights[key] else { throw Unsupported(message: "missing tensor '\(key)'") }
            return t.data
        }
        guard let classifierNode = nodes.first(where: { $0.name == exit.classifier }),
              let confidenceNode = nodes.first(where: { $0.name == exit.confidence }),
              classifierNode.op == .linear,
              (confidenceNode.op == .linear && classifierNode.inputs == confidenceNode.inputs)
                || (confidenceNode.op == .maxSoftmaxLogit && confidenceNode.inputs == [exit.classifier]) else {
            throw Unsupported(message: "exit '\(exit.name)': the classifier must be a linear layer, and the confidence a linear layer reading the same features or max_softmax_logit of the classifier")
        }
        var trunk: [any Layer] = []
        var names: [[String]] = []
        var statistics: [[String]] = []
        for node in nodes where node.name != exit.classifier && node.name != exit.confidence {
            let a = node.attributes
            let key = { (p: String) in "\(node.name).\(p)" }
            switch node.op {
            case .conv2d:
                guard a.int("groups", default: 1) == 1, a.pair("dilation", default: 1) == (1, 1), !a.bool("relu"),
                      a.pair("kernel").0 == a.pair("kernel").1, a.pair("stride", default: 1).0 == a.pair("stride", default: 1).1,
                      a.pair("pad").0 == a.pair("pad").1 else {
                    throw Unsupported(message: "exit head conv '\(node.name)': only square kernels, strides and padding without groups or dilation can be trained")
                }
                let bias = a.bool("bias", default: true)
                trunk.append(ConvLayer(weight: try tensor(key("weight")), bias: bias ? try tensor(key("bias")) : nil,
                                       outChannels: a.int("out"), kernel: a.pair("kernel").0,
                                       stride: a.pair("stride", default: 1).0, pad: a.pair("pad").0))
                names.append(bias ? [key("weight"), key("bias")] : [key("weight")])
                statistics.append([])
            case .batchnorm:
                trunk.append(BatchNormLayer(weight: try tensor(key("weight")), bias: try tensor(key("bias")),
                                            runningMean: try tensor(key("running_mean")), runningVar: try tensor(key("running_var")),
                                            eps: a.float("eps", default: 1e-5)))
                names.append([key("weight"), key("bias")])
                statistics.append([key("running_mean"), key("running_var")])
            case .relu:
                trunk.append(ReLULayer())
                names.append([])
                statistics.append([])
            case .globalAvgPool:
                trunk.append(GlobalPoolLayer())
                names.append([])
                statistics.append([])
            case .flatten:
                trunk.append(FlattenLayer())
                names.append([])
                statistics.append([])
            default:
                throw Unsupported(message: "exit head node '\(node.name)': \(node.op.name) layers cannot be trained yet")
            }
        }
        func linear(_ node: Node) throws(Unsupported) -> LinearLayer {
            guard node.attributes.bool("bias", default: true), !node.attributes.bool("relu") else {
                throw Unsupported(message: "exit head linear '\(node.name)' must have a bias and no fused ReLU")
            }
            return LinearLayer(weight: try tensor("\(node.name).weight"), bias: try tensor("\(node.name).bias"),
                               outFeatures: node.attributes.int("out"))
        }
        self.trunk = trunk
        classifier = try linear(classifierNode)
        if confidenceNode.op == .linear {
            confidence = try linear(confidenceNode)
            parameterNames = names + [["\(exit.classifier).weight", "\(exit.classifier).bias"],
                                      ["\(exit.confidence).weight", "\(exit.confidence).bias"]]
        } else {
            confidence = nil
            parameterNames = names + [["\(exit.classifier).weight", "\(exit.classifier).bias"]]
        }
        statisticsNames = statistics
    }

    /// Class logits [N, K] and confidence logits [N, 1] (the max-softmax logit when the
    /// confidence is not learnt).
    mutating func forward(_ x: Batch, training: Bool) -> (logits: Batch, confidence: Batch) {
        var features = x
        for i in trunk.indices { features = trunk[i].forward(features, training: training) }
        let logits = classifier.forward(features, training: training)
        if confidence != nil, let z = confidence?.forward(features, training: training) { return (logits, z) }
        return (logits, ExitHead.maxSoftmaxLogits(logits))
    }

    /// The confidence logit of a max-softmax exit, as `max_softmax_logit` computes it.
    static func maxSoftmaxLogits(_ logits: Batch) -> Batch {
        let (n, k) = (logits.shape[0], logits.shape[1])
        let t = Tensor(shape: [n, k], data: logits.data)
        let z = MaxSoftmaxLogit.evaluate(inputs: [t], parameters: [], attributes: Attributes(), outputShape: [n, 1])
        return Batch(shape: [n, 1], data: z.data)
    }

    /// Gradients of every layer's parameters, grouped as `parameterNames`; `dConfidence` is
    /// ignored when the confidence is not learnt.
    mutating func backward(logits dLogits: Batch, confidence dConfidence: Batch) -> [[[Float]]] {
        var classifierGrads = zeros(classifier.parameters)
        var gradient = classifier.backward(dLogits, grads: &classifierGrads)
        var out = [classifierGrads]
        if var head = confidence {
            var confidenceGrads = zeros(head.parameters)
            let fromConfidence = head.backward(dConfidence, grads: &confidenceGrads)
            confidence = head
            // Both heads read the same features: their input gradients add.
            gradient = Batch(shape: gradient.shape, data: zip(gradient.data, fromConfidence.data).map(+))
            out.append(confidenceGrads)
        }
        var trunkGrads = trunk.map { zeros($0.parameters) }
        // A head trained on its classifier's input has no trunk: no input gradient is needed.
        for i in trunk.indices.reversed() { gradient = trunk[i].backward(gradient, grads: &trunkGrads[i]) }
        return trunkGrads + out
    }

    /// Replaces every layer's parameters (grouped as `parameterNames`).
    mutating func setParameters(_ values: [[[Float]]]) {
        for i in trunk.indices { trunk[i].parameters = values[i] }
        classifier.parameters = values[trunk.count]
        if confidence != nil { confidence?.parameters = values[trunk.count + 1] }
    }

    /// The head's tensors by IR name, BatchNorm running statistics included.
    func tensors(shapes: (String) -> [Int]) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (layer, names) in zip(allParameters, parameterNames) {
            for (values, name) in zip(layer, names) { out[name] = Tensor(shape: shapes(name), data: values) }
        }
        for (i, names) in statisticsNames.enumerated() where !names.isEmpty {
            if let bn = trunk[i] as? BatchNormLayer {
                out[names[0]] = Tensor(shape: shapes(names[0]), data: bn.runningMean)
                out[names[1]] = Tensor(shape: shapes(names[1]), data: bn.runningVar)
            }
        }
        return out
    }

    /// Every layer's parameter tensors, grouped per layer (trunk layers, classifier, confidence).
    var allParameters: [[[Float]]] { trunk.map(\.parameters) + [classifier.parameters] + (confidence.map { [$0.parameters] } ?? []) }
}

/// Zero tensors shaped like `parameters`.
func zeros(_ parameters: [[Float]]) -> [[Float]] {
    parameters.map { [Float](repeating: 0, count: $0.count) }
}
