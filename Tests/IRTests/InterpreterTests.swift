import Testing
import Foundation
import IR

// The reference interpreter on a hand-built network checked against a hand computation, and the
// weight binder (`WeightBinder.bind` / `seeded`). Tolerance: OpTestSupport.expectClose (1e-6
// relative); every value below is exact in binary, so the results are in fact exact.

private typealias S = OpTestSupport

@Suite
struct InterpreterTests {
    /// conv → bn → relu → gap → flatten → linear, with an exit head on `conv`.
    static let tinyNetwork = """
        # A hand-checkable network.
        model tiny
        input x: f32[1,1,2,2]
        conv = conv2d(x, out=2, kernel=1)
        bn = batchnorm(conv, eps=0.25)
        act = relu(bn)
        e1.pool = global_avg_pool(conv)
        e1.flat = flatten(e1.pool)
        e1.fc = linear(e1.flat, out=2, bias=false)
        e1.conf = linear(e1.flat, out=1)
        exit e1(classifier=e1.fc, confidence=e1.conf)
        gap = global_avg_pool(act)
        flat = flatten(gap)
        fc = linear(flat, out=2)
        output fc
        """

    static let tinyWeights: [String: Tensor] = [
        "conv.weight": S.t([2, 1, 1, 1], [1, -1]), "conv.bias": S.t([2], [0, 1]),
        "bn.weight": S.t([2], [2, 1]), "bn.bias": S.t([2], [0, 1]),
        "bn.running_mean": S.t([2], [1, 0]), "bn.running_var": S.t([2], [3.75, 0.75]),
        "e1.fc.weight": S.t([2, 2], [1, 1, 1, -1]),
        "e1.conf.weight": S.t([1, 2], [2, 2]), "e1.conf.bias": S.t([1], [0.25]),
        "fc.weight": S.t([2, 2], [2, 4, -1, 0]), "fc.bias": S.t([2], [0.5, 0]),
    ]

    // Hand computation for x = [[1,2],[3,4]]:
    //   conv (1x1, w = [1, −1], b = [0, 1]):  ch0 = x = [1,2,3,4];  ch1 = 1 − x = [0,−1,−2,−3]
    //   bn (eps 0.25, √(var+eps) = [2, 1]):   ch0 = (v − 1)/2·2 + 0 = [0,1,2,3]
    //                                         ch1 = (v − 0)/1·1 + 1 = [1,0,−1,−2]
    //   relu:                                 [0,1,2,3], [1,0,0,0]
    //   gap → flatten:                        [1.5, 0.25]
    //   fc (W = [[2,4],[−1,0]], b = [0.5,0]): [3 + 1 + 0.5, −1.5] = [4.5, −1.5]
    //   exit: gap(conv) = [2.5, −1.5]
    //     e1.fc (W = [[1,1],[1,−1]]):         [1, 4]
    //     e1.conf (W = [[2,2]], b = 0.25):    5 − 3 + 0.25 = 2.25 (a logit: no sigmoid applied)
    static let tinyInput = S.iota([1, 1, 2, 2])

    func tiny(keep: Set<String> = []) throws -> Interpreter {
        let g = try S.load(Self.tinyNetwork)
        let weights = try WeightBinder.bind(g, tensors: Self.tinyWeights, source: "tiny.safetensors")
        #expect(weights.unused.isEmpty)
        return Interpreter(g, weights: weights, keep: keep)
    }

    @Test func runsTheNetworkAndItsExit() throws {
        let result = try tiny().run(Self.tinyInput)
        S.expectClose(result.logits, shape: [1, 2], [4.5, -1.5])
        #expect(result.exits.count == 1)
        S.expectClose(result.exits[0].logits, shape: [1, 2], [1, 4])
        // The confidence logit, not its sigmoid (0.9047).
        #expect(abs(result.exits[0].confidence - 2.25) < 1e-6)
    }

