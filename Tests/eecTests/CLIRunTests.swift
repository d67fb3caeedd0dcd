import Foundation
import Testing
import IR
@testable import eec

/// `eec run` on a tiny graph whose logits are computed by hand.
@Suite struct CLIRunTests {
    /// A 1x1 conv with bias, then a linear layer: x [1,2,1,2] → conv [1,2,1,2] → flatten [1,4] → fc [1,3].
    static let graph = """
        model tiny
        input x: f32[1,2,1,2]
        conv = conv2d(x, out=2, kernel=1)
        f = flatten(conv)
        fc = linear(f, out=3)
        output fc

        """

    static let convWeight: [Float] = [1, -1, 0.5, 2]          // [out=2, in=2, 1, 1]
    static let convBias: [Float] = [0.1, -0.2]
    static let fcWeight: [Float] = [1, 0, -1, 0.5,            // [3, 4]
                                    -0.5, 2, 0.25, 0,
                                    0, -1, 1, 1]
    static let fcBias: [Float] = [0.5, 0, -0.25]

    static var weights: [String: Tensor] {
        [
            "conv.weight": Tensor(shape: [2, 2, 1, 1], data: convWeight),
            "conv.bias": Tensor(shape: [2], data: convBias),
            "fc.weight": Tensor(shape: [3, 4], data: fcWeight),
            "fc.bias": Tensor(shape: [3], data: fcBias),
        ]
    }

    /// The logits of one CHW sample [c0w0, c0w1, c1w0, c1w1], computed in Double.
    static func logits(_ x: [Double]) -> [Double] {
        var conv = [Double](repeating: 0, count: 4)  // [o, w] flattened as o * 2 + w
        for o in 0..<2 {
            for w in 0..<2 {
                var s = Double(convBias[o])
                for c in 0..<2 { s += Double(convWeight[o * 2 + c]) * x[c * 2 + w] }
                conv[o * 2 + w] = s
            }
        }
        return (0..<3).map { k in
            (0..<4).reduce(Double(fcBias[k])) { $0 + Double(fcWeight[k * 4 + $1]) * conv[$1] }
        }
    }

    /// Writes the graph and the weights; returns (graph path, weights path).
    static func setUp(_ dir: CLITempDir, weights: [String: Tensor] = weights) throws -> (String, String) {
        let graph = try dir.write("tiny.eeir", Self.graph)
        let w = dir.path("tiny.safetensors")
        try SafetensorsFile.write(tensors: weights, to: w)
        return (graph, w)
    }

    static let floatSamples: [[Float]] = [[1, 2, 3, 4], [-1, 0.5, 2, -3], [0.25, -0.75, 0, 1.5]]

    static func writeFloatInput(_ dir: CLITempDir, _ samples: [[Float]] = floatSamples) throws -> String {
        let path = dir.path("x.npy")
        try NPYArray(shape: [samples.count, 2, 1, 2], storage: .float32(samples.flatMap { $0 })).write(to: path)
        return path
    }

    static func readLogits(_ path: String) throws -> (shape: [Int], values: [Float]) {
        let array = try NPYArray.read(path: path)
        guard case .float32(let values) = array.storage else {
            Issue.record("logits are \(array.storage.dtypeName), expected float32")
            return (array.shape, [])
        }
        return (array.shape, values)
    }

