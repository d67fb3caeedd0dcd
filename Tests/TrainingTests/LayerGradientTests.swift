import Testing
import IR
@testable import Training

/// Every backward pass an exit head uses, against central finite differences of the scalar
/// L = Σ r_i·y_i (r fixed, seeded, in [−1, 1)), on every element of small tensors.
///
/// Layers compute in float32 (conv accumulates in float32; BN, pool and linear in float64 and
/// round the output), so the numbers are chosen for float32:
/// - conv, linear, pool and flatten are linear in each input and each parameter, so central
///   differences have no truncation error and a large step (0.1) only buys accuracy against the
///   float32 rounding of y; tolerance rtol 1e-3 per element (+ atol 1e-4 × the tensor's largest
///   gradient, for elements that are zero or cancel);
/// - BatchNorm is not linear in its input (batch statistics) or its weight: step 1e-2 (truncation
///   error O(h²)), tolerance rtol 1e-2 + atol 1e-3 × the largest gradient;
/// - ReLU: inputs kept at |x| ≥ 0.1 so the step 1e-2 never crosses the kink; rtol 1e-3.
/// The step is divided by the actual (x + h) − (x − h) in float32, so rounding the perturbed
/// input costs nothing.
@Suite("Layer gradients against finite differences")
struct LayerGradientTests {
    func expectAll(_ reports: [GradientReport]) {
        for report in reports { #expect(report.passed, "\(report)") }
    }

    struct ConvCase: CustomTestStringConvertible, Sendable {
        var cin: Int, cout: Int, kernel: Int, stride: Int, pad: Int, bias: Bool, size: Int
        /// The input width when not square (≥ 8 columns exercise the SIMD8 kernels of stride 1).
        var width: Int? = nil
        var testDescription: String { "\(cin)→\(cout) k\(kernel) s\(stride) p\(pad) bias \(bias) on \(size)x\(width ?? size)" }
    }

    @Test("ConvLayer: input, weight and bias", arguments: [
        ConvCase(cin: 2, cout: 3, kernel: 3, stride: 1, pad: 1, bias: false, size: 5),
        ConvCase(cin: 2, cout: 3, kernel: 3, stride: 1, pad: 1, bias: true, size: 5),
        ConvCase(cin: 3, cout: 2, kernel: 3, stride: 1, pad: 0, bias: true, size: 5),
        ConvCase(cin: 2, cout: 4, kernel: 3, stride: 2, pad: 1, bias: false, size: 6),
        ConvCase(cin: 3, cout: 2, kernel: 3, stride: 2, pad: 1, bias: true, size: 5),
        ConvCase(cin: 2, cout: 3, kernel: 3, stride: 2, pad: 0, bias: true, size: 7),
        ConvCase(cin: 3, cout: 3, kernel: 1, stride: 2, pad: 0, bias: false, size: 5),
        ConvCase(cin: 1, cout: 2, kernel: 5, stride: 1, pad: 2, bias: true, size: 4),
        // Wide rows: full SIMD8 blocks plus tails, stride 1 (vectorized) and 2 (scalar).
        ConvCase(cin: 2, cout: 2, kernel: 3, stride: 1, pad: 1, bias: true, size: 3, width: 19),
        ConvCase(cin: 2, cout: 3, kernel: 3, stride: 1, pad: 0, bias: false, size: 4, width: 18),
        ConvCase(cin: 2, cout: 2, kernel: 3, stride: 2, pad: 1, bias: false, size: 3, width: 20),
    ])
    func conv(_ c: ConvCase) {
        let weight = randomFloats(c.cout * c.cin * c.kernel * c.kernel, seed: 1)
        let layer = ConvLayer(weight: weight, bias: c.bias ? randomFloats(c.cout, seed: 2) : nil,
                              outChannels: c.cout, kernel: c.kernel, stride: c.stride, pad: c.pad)
        // Batch of 3: the weight gradient sums over samples (and over parallel chunks).
        let input = randomBatch([3, c.cin, c.size, c.width ?? c.size], seed: 3)
        let reports = checkLayer("conv \(c.testDescription)", layer, input: input, training: true,
                                 step: 0.1, rtol: 1e-3, atolFraction: 1e-4)
        #expect(reports.count == (c.bias ? 3 : 2))
        expectAll(reports)
    }

    @Test("ConvLayer: the output size and the in-bounds column ranges")
    func convColumns() {
        // Reference: every ox with 0 ≤ ox·s + kx − pad < width.
        for width in 1...7 {
            for stride in 1...3 {
                for pad in 0...2 {
                    for kx in 0..<3 {
                        let outWidth = (width + 2 * pad - 3) / stride + 1
                        guard outWidth > 0 else { continue }
                        let expected = (0..<outWidth).filter { ox in (0..<width).contains(ox * stride + kx - pad) }
                        let range = ConvLayer.columns(kx: kx, width: width, outWidth: outWidth, stride: stride, pad: pad)
                        #expect(Array(range) == expected, "width \(width) stride \(stride) pad \(pad) kx \(kx)")
                    }
                }
            }
        }
    }

    @Test("ConvLayer forward matches the IR's reference conv2d")
    func convMatchesReference() {
        let (cin, cout, k) = (3, 4, 3)
        let weight = randomFloats(cout * cin * k * k, seed: 5)
        let bias = randomFloats(cout, seed: 6)
        for (stride, pad, height, width) in [(1, 1, 7, 7), (2, 1, 7, 7), (2, 0, 7, 7), (1, 1, 5, 21), (1, 0, 6, 17), (2, 1, 5, 20)] {
            var layer = ConvLayer(weight: weight, bias: bias, outChannels: cout, kernel: k, stride: stride, pad: pad)
            let input = randomBatch([2, cin, height, width], seed: 7)
            let y = layer.forward(input, training: true)
            let attributes = Attributes(["out": .int(cout), "kernel": .int(k), "stride": .int(stride), "pad": .int(pad)])
            let (outHeight, outWidth) = ((height + 2 * pad - k) / stride + 1, (width + 2 * pad - k) / stride + 1)
            for b in 0..<2 {
                let sample = Tensor(shape: [1, cin, height, width], data: Array(input.data[(b * input.stride)..<((b + 1) * input.stride)]))
                let reference = OpKind.conv2d.definition.evaluate(
                    inputs: [sample], parameters: [Tensor(shape: [cout, cin, k, k], data: weight), Tensor(shape: [cout], data: bias)],
                    attributes: attributes, outputShape: [1, cout, outHeight, outWidth])
                let mine = Array(y.data[(b * y.stride)..<((b + 1) * y.stride)])
                #expect(y.shape == [2, cout, outHeight, outWidth])
                let worst = zip(mine, reference.data).map { abs($0 - $1) }.max() ?? 0
                #expect(worst < 1e-5, "stride \(stride) pad \(pad): largest difference \(worst)")
            }
        }
    }

    @Test("BatchNormLayer, training mode: gradients through the batch statistics", arguments: [
        [3, 2, 3, 3],  // N, C, H, W
        [4, 3, 1, 1],  // after a pool: statistics over the batch alone
        [2, 2, 2, 3],
    ])
    func batchNormTraining(_ shape: [Int]) {
        let c = shape[1]
        let layer = BatchNormLayer(weight: randomFloats(c, seed: 11, 0.5, 1.5), bias: randomFloats(c, seed: 12),
                                   runningMean: randomFloats(c, seed: 13), runningVar: randomFloats(c, seed: 14, 0.5, 1.5), eps: 1e-5)
        let input = randomBatch(shape, seed: 15, -2, 2)
        let reports = checkLayer("batchnorm (training) \(shape)", layer, input: input, training: true,
                                 step: 1e-2, rtol: 1e-2, atolFraction: 1e-3)
        #expect(reports.count == 3)
        expectAll(reports)
    }

    @Test("BatchNormLayer, evaluation mode: running statistics are constants")
    func batchNormEvaluation() {
        let c = 3
        let layer = BatchNormLayer(weight: randomFloats(c, seed: 21, 0.5, 1.5), bias: randomFloats(c, seed: 22),
                                   runningMean: randomFloats(c, seed: 23), runningVar: randomFloats(c, seed: 24, 0.5, 1.5), eps: 1e-5)
        let input = randomBatch([2, c, 2, 3], seed: 25, -2, 2)
        // Affine in x, γ and β in evaluation mode: step 0.1, tight tolerance.
        let reports = checkLayer("batchnorm (evaluation)", layer, input: input, training: false,
                                 step: 0.1, rtol: 1e-4, atolFraction: 1e-5)
        expectAll(reports)
    }

    @Test("BatchNormLayer statistics: batch mean/variance in training, running ones (PyTorch's update) after")
    func batchNormStatistics() {
        var layer = BatchNormLayer(weight: [2, 1], bias: [0.5, 0], runningMean: [0, 1], runningVar: [1, 2], eps: 0)
        // Channel 0 holds 1, 2, 3, 4 over (N = 2, H·W = 2); channel 1 holds 0, 0, 0, 4.
        let x = Batch(shape: [2, 2, 1, 2], data: [1, 2, 0, 0, 3, 4, 0, 4])
        let y = layer.forward(x, training: true)
        // Channel 0: mean 2.5, biased variance 1.25 → x̂ = (x − 2.5)/√1.25; y = 2x̂ + 0.5.
        let s0 = Float(1.25).squareRoot()
        let expected0: [Float] = [1, 2, 3, 4].map { 2 * ($0 - 2.5) / s0 + 0.5 }
        let got0 = [y.data[0], y.data[1], y.data[4], y.data[5]]
        for (a, b) in zip(got0, expected0) { #expect(abs(a - b) < 1e-5) }
        // Running: mean 0.9·0 + 0.1·2.5; var 0.9·1 + 0.1·(1.25·4/3) (unbiased).
        #expect(abs(layer.runningMean[0] - 0.25) < 1e-6)
        #expect(abs(layer.runningVar[0] - Float(0.9 + 0.1 * 1.25 * 4 / 3)) < 1e-6)
        // Channel 1: mean 1, biased variance 3, unbiased 4.
        #expect(abs(layer.runningMean[1] - Float(0.9 * 1 + 0.1 * 1)) < 1e-6)
        #expect(abs(layer.runningVar[1] - Float(0.9 * 2 + 0.1 * 4)) < 1e-6)
        // Evaluation uses the running statistics and leaves them alone.
        let (mean, variance) = (layer.runningMean, layer.runningVar)
        let e = layer.forward(x, training: false)
        #expect(layer.runningMean == mean && layer.runningVar == variance)
        let expected = 2 * (Double(1) - Double(mean[0])) / Double(variance[0]).squareRoot() + 0.5
        #expect(abs(Double(e.data[0]) - expected) < 1e-5)
    }

    @Test("ReLULayer away from the kink")
    func relu() {
        let shape = [2, 3, 2, 2]
        let input = Batch(shape: shape, data: randomFloatsAwayFromZero(shape.reduce(1, *), seed: 31, gap: 0.1))
        #expect(input.data.contains { $0 > 0 } && input.data.contains { $0 < 0 })
        let reports = checkLayer("relu", ReLULayer(), input: input, training: true, step: 1e-2, rtol: 1e-3, atolFraction: 1e-4)
        #expect(reports.count == 1)
        expectAll(reports)
    }

    @Test("GlobalPoolLayer: [N, C, H, W] → [N, C]")
    func globalPool() {
        let input = randomBatch([2, 3, 3, 2], seed: 41)
        var probe = GlobalPoolLayer()
        #expect(probe.forward(input, training: true).shape == [2, 3])
        expectAll(checkLayer("global pool", GlobalPoolLayer(), input: input, training: true,
                             step: 0.1, rtol: 1e-3, atolFraction: 1e-4))
    }

    @Test("FlattenLayer: [N, C, H, W] → [N, C·H·W]")
    func flatten() {
        let input = randomBatch([2, 3, 2, 2], seed: 51)
        var probe = FlattenLayer()
        #expect(probe.forward(input, training: true).shape == [2, 12])
        expectAll(checkLayer("flatten", FlattenLayer(), input: input, training: true,
                             step: 0.1, rtol: 1e-4, atolFraction: 1e-5))
    }

    @Test("LinearLayer: input, weight and bias", arguments: [(5, 3), (4, 1), (6, 10)])
    func linear(_ sizes: (Int, Int)) {
        let (fin, fout) = sizes
        let layer = LinearLayer(weight: randomFloats(fout * fin, seed: 61), bias: randomFloats(fout, seed: 62), outFeatures: fout)
        let input = randomBatch([3, fin], seed: 63)
        let reports = checkLayer("linear \(fin)→\(fout)", layer, input: input, training: true,
                                 step: 0.1, rtol: 1e-3, atolFraction: 1e-4)
        #expect(reports.count == 3)
        expectAll(reports)
    }

    @Test("Backward adds to the gradients it is given (accumulation), it does not overwrite")
    func gradientsAccumulate() {
        var layer = LinearLayer(weight: randomFloats(6, seed: 71), bias: randomFloats(2, seed: 72), outFeatures: 2)
        let y = layer.forward(randomBatch([2, 3], seed: 73), training: true)
        let dy = Batch(shape: y.shape, data: randomFloats(y.data.count, seed: 74))
        var once = zeros(layer.parameters)
        _ = layer.backward(dy, grads: &once)
        var twice = once
        _ = layer.backward(dy, grads: &twice)
        for t in once.indices {
            for i in once[t].indices { #expect(abs(twice[t][i] - 2 * once[t][i]) <= 1e-6 * max(1, abs(once[t][i]))) }
        }
    }
}
