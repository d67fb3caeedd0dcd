import IR

/// Where an exit may be attached: the backbone points where one tensor alone is live, so the
/// network can stop there and resume from that tensor alone.
///
/// Rules, in order:
/// 1. after backbone node i, exactly one value is still needed later, and it is node i's output;
/// 2. not between an op and the BatchNorm or ReLU the fusion passes merge into it (conv→BN,
///    conv/BN/add/linear→ReLU) when that is its only consumer; the reference code never cuts there
///    (each op says which producers it continues: `OpDefinition.continuesLayer(after:)`);
/// 3. an NCHW feature map, not the output of an op with `exitMayFollow` false (the global pool:
///    an exit there would only repeat the final classifier) and not the final output;
/// 4. if `ops` is given, node i's op is one of them (`--exit-after maxpool` reproduces the
///    reference VGG, `--exit-after concat` the reference DenseNet).
///
/// For CIFAR ResNets this gives the end of the stem and the end of every residual block; for a
/// DenseNet every dense layer's concatenation and the transitions' outputs; for a VGG every ReLU
/// and max-pool.
public enum ExitCandidates {
    public static func find(_ g: VerifiedGraph, ops: Set<OpKind>? = nil) -> [Int] {
        let graph = g.graph
        let index = graph.nodeIndex()
        let backbone = graph.backbone(index: index)
        // Last backbone reader of each value; the output lives to the end.
        var lastUse = [Int](repeating: -1, count: graph.nodes.count)
        var inputLastUse = -1
        var consumers = [[Int]](repeating: [], count: graph.nodes.count)
        for (i, node) in graph.nodes.enumerated() where backbone[i] {
            for input in node.inputs {
                if let j = index[input] {
                    lastUse[j] = i
                    consumers[j].append(i)
                } else if input == graph.input.name {
                    inputLastUse = i
                }
            }
        }
        let outputIndex = index[graph.output.name] ?? -1
        var dying = [Int](repeating: 0, count: graph.nodes.count)
        for j in lastUse.indices where lastUse[j] >= 0 { dying[lastUse[j]] += 1 }
        if inputLastUse >= 0 { dying[inputLastUse] += 1 }

        var candidates: [Int] = []
        var live = 1  // the graph input
        for (i, node) in graph.nodes.enumerated() where backbone[i] {
            live -= dying[i]
            let usedLater = lastUse[i] > i
            if usedLater { live += 1 }
            guard usedLater, live == 1, i != outputIndex else { continue }
            if consumers[i].count == 1, graph.nodes[consumers[i][0]].op.definition.continuesLayer(after: node.op) { continue }
            guard g.shape(node.name).count == 4, node.op.definition.exitMayFollow else { continue }
            if let ops, !ops.contains(node.op) { continue }
            candidates.append(i)
        }
        return candidates
    }
}
