/// The host program the Swift backend builds around a generated package, with the command line
/// and output format of the C harness (see `HarnessSource.harness`) less the weights argument:
/// the weights are the package's own, decoded by `loadWeights(into:)`, so Weights.swift is
/// checked too. A host tool, not part of the package: it uses Foundation.
enum SwiftHarnessSource {
    /// `Package.swift` of the harness, depending on the generated package in `../package`.
    static func manifest(_ t: String) -> String {
        """
        // swift-tools-version: 6.0
        import PackageDescription

        let package = Package(
            name: "Harness",
            dependencies: [.package(path: "../package")],
            targets: [.executableTarget(name: "Harness", dependencies: [.product(name: "\(t)", package: "package")],
                                        path: "Sources/Harness")]
        )

        """
    }

    /// `Harness MODE INPUTS THRESHOLDS OUT [REPEATS]`, MODE run, all or bench.
    static func main(_ t: String) -> String {
        """
        import Foundation
        import \(t)

        func fail(_ message: String) -> Never {
            FileHandle.standardError.write(Data("harness: \\(message)\\n".utf8))
            exit(2)
        }

        func readFloats(_ path: String) -> [Float] {
            guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \\(path)") }
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }

        func nanoseconds(_ d: Duration) -> Double {
            Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
        }

        let args = CommandLine.arguments
        guard args.count >= 5 else { fail("usage: Harness MODE INPUTS THRESHOLDS OUT [REPEATS]") }
        let inputs = readFloats(args[2])
        let thresholds: [Float] = args[3] == "-" ? [] : readFloats(args[3])
        guard thresholds.count >= \(t).exits || args[1] == "all" else { fail("\\(thresholds.count) thresholds, expected \\(\(t).exits)") }
        let samples = inputs.count / \(t).inputSize
        let weights = UnsafeMutablePointer<Float>.allocate(capacity: max(\(t).weightCount, 1))
        \(t).loadWeights(into: weights)
        let arena = UnsafeMutableRawPointer.allocate(byteCount: \(t).arenaFloats * 4, alignment: \(t).arenaAlignment)
            .bindMemory(to: Float.self, capacity: \(t).arenaFloats)
        var out: [UInt32] = []
        var total = 0.0
        let clock = ContinuousClock()
        inputs.withUnsafeBufferPointer { inputs in
            thresholds.withUnsafeBufferPointer { t in
                let input = { (s: Int) in inputs.baseAddress! + s * \(t).inputSize }
                switch args[1] {
                case "run":
                    var logits = [Float](repeating: 0, count: \(t).classes)
                    for s in 0..<samples {
                        // NaNs first: a kernel reading memory nothing wrote shows in the results.
                        arena.update(repeating: .nan, count: \(t).arenaFloats)
                        var r: EECResult? = nil
                        total += nanoseconds(clock.measure {
                            r = \(t).run(weights: weights, input: input(s), arena: arena, thresholdLogits: t.baseAddress, logits: &logits)
                        })
                        guard let r else { continue }
                        out += [UInt32(bitPattern: Int32(r.classIndex)), UInt32(bitPattern: Int32(r.exitIndex)),
                                r.confidenceLogit.bitPattern, UInt32(truncatingIfNeeded: r.macs), UInt32(truncatingIfNeeded: r.macs >> 32)]
                        out += logits.map(\\.bitPattern)
                    }
                case "all":
                    var logits = [Float](repeating: 0, count: (\(t).exits + 1) * \(t).classes)
                    var confidence = [Float](repeating: 0, count: max(\(t).exits, 1))
                    for s in 0..<samples {
                        arena.update(repeating: .nan, count: \(t).arenaFloats)
                        \(t).runAll(weights: weights, input: input(s), arena: arena, logits: &logits, confidenceLogits: &confidence)
                        out += logits.map(\\.bitPattern) + confidence.prefix(\(t).exits).map(\\.bitPattern)
                    }
                case "bench":
                    let repeats = args.count > 5 ? Int(args[5]) ?? 100 : 100
                    for i in 0..<(repeats + 10) {
                        let ns = nanoseconds(clock.measure {
                            _ = \(t).run(weights: weights, input: input(0), arena: arena, thresholdLogits: t.baseAddress)
                        })
                        if i >= 10 {
                            let bits = ns.bitPattern
                            out += [UInt32(truncatingIfNeeded: bits), UInt32(truncatingIfNeeded: bits >> 32)]
                        }
                    }
                default:
                    fail("unknown mode \\(args[1])")
                }
            }
        }
        if args[1] == "run" { print("ns_per_sample \\(samples > 0 ? total / Double(samples) : 0)") }
        let bytes = out.withUnsafeBytes { Data($0) }
        guard FileManager.default.createFile(atPath: args[4], contents: bytes) else { fail("cannot write \\(args[4])") }

        """
    }
}