    @Test func intermediatesAreFreedUnlessKept() throws {
        // Without `keep`, only the output and the exits' values survive the run.
        let plain = try tiny().run(Self.tinyInput)
        #expect(Set(plain.kept.keys) == ["fc", "e1.fc", "e1.conf"])
        // `keep` returns intermediate values too, with their hand-computed contents.
        let kept = try tiny(keep: ["conv", "bn", "act", "e1.pool"]).run(Self.tinyInput)
        #expect(Set(kept.kept.keys) == ["fc", "e1.fc", "e1.conf", "conv", "bn", "act", "e1.pool"])
        S.expectClose(try #require(kept.kept["conv"]), shape: [1, 2, 2, 2], [1, 2, 3, 4, 0, -1, -2, -3])
        S.expectClose(try #require(kept.kept["bn"]), shape: [1, 2, 2, 2], [0, 1, 2, 3, 1, 0, -1, -2])
        S.expectClose(try #require(kept.kept["act"]), shape: [1, 2, 2, 2], [0, 1, 2, 3, 1, 0, 0, 0])
        S.expectClose(try #require(kept.kept["e1.pool"]), shape: [1, 2, 1, 1], [2.5, -1.5])
        // Keeping values does not change the results.
        S.expectClose(kept.logits, shape: [1, 2], [4.5, -1.5])
        S.expectClose(kept.exits[0].logits, shape: [1, 2], [1, 4])
        // The graph input can be kept as well (it is never freed).
        let input = try tiny(keep: ["x"]).run(Self.tinyInput)
        #expect(input.kept["x"] == Self.tinyInput)
    }

    @Test func runsAreIndependent() throws {
        // One interpreter, two inputs, then the first again: no state carried between runs.
        // x = 0: conv = [0,0,0,0 | 1,1,1,1]; bn = [−1×4 | 2×4]; relu = [0×4 | 2×4]; gap = [0, 2]
        //   fc = [0 + 8 + 0.5, 0] = [8.5, 0];  e1: gap(conv) = [0, 1] → e1.fc [1, −1], conf 2 + 0.25
        let interpreter = try tiny()
        let first = interpreter.run(Self.tinyInput)
        let zero = interpreter.run(Tensor(zeros: [1, 1, 2, 2]))
        S.expectClose(zero.logits, shape: [1, 2], [8.5, 0])
        S.expectClose(zero.exits[0].logits, shape: [1, 2], [1, -1])
        #expect(abs(zero.exits[0].confidence - 2.25) < 1e-6)
        let again = interpreter.run(Self.tinyInput)
        #expect(again.logits == first.logits)
        #expect(again.exits[0].logits == first.exits[0].logits)
    }

    @Test func valuesLiveUntilTheirLastUse() throws {
        // `a` is read by three later nodes and must survive until the last one.
        // x = [−1, 2]: a = relu(x) = [0, 2]; b = a + x = [−1, 4]; c = b + a = [−1, 6];
        // y = concat(a, c) = [0, 2, −1, 6]
        let y = try S.evaluate("a = relu(x)\nb = add(a, x)\nc = add(b, a)\ny = concat(a, c)", input: S.t([1, 1, 1, 2], [-1, 2]))
        S.expectClose(y, shape: [1, 2, 1, 2], [0, 2, -1, 6])
    }

    @Test func deadNodesAreSkipped() throws {
        // `dead` is used by nothing: it gets its (bound) weights but is never run; the result is
        // unchanged and it is not returned.
        let text = Self.tinyNetwork.replacingOccurrences(of: "output fc", with: "dead = linear(flat, out=3)\noutput fc")
        let g = try S.load(text)
        var tensors = Self.tinyWeights
        tensors["dead.weight"] = S.t([3, 2], [1, 2, 3, 4, 5, 6])
        tensors["dead.bias"] = S.t([3], [0, 0, 0])
        let weights = try WeightBinder.bind(g, tensors: tensors, source: "w")
        let result = Interpreter(g, weights: weights).run(Self.tinyInput)
        S.expectClose(result.logits, shape: [1, 2], [4.5, -1.5])
        #expect(result.kept["dead"] == nil)
    }

    // MARK: WeightBinder

    static let binderNetwork = """
        model w
        input x: f32[1,3,8,8]
        conv1 = conv2d(x, out=16, kernel=3, pad=1, bias=false)
        bn1 = batchnorm(conv1)
        relu1 = relu(bn1)
        pool = global_avg_pool(relu1)
        flat = flatten(pool)
        fc = linear(flat, out=10)
        output fc
        """

    func bindFailure(_ tensors: [String: Tensor]) throws -> [String] {
        let g = try S.load(Self.binderNetwork)
        do {
            _ = try WeightBinder.bind(g, tensors: tensors, source: "w.bin")
            Issue.record("binding should have failed")
            return []
        } catch {
            #expect(error.description == error.problems.joined(separator: "\n"))
            return error.problems
        }
    }

    @Test func bindsInParameterOrder() throws {
        let g = try S.load(Self.binderNetwork)
        let tensors = WeightBinder.seeded(g)
        #expect(Set(tensors.keys) == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                                      "fc.weight", "fc.bias"])
        let bound = try WeightBinder.bind(g, tensors: tensors, source: "w.bin")
        #expect(bound.unused.isEmpty)
        #expect(bound.byNode.map(\.count) == [1, 4, 0, 0, 0, 2])
        #expect(bound.byNode[1] == ["bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"].map { tensors[$0]! })
        #expect(bound.byNode[5] == [tensors["fc.weight"]!, tensors["fc.bias"]!])
    }

    @Test func missingTensor() throws {
        var tensors = WeightBinder.seeded(try S.load(Self.binderNetwork))
        tensors["bn1.running_var"] = nil
        #expect(try bindFailure(tensors) == ["w.bin: error: missing tensor 'bn1.running_var' of shape [16] for batchnorm 'bn1'"])
    }

    @Test func wrongShape() throws {
        var tensors = WeightBinder.seeded(try S.load(Self.binderNetwork))
        tensors["conv1.weight"] = Tensor(zeros: [16, 3, 3])
        #expect(try bindFailure(tensors) == ["w.bin: error: tensor 'conv1.weight' has shape [16,3,3], expected [16,3,3,3]"])
        // Same element count, other layout ([in, out] instead of [out, in]) is still wrong.
        var transposed = WeightBinder.seeded(try S.load(Self.binderNetwork))
        transposed["fc.weight"] = Tensor(zeros: [16, 10])
        #expect(try bindFailure(transposed) == ["w.bin: error: tensor 'fc.weight' has shape [16,10], expected [10,16]"])
    }

    @Test func nonFiniteAndNegativeVariance() throws {
        var tensors = WeightBinder.seeded(try S.load(Self.binderNetwork))
        tensors["fc.bias"]!.data[3] = .infinity
        let inf = try bindFailure(tensors)
        #expect(inf.count == 1)
        #expect(inf.first?.hasPrefix("w.bin: error: tensor 'fc.bias'") == true)
        #expect(inf.first?.contains("non-finite value (inf) at element 3") == true)

        var nan = WeightBinder.seeded(try S.load(Self.binderNetwork))
        nan["conv1.weight"]!.data[7] = .nan
        let nanProblems = try bindFailure(nan)
        #expect(nanProblems.count == 1)
        #expect(nanProblems.first?.contains("'conv1.weight' holds a non-finite value") == true)
        #expect(nanProblems.first?.contains("at element 7") == true)

        var negative = WeightBinder.seeded(try S.load(Self.binderNetwork))
        negative["bn1.running_var"]!.data[2] = -1
        let neg = try bindFailure(negative)
        #expect(neg.count == 1)
        #expect(neg.first?.contains("'bn1.running_var' has a negative variance (-1.0) at element 2") == true)
    }

    @Test func everyProblemIsReported() throws {
        // Three problems in three nodes: all reported, in graph order.
        var tensors = WeightBinder.seeded(try S.load(Self.binderNetwork))
        tensors["conv1.weight"] = Tensor(zeros: [16, 3, 3])
        tensors["bn1.running_mean"] = nil
        tensors["bn1.running_var"] = nil
        tensors["fc.bias"]!.data[0] = .nan
        let problems = try bindFailure(tensors)
        #expect(problems.count == 4)
        guard problems.count == 4 else { return }
        #expect(problems[0] == "w.bin: error: tensor 'conv1.weight' has shape [16,3,3], expected [16,3,3,3]")
        #expect(problems[1] == "w.bin: error: missing tensor 'bn1.running_mean' of shape [16] for batchnorm 'bn1'")
        #expect(problems[2] == "w.bin: error: missing tensor 'bn1.running_var' of shape [16] for batchnorm 'bn1'")
        #expect(problems[3].contains("'fc.bias' holds a non-finite value"))
    }

    @Test func unusedTensorsAreListedSorted() throws {
        let g = try S.load(Self.binderNetwork)
        var tensors = WeightBinder.seeded(g)
        tensors["zzz.weight"] = S.t([1], [0])
        tensors["bn1.num_batches_tracked"] = S.t([1], [100])
        tensors["aaa"] = S.t([1], [0])
        let bound = try WeightBinder.bind(g, tensors: tensors, source: "w.bin", extraUnused: ["__metadata__"])
        #expect(bound.unused == ["__metadata__", "aaa", "bn1.num_batches_tracked", "zzz.weight"])
    }

    // MARK: seeded weights

    @Test func seededWeightsAreDeterministic() throws {
        let g = try S.load(Self.binderNetwork)
        let a = WeightBinder.seeded(g, seed: 7)
        #expect(a == WeightBinder.seeded(g, seed: 7))
        #expect(WeightBinder.seeded(g) == WeightBinder.seeded(g, seed: 0))
        let b = WeightBinder.seeded(g, seed: 8)
        #expect(Set(a.keys) == Set(b.keys))
        for (key, tensor) in a {
            #expect(tensor.shape == b[key]?.shape)
            #expect(tensor.data != b[key]?.data, "\(key) should change with the seed")
        }
    }

    @Test func seededWeightsHaveTheRightShapesAndRanges() throws {
        let g = try S.load(Self.binderNetwork)
        let tensors = WeightBinder.seeded(g, seed: 3)
        for node in g.graph.nodes {
            for spec in g.parameters(node) {
                #expect(tensors["\(node.name).\(spec.name)"]?.shape == spec.shape)
            }
        }
        func inRange(_ key: String, _ low: Float, _ high: Float) {
            let data = tensors[key]?.data ?? []
            #expect(!data.isEmpty)
            #expect(data.allSatisfy { $0 >= low && $0 <= high }, "\(key) outside [\(low), \(high)]")
            #expect(Set(data).count > 1, "\(key) is constant")
        }
        // conv: Kaiming-uniform ±√(6/fan_in), fan_in = 3·3·3 = 27
        let convBound = Float((6.0 / 27).squareRoot())
        inRange("conv1.weight", -convBound, convBound)
        // BatchNorm: weight and variance in [0.5, 1.5], bias and mean in [−0.2, 0.2]
        inRange("bn1.weight", 0.5, 1.5)
        inRange("bn1.running_var", 0.5, 1.5)
        inRange("bn1.bias", -0.2, 0.2)
        inRange("bn1.running_mean", -0.2, 0.2)
        // linear weight and bias: ±1/√in = ±0.25
        inRange("fc.weight", -0.25, 0.25)
        inRange("fc.bias", -0.25, 0.25)
        // And they bind.
        #expect(try WeightBinder.bind(g, tensors: tensors, source: "seeded").unused.isEmpty)
    }

    @Test func seededWeightsOfOtherNodesSurviveAnAddedNode() throws {
        let g = try S.load(Self.binderNetwork)
        // Insert an exit head in the middle of the graph: new nodes with their own parameters.
        let text = Self.binderNetwork.replacingOccurrences(of: "pool = global_avg_pool(relu1)", with: """
            e.conv = conv2d(relu1, out=4, kernel=1)
            e.pool = global_avg_pool(e.conv)
            e.flat = flatten(e.pool)
            e.fc = linear(e.flat, out=10)
            e.conf = linear(e.flat, out=1)
            exit e(classifier=e.fc, confidence=e.conf)
            pool = global_avg_pool(relu1)
            """)
        let h = try S.load(text)
        #expect(h.graph.nodes.count == g.graph.nodes.count + 5)
        for seed: UInt64 in [0, 42] {
            let before = WeightBinder.seeded(g, seed: seed)
            let after = WeightBinder.seeded(h, seed: seed)
            #expect(after.count == before.count + 6)
            for (key, tensor) in before {
                #expect(after[key] == tensor, "\(key) changed when a node was added")
            }
        }
    }
}
