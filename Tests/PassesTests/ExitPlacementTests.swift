import IR
import Testing
@testable import Passes

/// The placements the EENets/PTEEnet reference code produces (eenets cost convention), from
/// ../shared/research/early-exit.md §1.2 and the issue. bk = the k-th residual block after the
/// stem (b1 = layer1.0); dA.B = dense layer B (1-based) of dense block A; poolK = K-th max-pool.
struct ExitPlacementTests {
    /// Names the attach points the way the reference tables do.
    func placement(_ model: String, _ n: Int, _ d: Distribution, ops: Set<OpKind>? = nil) throws -> [String] {
        let g = try example(model)
        let p = try ExitPlacement.place(g, branches: n, distribution: d, convention: .eenets, candidateOps: ops)
        return p.attachNodes.map { i in
            let name = g.graph.nodes[i].name
            if name.hasPrefix("layer") {
                // layerS.I → block number counted over all stages.
                let parts = name.dropFirst(5).split(separator: ".").compactMap { Int($0) }
                let perStage = g.graph.nodes.filter { $0.name.hasPrefix("layer1.") && $0.name.split(separator: ".").count == 2 }.count
                return "b\((parts[0] - 1) * perStage + parts[1] + 1)"
            }
            if name.hasPrefix("dense") {
                let parts = name.dropFirst(5).split(separator: ".").compactMap { Int($0) }
                return "d\(parts[0]).\(parts[1] + 1)"
            }
            let pools = g.graph.nodes.enumerated().filter { $0.element.op == .maxpool }.map(\.offset)
            if let k = pools.firstIndex(of: i) { return "pool\(k + 1)" }
            return name
        }
    }

    func blocks(_ s: String) -> [String] { s.split(separator: " ").map(String.init) }

    @Test func resnet20() throws {
        #expect(try placement("resnet20", 3, .fine) == blocks("b1 b2 b3"))
        #expect(try placement("resnet20", 3, .pareto) == blocks("b2 b3 b5"))
        #expect(try placement("resnet20", 3, .golden) == blocks("b2 b4 b6"))
        #expect(try placement("resnet20", 3, .linear) == blocks("b3 b5 b7"))
    }

    @Test func resnet32() throws {
        #expect(try placement("resnet32", 5, .fine) == blocks("b1 b2 b3 b4 b5"))
        #expect(try placement("resnet32", 5, .pareto) == blocks("b3 b6 b8 b9 b10"))
        #expect(try placement("resnet32", 5, .golden) == blocks("b2 b3 b4 b6 b10"))
        #expect(try placement("resnet32", 5, .linear) == blocks("b3 b5 b8 b10 b13"))
    }

    @Test func resnet110() throws {
        #expect(try placement("resnet110", 10, .fine) == blocks("b3 b6 b8 b10 b12 b14 b16 b18 b20 b22"))
        #expect(try placement("resnet110", 10, .pareto) == blocks("b11 b20 b27 b32 b37 b40 b43 b45 b47 b49"))
        #expect(try placement("resnet110", 10, .golden) == blocks("b1 b2 b3 b4 b5 b6 b8 b13 b21 b34"))
        #expect(try placement("resnet110", 10, .linear) == (1...10).map { "b\($0 * 5)" })
    }

    @Test func densenet121AfterDenseLayers() throws {
        let concat: Set<OpKind> = [.concat]
        #expect(try placement("densenet121", 3, .fine, ops: concat) == blocks("d1.1 d1.2 d1.3"))
        #expect(try placement("densenet121", 3, .pareto, ops: concat) == blocks("d1.4 d1.6 d2.4"))
        #expect(try placement("densenet121", 3, .golden, ops: concat) == blocks("d1.4 d1.6 d2.10"))
        #expect(try placement("densenet121", 3, .linear, ops: concat) == blocks("d1.5 d2.5 d3.6"))
    }

    @Test func vgg19AfterMaxPools() throws {
        let pools: Set<OpKind> = [.maxpool]
        #expect(try placement("vgg19", 3, .fine, ops: pools) == blocks("pool1 pool2 pool3"))
        #expect(try placement("vgg19", 3, .pareto, ops: pools) == blocks("pool2 pool3 pool4"))
        #expect(try placement("vgg19", 3, .golden, ops: pools) == blocks("pool2 pool3 pool4"))
        #expect(try placement("vgg19", 3, .linear, ops: pools) == blocks("pool3 pool4 pool5"))
    }

    @Test func resnetCandidatesAreStemAndBlockEnds() throws {
        let g = try example("resnet20")
        let names = ExitCandidates.find(g).map { g.graph.nodes[$0].name }
        #expect(names == ["relu1"] + (1...3).flatMap { s in (0..<3).map { "layer\(s).\($0)" } })
    }

    /// An activation continues the layer before it (OpDefinition.continuesLayer): no exit between
    /// a conv and its ReLU or ReLU6, unlike a sigmoid.
    @Test func activationsContinueTheirLayer() throws {
        func candidates(_ activation: String) throws -> [String] {
            let g = try parse("""
                model t
                input x: f32[1,3,8,8]
                c1 = conv2d(x, out=4, kernel=3, pad=1)
                a1 = \(activation)(c1)
                c2 = conv2d(a1, out=4, kernel=3, pad=1)
                a2 = \(activation)(c2)
                p = global_avg_pool(a2)
                f = flatten(p)
                fc = linear(f, out=10)
                output fc
                """)
            return ExitCandidates.find(g).map { g.graph.nodes[$0].name }
        }
        #expect(try candidates("relu") == ["a1", "a2"])
        #expect(try candidates("relu6") == ["a1", "a2"])
        #expect(try candidates("sigmoid") == ["c1", "a1", "c2", "a2"])
    }

    @Test func tooManyExitsSaysHowManyFit() throws {
        let g = try example("resnet20")
        #expect {
            _ = try ExitPlacement.place(g, branches: 12, distribution: .fine, convention: .eenets)
        } throws: { error in
            (error as? PassError)?.message.hasPrefix("only 9 of 12 exits fit with distribution 'fine'") == true
        }
    }

    @Test func quadraticIsFrontLoaded() {
        #expect(Distribution.quadratic.fraction(0, of: 3) == 0.0625)
        #expect(Distribution.quadratic.fraction(2, of: 3) == 0.5625)
        #expect(abs(Distribution.golden.fraction(2, of: 3) - 0.6180339887) < 1e-9)
    }
}
