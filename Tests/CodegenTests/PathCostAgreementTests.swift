import Foundation
import Testing
import IR
import Passes
import Codegen

/// One definition of the path cost: what `PathCost` (read off the compiled graph in MACs) says a
/// sample leaving at exit k costs is what the C runtime counts when it leaves there
/// (`segment_macs` of every segment run + `head_macs` of every exit not switched off).
struct PathCostAgreementTests {
    @Test func runtimeMACsAreThePathCost() throws {
        for (name, branches) in [("resnet20", 3), ("resnet44a", 5), ("densenet121", 3)] {
            let network = try CompiledNetwork(name, branches: branches)
            let program = try CProgram(network.compiled)
            let path = PathCost(ExitCostReport(network.compiled.graph, convention: .macs))
            let backbone = Double(program.backboneMacs)
            for enabled in [[Bool](repeating: true, count: branches), (0..<branches).map { $0 % 2 == 0 }] {
                let expected = path.costs(enabled: enabled)
                // As eec_run counts: segments up to k, plus the heads of enabled exits up to k.
                var spent = 0
                for k in 0...branches {
                    spent += program.segments[k].macs
                    if k < branches && enabled[k] { spent += program.exits[k].head.macs }
                    #expect(abs(Double(spent) / backbone - expected[k]) <= 1e-12, "\(name) exit \(k), enabled \(enabled)")
                }
            }
        }
    }
}