    @Test func floatInputLogitsMatchHandComputation() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let (graph, weights) = try Self.setUp(dir)
        let input = try Self.writeFloatInput(dir)
        let out = dir.path("logits.npy")
        let r = CLI.run("run", graph, "--weights", weights, "--input", input, "--output", out)
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.err.isEmpty, "\(r.transcript)")
        // With --output, no per-sample lines: just the summary.
        #expect(r.out.hasPrefix("3 samples, "), "\(r.transcript)")
        #expect(r.out.hasSuffix(" ms per sample (reference interpreter)\n"))
        #expect(!r.out.contains("accuracy"))

        let (shape, values) = try Self.readLogits(out)
        #expect(shape == [3, 3])
        let expected = Self.floatSamples.flatMap { Self.logits($0.map(Double.init)) }
        try #require(values.count == expected.count)
        for (i, (got, want)) in zip(values, expected).enumerated() {
            #expect(abs(Double(got) - want) < 1e-5, "logit \(i): \(got) vs \(want)")
        }
        // Spot check one value fully by hand: sample 0, conv = [1-3+.1, 2-4+.1, .5+6-.2, 1+8-.2]
        // = [-1.9, -1.9, 6.3, 8.8]; fc[0] = -1.9 - 6.3 + 4.4 + 0.5 = -3.3.
        #expect(abs(values[0] - -3.3) < 1e-5)
    }

    @Test func printsOneClassPerSampleWithoutOutput() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let (graph, weights) = try Self.setUp(dir)
        let input = try Self.writeFloatInput(dir)
        let r = CLI.run("run", graph, "--weights", weights, "--input", input)
        #expect(r.status == 0, "\(r.transcript)")
        let predicted = Self.floatSamples.map { argmax(Self.logits($0.map(Double.init)).map(Float.init)) }
        let lines = r.out.split(separator: "\n").map(String.init)
        try #require(lines.count == 4, "\(r.transcript)")
        for n in 0..<3 { #expect(lines[n] == "\(n): class \(predicted[n])") }
        #expect(lines[3].hasPrefix("3 samples, "))
    }

    @Test func labelsGiveTheAccuracy() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let (graph, weights) = try Self.setUp(dir)
        let input = try Self.writeFloatInput(dir)
        let predicted = Self.floatSamples.map { argmax(Self.logits($0.map(Double.init)).map(Float.init)) }
        // Two of three right.
        let labels = [predicted[0], (predicted[1] + 1) % 3, predicted[2]].map(Int64.init)
        let labelPath = dir.path("y.npy")
        try NPYArray(shape: [3], storage: .int64(labels)).write(to: labelPath)
        let r = CLI.run("run", graph, "--weights", weights, "--input", input, "--labels", labelPath,
                        "--output", dir.path("out.npy"))
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.out.contains("\naccuracy: 66.67% (2/3)\n"), "\(r.transcript)")

        // uint8 labels work too.
        let u8 = dir.path("y8.npy")
        try NPYArray(shape: [3], storage: .uint8(predicted.map(UInt8.init))).write(to: u8)
        let all = CLI.run("run", graph, "--weights", weights, "--input", input, "--labels", u8)
        #expect(all.status == 0, "\(all.transcript)")
        #expect(all.out.contains("accuracy: 100.00% (3/3)"), "\(all.transcript)")
    }

    @Test func badLabels() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let (graph, weights) = try Self.setUp(dir)
        let input = try Self.writeFloatInput(dir)
        let short = dir.path("short.npy")
        try NPYArray(shape: [2], storage: .int64([0, 1])).write(to: short)
        let r = CLI.run("run", graph, "--weights", weights, "--input", input, "--labels", short)
        #expect(r.status == 1, "\(r.transcript)")
        #expect(r.err == "\(short): error: 2 labels for 3 inputs\n", "\(r.transcript)")

        let range = dir.path("range.npy")
        try NPYArray(shape: [3], storage: .int64([0, 3, 1])).write(to: range)
        let o = CLI.run("run", graph, "--weights", weights, "--input", input, "--labels", range)
        #expect(o.status == 1)
        #expect(o.err.contains("\(range): error: label 3 at index 1 is outside 0..<3"), "\(o.transcript)")

        let floats = dir.path("float.npy")
        try NPYArray(shape: [3], storage: .float32([0, 1, 2])).write(to: floats)
        let f = CLI.run("run", graph, "--weights", weights, "--input", input, "--labels", floats)
        #expect(f.status == 1)
        #expect(f.err.contains("labels have dtype float32"), "\(f.transcript)")
    }

    @Test func uint8NHWCInputWithMeanAndStd() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let (graph, weights) = try Self.setUp(dir)
        // Two images, H=1, W=2, C=2, stored HWC: [w0c0, w0c1, w1c0, w1c1].
        let pixels: [[UInt8]] = [[0, 255, 51, 102], [200, 10, 128, 77]]
        let input = dir.path("x8.npy")
        try NPYArray(shape: [2, 1, 2, 2], storage: .uint8(pixels.flatMap { $0 })).write(to: input)
        let mean: [Double] = [0.5, 0.25], std: [Double] = [0.5, 0.25]
        let out = dir.path("logits.npy")
        let r = CLI.run("run", graph, "--weights", weights, "--input", input,
                        "--mean", "0.5,0.25", "--std", "0.5, 0.25", "--output", out)
        #expect(r.status == 0, "\(r.transcript)")
        let (shape, values) = try Self.readLogits(out)
        #expect(shape == [2, 3])
        for (n, p) in pixels.enumerated() {
            // CHW: x[c, w] = (p[w, c] / 255 - mean[c]) / std[c].
            var x = [Double](repeating: 0, count: 4)
            for c in 0..<2 { for w in 0..<2 { x[c * 2 + w] = (Double(p[w * 2 + c]) / 255 - mean[c]) / std[c] } }
            let want = Self.logits(x)
            for k in 0..<3 {
                #expect(abs(Double(values[n * 3 + k]) - want[k]) < 1e-5, "sample \(n) logit \(k)")
            }
        }

        // Without --mean/--std, the pixels are only scaled by 1/255.
        let plain = CLI.run("run", graph, "--weights", weights, "--input", input, "--output", out)
        #expect(plain.status == 0)
        let (_, scaled) = try Self.readLogits(out)
        var x0 = [Double](repeating: 0, count: 4)
        for c in 0..<2 { for w in 0..<2 { x0[c * 2 + w] = Double(pixels[0][w * 2 + c]) / 255 } }
        #expect(zip(scaled.prefix(3), Self.logits(x0)).allSatisfy { abs(Double($0) - $1) < 1e-5 })
    }

    @Test func normalizationMustFitTheChannels() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let (graph, weights) = try Self.setUp(dir)
        let input = try Self.writeFloatInput(dir)
        let r = CLI.run("run", graph, "--weights", weights, "--input", input, "--mean", "0.5,0.5,0.5", "--std", "1,1,1")
        #expect(r.status == 1, "\(r.transcript)")
        #expect(r.err.contains("\(input): error: mean has 3 values, expected 2"), "\(r.transcript)")
        let z = CLI.run("run", graph, "--weights", weights, "--input", input, "--mean", "0,0", "--std", "1,0")
        #expect(z.status == 1)
        #expect(z.err.contains("std[1] is 0"), "\(z.transcript)")
    }

    @Test func seededWeightsNotice() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let (graph, _) = try Self.setUp(dir)
        let input = try Self.writeFloatInput(dir)
        let out0 = dir.path("seed0.npy"), out7 = dir.path("seed7.npy"), again = dir.path("again.npy")
        let r = CLI.run("run", graph, "--input", input, "--output", out0)
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.err == "eec: note: no --weights given; using deterministic seeded weights (seed 0)\n", "\(r.transcript)")
        #expect(!r.out.contains("note"))
        let s = CLI.run("run", graph, "--input", input, "--output", out7, "--seed", "7")
        #expect(s.err.contains("(seed 7)"))
        _ = CLI.run("run", graph, "--input", input, "--output", again)
        // Deterministic per seed, different across seeds.
        #expect(try Self.readLogits(out0).values == Self.readLogits(again).values)
        #expect(try Self.readLogits(out0).values != Self.readLogits(out7).values)
    }

    @Test func unusedTensorsAreNamedInAWarning() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        var extra = Self.weights
        extra["fc.extra"] = Tensor(shape: [1], data: [0])
        extra["conv.num_batches_tracked"] = Tensor(shape: [], data: [0])
        let (graph, weights) = try Self.setUp(dir, weights: extra)
        let input = try Self.writeFloatInput(dir)
        let out = dir.path("logits.npy")
        let r = CLI.run("run", graph, "--weights", weights, "--input", input, "--output", out)
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.err == "\(weights): warning: 2 tensors not used by the graph: 'conv.num_batches_tracked', 'fc.extra'\n",
                "\(r.transcript)")
        // The extra tensors change nothing.
        let expected = Self.floatSamples.flatMap { Self.logits($0.map(Double.init)) }
        #expect(zip(try Self.readLogits(out).values, expected).allSatisfy { abs(Double($0) - $1) < 1e-5 })
    }

    @Test func manyUnusedTensorsAreAbbreviated() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        var extra = Self.weights
        for i in 0..<7 { extra["junk.\(i)"] = Tensor(shape: [1], data: [0]) }
        let (graph, weights) = try Self.setUp(dir, weights: extra)
        let r = CLI.run("run", graph, "--weights", weights, "--input", try Self.writeFloatInput(dir), "--output", dir.path("o.npy"))
        #expect(r.status == 0)
        #expect(r.err == "\(weights): warning: 7 tensors not used by the graph: 'junk.0', 'junk.1', 'junk.2', 'junk.3', 'junk.4', ...\n",
                "\(r.transcript)")
    }

    @Test func wrongShapeNamesTheTensorAndBothShapes() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        var bad = Self.weights
        bad["fc.weight"] = Tensor(shape: [3, 5], data: [Float](repeating: 0, count: 15))
        let (graph, weights) = try Self.setUp(dir, weights: bad)
        let input = try Self.writeFloatInput(dir)
        let out = dir.path("logits.npy")
        let r = CLI.run("run", graph, "--weights", weights, "--input", input, "--output", out)
        #expect(r.status == 1, "\(r.transcript)")
        #expect(r.err == "\(weights): error: tensor 'fc.weight' has shape [3,5], expected [3,4]\n", "\(r.transcript)")
        #expect(r.out.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func missingTensorIsNamed() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        var bad = Self.weights
        bad["conv.bias"] = nil
        let (graph, weights) = try Self.setUp(dir, weights: bad)
        let r = CLI.run("run", graph, "--weights", weights, "--input", try Self.writeFloatInput(dir))
        #expect(r.status == 1, "\(r.transcript)")
        #expect(r.err == "\(weights): error: missing tensor 'conv.bias' of shape [2] for conv2d 'conv'\n", "\(r.transcript)")
    }

    @Test func everyWeightProblemIsReported() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        var bad = Self.weights
        bad["conv.bias"] = nil
        bad["fc.bias"] = Tensor(shape: [4], data: [0, 0, 0, 0])
        let (graph, weights) = try Self.setUp(dir, weights: bad)
        let r = CLI.run("run", graph, "--weights", weights, "--input", try Self.writeFloatInput(dir))
        #expect(r.status == 1)
        #expect(r.err.contains("missing tensor 'conv.bias'"), "\(r.transcript)")
        #expect(r.err.contains("tensor 'fc.bias' has shape [4], expected [3]"), "\(r.transcript)")
    }

    @Test func badInputFiles() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let (graph, weights) = try Self.setUp(dir)

        let missing = dir.path("nope.npy")
        let m = CLI.run("run", graph, "--weights", weights, "--input", missing)
        #expect(m.status == 1, "\(m.transcript)")
        #expect(m.err == "\(missing): error: no such file\n", "\(m.transcript)")

        let garbage = try dir.write("garbage.npy", "this is not a numpy file at all")
        let g = CLI.run("run", graph, "--weights", weights, "--input", garbage)
        #expect(g.status == 1, "\(g.transcript)")
        #expect(g.err == "\(garbage): error: not a NumPy .npy file (bad magic bytes)\n", "\(g.transcript)")

        var truncated = NPYArray(shape: [3, 2, 1, 2], storage: .float32(Self.floatSamples.flatMap { $0 })).encode()
        truncated.removeLast(5)
        let t = try dir.write("truncated.npy", bytes: truncated)
        let tr = CLI.run("run", graph, "--weights", weights, "--input", t)
        #expect(tr.status == 1, "\(tr.transcript)")
        #expect(tr.err.hasPrefix("\(t): error: "), "\(tr.transcript)")

        let wrong = dir.path("wrong.npy")
        try NPYArray(shape: [2, 3, 1, 2], storage: .float32([Float](repeating: 0, count: 12))).write(to: wrong)
        let w = CLI.run("run", graph, "--weights", weights, "--input", wrong)
        #expect(w.status == 1)
        #expect(w.err == "\(wrong): error: images have shape [2,3,1,2] (float32), expected [N,1,2,2] (uint8) or [N,2,1,2] (float32) for input [1,2,1,2]\n",
                "\(w.transcript)")

        let f64 = dir.path("f64.npy")
        try NPYArray(shape: [1, 2, 1, 2], storage: .float64([1, 2, 3, 4])).write(to: f64)
        let d = CLI.run("run", graph, "--weights", weights, "--input", f64)
        #expect(d.status == 1, "\(d.transcript)")
        #expect(d.err.contains("(float64)"))
    }

    @Test func badWeightsFile() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let (graph, _) = try Self.setUp(dir)
        let input = try Self.writeFloatInput(dir)
        let garbage = try dir.write("w.safetensors", bytes: [1, 2, 3])
        let r = CLI.run("run", graph, "--weights", garbage, "--input", input)
        #expect(r.status == 1, "\(r.transcript)")
        #expect(r.err.hasPrefix("\(garbage): error: "), "\(r.transcript)")
        let missing = dir.path("none.safetensors")
        let m = CLI.run("run", graph, "--weights", missing, "--input", input)
        #expect(m.status == 1)
        #expect(m.err == "\(missing): error: no such file\n", "\(m.transcript)")
    }

    @Test func unwritableOutputIsAnInputError() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let (graph, weights) = try Self.setUp(dir)
        let out = dir.path("missing/dir/out.npy")
        let r = CLI.run("run", graph, "--weights", weights, "--input", try Self.writeFloatInput(dir), "--output", out)
        #expect(r.status == 1, "\(r.transcript)")
        #expect(r.err.hasPrefix("\(out): error: cannot write file"), "\(r.transcript)")
    }
}
