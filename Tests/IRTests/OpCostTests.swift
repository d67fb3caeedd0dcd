import Testing
import IR

// Cost of every op in both conventions (docs/IR.md and the `Cost` doc comment), and learnable
// parameter counts, against hand-computed numbers:
//   macs   conv = kh·kw·(Cin/groups)·Cout·H'·W' (+ Cout·H'·W' with bias); linear = in·out (bias not
//          counted); every other op 0.
//   eenets macs + 2·numel per batchnorm + numel per relu or relu6 + numel(input) per maxpool / avgpool /
//          global_avg_pool; a fused relu (conv, linear, add) adds numel(output).
//   params learnable tensors only (BatchNorm's running statistics excluded).
// Every number here is an exact integer.

private typealias S = OpTestSupport

@Suite
struct OpCostTests {
    /// The row of node `node` in the cost report of a one-op graph, in both conventions.
    func row(_ input: [Int], _ body: String, node: String = "y",
             sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> CostReport.Row {
        let g = try S.load(S.graphText(input: input, body: body))
        let report = CostReport(g, convention: .macs)
        let other = CostReport(g, convention: .eenets)
        let row = try #require(report.rows.first { $0.name == node }, sourceLocation: sourceLocation)
        let same = try #require(other.rows.first { $0.name == node }, sourceLocation: sourceLocation)
        // The convention only changes the cumulative share, never the counts.
        #expect(row.cost == same.cost && row.params == same.params, sourceLocation: sourceLocation)
        // The row agrees with VerifiedGraph.cost.
        let n = try #require(g.graph.nodes.first { $0.name == node }, sourceLocation: sourceLocation)
        #expect(g.cost(n) == row.cost, sourceLocation: sourceLocation)
        return row
    }

    func expectCost(_ input: [Int], _ body: String, macs: Int, eenets: Int, params: Int,
                    sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let r = try row(input, body, sourceLocation: sourceLocation)
        #expect(r.cost.macs == macs, "macs of \(body)", sourceLocation: sourceLocation)
        #expect(r.cost.eenets == eenets, "eenets of \(body)", sourceLocation: sourceLocation)
        #expect(r.params == params, "params of \(body)", sourceLocation: sourceLocation)
    }

    // MARK: conv2d

    @Test func convWithBiasGroupsStride() throws {
        // [1,4,8,8], out 6, kernel 3, stride 2, pad 1, groups 2: H' = W' = ⌊(8 + 2 − 3)/2⌋ + 1 = 4.
        // macs = 3·3·(4/2)·6·4·4 = 1728, + bias 6·16 = 96 → 1824; eenets the same.
        // params = 6·2·3·3 + 6 = 114
        try expectCost([1, 4, 8, 8], "y = conv2d(x, out=6, kernel=3, stride=2, pad=1, groups=2)",
                       macs: 1824, eenets: 1824, params: 114)
    }

    @Test func convWithoutBias() throws {
        // As above without the bias: 1728 MACs, 108 params.
        try expectCost([1, 4, 8, 8], "y = conv2d(x, out=6, kernel=3, stride=2, pad=1, groups=2, bias=false)",
                       macs: 1728, eenets: 1728, params: 108)
    }

    @Test func convFusedReLU() throws {
        // relu=true adds numel(output) = 6·4·4 = 96 to eenets only: 1824 / 1920.
        try expectCost([1, 4, 8, 8], "y = conv2d(x, out=6, kernel=3, stride=2, pad=1, groups=2, relu=true)",
                       macs: 1824, eenets: 1920, params: 114)
    }

    @Test func convNonSquareAndDepthwise() throws {
        // [1,2,5,7], out 3, kernel [1,3], pad [0,1] → 5x7: macs = 1·3·2·3·35 = 630; params 3·2·1·3 = 18
        try expectCost([1, 2, 5, 7], "y = conv2d(x, out=3, kernel=[1, 3], pad=[0, 1], bias=false)",
                       macs: 630, eenets: 630, params: 18)
        // depthwise [1,8,4,4], kernel 3, pad 1: macs = 9·1·8·16 = 1152; params 8·1·9 = 72
        try expectCost([1, 8, 4, 4], "y = conv2d(x, out=8, kernel=3, pad=1, groups=8, bias=false)",
                       macs: 1152, eenets: 1152, params: 72)
        // dilation does not change the count: [1,1,7,7], kernel 3, dilation 2 → 3x3: 9·1·1·9 = 81 (+9 bias)
        try expectCost([1, 1, 7, 7], "y = conv2d(x, out=1, kernel=3, dilation=2)",
                       macs: 90, eenets: 90, params: 10)
    }

    @Test func resnetStemConv() throws {
        // CIFAR ResNet stem: [1,3,32,32] → 16 channels, 3x3, pad 1, no bias:
        // 9·3·16·1024 = 442,368 MACs, 432 params.
        try expectCost([1, 3, 32, 32], "y = conv2d(x, out=16, kernel=3, pad=1, bias=false)",
                       macs: 442_368, eenets: 442_368, params: 432)
    }

    // MARK: batchnorm

    @Test func batchnorm() throws {
        // [1,3,4,4]: numel 48 → eenets 96, macs 0; params weight + bias = 6 (running stats excluded).
        try expectCost([1, 3, 4, 4], "y = batchnorm(x)", macs: 0, eenets: 96, params: 6)
        let g = try S.load(S.graphText(input: [1, 3, 4, 4], body: "y = batchnorm(x)"))
        let specs = g.parameters(g.graph.nodes[0])
        #expect(specs.map(\.name) == ["weight", "bias", "running_mean", "running_var"])
        #expect(specs.map(\.learnable) == [true, true, false, false])
        #expect(specs.allSatisfy { $0.shape == [3] })
    }

    // MARK: elementwise

    @Test func relu() throws {
        try expectCost([1, 3, 4, 4], "y = relu(x)", macs: 0, eenets: 48, params: 0)
    }

    @Test func relu6() throws {
        // As a ReLU: numel 3·4·4 = 48 (ptflops counts nn.ReLU6 with its ReLU hook).
        try expectCost([1, 3, 4, 4], "y = relu6(x)", macs: 0, eenets: 48, params: 0)
    }

    @Test func add() throws {
        try expectCost([1, 3, 4, 4], "r = relu(x)\ny = add(r, x)", macs: 0, eenets: 0, params: 0)
        // fused relu: + numel 48
        try expectCost([1, 3, 4, 4], "r = relu(x)\ny = add(r, x, relu=true)", macs: 0, eenets: 48, params: 0)
    }

    @Test func zeroCostOps() throws {
        try expectCost([1, 3, 4, 4], "r = relu(x)\ny = concat(r, x)", macs: 0, eenets: 0, params: 0)
        try expectCost([1, 3, 4, 4], "y = flatten(x)", macs: 0, eenets: 0, params: 0)
        try expectCost([1, 10], "y = softmax(x)", macs: 0, eenets: 0, params: 0)
        try expectCost([1, 3, 4, 4], "y = sigmoid(x)", macs: 0, eenets: 0, params: 0)
        try expectCost([1, 3, 4, 4], "y = subsample(x, stride=2)", macs: 0, eenets: 0, params: 0)
        try expectCost([1, 3, 4, 4], "y = channel_pad(x, before=1, after=2)", macs: 0, eenets: 0, params: 0)
    }

    // MARK: pooling: numel of the INPUT

    @Test func pooling() throws {
        // [1,2,4,4] = 32 input elements; the outputs (8 and 18) are not what is counted.
        try expectCost([1, 2, 4, 4], "y = maxpool(x, kernel=2)", macs: 0, eenets: 32, params: 0)
        try expectCost([1, 2, 4, 4], "y = avgpool(x, kernel=2, stride=1)", macs: 0, eenets: 32, params: 0)
        // padding does not count: [1,1,2,2] with pad 1 → 4
        try expectCost([1, 1, 2, 2], "y = maxpool(x, kernel=2, stride=1, pad=1)", macs: 0, eenets: 4, params: 0)
        try expectCost([1, 3, 4, 4], "y = global_avg_pool(x)", macs: 0, eenets: 48, params: 0)
    }

    // MARK: linear

    @Test func linear() throws {
        // in 8, out 10: 80 MACs (bias not counted), params 80 + 10
        try expectCost([1, 8], "y = linear(x, out=10)", macs: 80, eenets: 80, params: 90)
        try expectCost([1, 8], "y = linear(x, out=10, bias=false)", macs: 80, eenets: 80, params: 80)
        // fused relu: + numel(output) = 10
        try expectCost([1, 8], "y = linear(x, out=10, relu=true)", macs: 80, eenets: 90, params: 90)
    }

    // MARK: totals

    @Test func totalsCoverTheBackboneOnly() throws {
        // The interpreter test network (x [1,1,2,2]):
        //   conv 1→2, k1, bias: macs 1·1·1·2·4 + 8 = 16, params 4
        //   bn [1,2,2,2]: eenets 16, params 4;  relu: eenets 8;  gap: eenets 8 (input numel)
        //   fc 2→2: macs 4, params 6
        //   exit head: e1.pool eenets 8, e1.fc macs 4 (params 4), e1.conf macs 2 (params 3): not in the totals.
        // Backbone: macs 20, eenets 16 + 16 + 8 + 8 + 4 = 52, params 14, FLOPs 40.
        let g = try S.load(InterpreterTests.tinyNetwork)
        let eenets = CostReport(g)
        #expect(eenets.convention == .eenets)
        #expect(eenets.total == Cost(macs: 20, eenets: 52))
        #expect(eenets.params == 14)
        #expect(eenets.flops == 40)
        let head = eenets.rows.filter { !$0.inBackbone }.map(\.name)
        #expect(head == ["e1.pool", "e1.flat", "e1.fc", "e1.conf"])
        #expect(eenets.rows.filter { !$0.inBackbone }.map(\.params) == [0, 0, 4, 3])
        // Cumulative share: after conv 16/52 (eenets) or 16/20 (macs); 1 at the last backbone node.
        let macs = CostReport(g, convention: .macs)
        let conv = try #require(eenets.rows.first { $0.name == "conv" })
        #expect(abs(conv.cumulativeShare - 16.0 / 52) < 1e-12)
        #expect(abs(try #require(macs.rows.first { $0.name == "conv" }).cumulativeShare - 0.8) < 1e-12)
        #expect(try #require(eenets.rows.first { $0.name == "fc" }).cumulativeShare == 1)
        #expect(try #require(macs.rows.first { $0.name == "fc" }).cumulativeShare == 1)
    }
}
