import IR
import Testing
@testable import Passes

/// The one definition of the path cost: by hand, and as the exit cost report gives it.
@Suite("Path cost")
struct PathCostTests {
    func close(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) < 1e-12 }
    }

    @Test("Prefix plus the enabled heads reached, own head included; the end pays every enabled head")
    func byHand() {
        let p = PathCost(prefix: [0.1, 0.3, 0.6], head: [0.02, 0.03, 0.05])
        #expect(close(p.costs(enabled: [true, true, true]), [0.12, 0.35, 0.70, 1.10]))
        // Exit 1 switched off: its head is not run, by anyone.
        #expect(close(p.costs(enabled: [true, false, true]), [0.12, 0.32, 0.67, 1.07]))
        #expect(abs(p.cost(leavingAt: 2, enabled: [true, false, true]) - 0.67) < 1e-12)
        // Missing entries are off: all off is the backbone alone.
        #expect(p.cost(leavingAt: 3, enabled: []) == 1)
        #expect(abs(p.costRate(leavingAt: 1) - 0.33) < 1e-12 && p.costRate(leavingAt: 3) == 1)
        #expect(PathCost.enabled([0.5, 1, 0.99], exits: 4) == [true, false, true, false])
        // Another unit: MACs, the backbone 200.
        let macs = PathCost(prefix: [50], head: [4], backbone: 200)
        #expect(macs.costs(enabled: [true]) == [54, 204] && macs.costs(enabled: [false]) == [50, 200])
    }

    /// Costs (MACs): a = 1·2·16 + bias 32 = 64; e0's linears 2·3 + 2·1 = 8; b = 2·4·16 + bias 64 =
    /// 192; e1's linears 4·3 + 4·1 = 16; fc 4·3 = 12; pools and flattens 0. Backbone 268.
    static let twoExits = """
        model pathcost
        input x: f32[1,1,4,4]
        a = conv2d(x, out=2, kernel=1)
        e0.pool = global_avg_pool(a)
        e0.flat = flatten(e0.pool)
        e0.fc = linear(e0.flat, out=3)
        e0.conf = linear(e0.flat, out=1)
        exit e0(classifier=e0.fc, confidence=e0.conf)
        b = conv2d(a, out=4, kernel=1)
        e1.pool = global_avg_pool(b)
        e1.flat = flatten(e1.pool)
        e1.fc = linear(e1.flat, out=3)
        e1.conf = linear(e1.flat, out=1)
        exit e1(classifier=e1.fc, confidence=e1.conf)
        c = global_avg_pool(b)
        d = flatten(c)
        fc = linear(d, out=3)
        output fc
        """

    @Test("From the exit cost report of a small graph, whose path-cost rows it gives")
    func fromReport() throws {
        let report = ExitCostReport(try parse(Self.twoExits), convention: .macs)
        #expect(report.total.macs == 268)
        let p = PathCost(report)
        #expect(close(p.prefix, [64.0 / 268, 256.0 / 268]) && close(p.head, [8.0 / 268, 16.0 / 268]) && p.backbone == 1)
        let all = [72.0 / 268, 280.0 / 268, 292.0 / 268]
        #expect(close(p.costs(enabled: [true, true]), all))
        #expect(close(report.rows.map(\.pathCost), all))
        #expect(close(p.costs(enabled: [false, true]), [64.0 / 268, 272.0 / 268, 284.0 / 268]))
        #expect(close((0...2).map(p.costRate), report.rows.map(\.costRate)))
    }
}
