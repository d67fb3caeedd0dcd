import Foundation

/// A trainable layer of an exit head. `forward` keeps what `backward` needs; `backward` takes
/// the gradient of the loss with respect to the output, adds the parameter gradients to `grads`
/// (same order as `parameters`) and returns the gradient with respect to the input.
protocol Layer {
    var parameters: [[Float]] { get set }
    mutating func forward(_ x: Batch, training: Bool) -> Batch
    mutating func backward(_ dy: Batch, grads: inout [[Float]]) -> Batch
}

/// 2-D convolution, stride s, symmetric zero padding, no groups or dilation; optional bias.
/// Loops run over output rows with the in-bounds column range computed once, so the innermost
/// loop is a plain, vectorizable axpy.
struct ConvLayer: Layer {
    var parameters: [[Float]]
    let outChannels: Int, kernel: Int, stride: Int, pad: Int
    private var input = Batch(zeros: [1])

    init(weight: [Float], bias: [Float]?, outChannels: Int, kernel: Int, stride: Int = 1, pad: Int) {
        parameters = bias.map { [weight, $0] } ?? [weight]
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.pad = pad
    }

    func outputSize(_ size: Int) -> Int { (size + 2 * pad - kernel) / stride + 1 }

    /// The output columns ox whose input column ox·s + kx − pad is inside [0, width).
    static func columns(kx: Int, width: Int, outWidth: Int, stride: Int, pad: Int) -> Range<Int> {
        let dx = kx - pad
        let low = dx >= 0 ? 0 : (-dx + stride - 1) / stride
        let high = min(outWidth, width - dx <= 0 ? 0 : (width - dx - 1) / stride + 1)
        return low..<max(low, high)
    }

    mutating func forward(_ x: Batch, training: Bool) -> Batch {
        input = x
        let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (ho, wo, cout, k, s, p) = (outputSize(h), outputSize(w), outChannels, kernel, stride, pad)
        var y = Batch(zeros: [n, cout, ho, wo])
        let weight = parameters[0], bias = parameters.count > 1 ? parameters[1] : nil
        withShared(x.data) { xp in withShared(weight) { wp in withShared(&y.data) { yp in
            parallelChunks(n) { range, _ in
                for b in range {
                    for o in 0..<cout {
                        let out = ((b * cout) + o) * ho * wo
                        if let bias { for i in 0..<(ho * wo) { yp[out + i] = bias[o] } }
                        for c in 0..<cin {
                            let inBase = (b * cin + c) * h * w
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let weightValue = wp[((o * cin + c) * k + ky) * k + kx]
                                    let cols = ConvLayer.columns(kx: kx, width: w, outWidth: wo, stride: s, pad: p)
                                    for oy in 0..<ho {
                                        let iy = oy * s + ky - p
                                        if iy < 0 || iy >= h { continue }
                                        let row = inBase + iy * w + kx - p, outRow = out + oy * wo
                                        if s == 1 {
                                            axpy(weightValue, xp.base + row, yp.base + outRow, cols)
                                        } else {
                                            for ox in cols { yp[outRow + ox] += weightValue * xp[row + ox * s] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        } } }
        return y
    }

    mutating func backward(_ dy: Batch, grads: inout [[Float]]) -> Batch {
        let x = input
        let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (ho, wo, cout, k, s, p) = (dy.shape[2], dy.shape[3], outChannels, kernel, stride, pad)
        var dx = Batch(zeros: x.shape)
        let chunks = chunkCount(n)
        // One weight-gradient partial per chunk, summed in chunk order (deterministic).
        var partialW = [Float](repeating: 0, count: chunks * parameters[0].count)
        let weightCount = parameters[0].count
        let weight = parameters[0]
        withShared(x.data) { xp in withShared(dy.data) { gp in withShared(weight) { wp in
            withShared(&dx.data) { dxp in withShared(&partialW) { pw in
                parallelChunks(n) { range, chunk in
                    for b in range {
                        for o in 0..<cout {
                            let out = (b * cout + o) * ho * wo
                            for c in 0..<cin {
                                let inBase = (b * cin + c) * h * w
                                for ky in 0..<k {
                                    for kx in 0..<k {
                                        let wIndex = ((o * cin + c) * k + ky) * k + kx
                                        let weightValue = wp[wIndex]
                                        let cols = ConvLayer.columns(kx: kx, width: w, outWidth: wo, stride: s, pad: p)
                                        var gradient: Float = 0
                                        for oy in 0..<ho {
                                            let iy = oy * s + ky - p
                                            if iy < 0 || iy >= h { continue }
                                            let row = inBase + iy * w + kx - p, outRow = out + oy * wo
                                            if s == 1 {
                                                gradient += dot(gp.base + outRow, xp.base + row, cols)
                                                axpy(weightValue, gp.base + outRow, dxp.base + row, cols)
                                            } else {
                                                for ox in cols {
                                                    let g = gp[outRow + ox]
                                                    gradient += g * xp[row + ox * s]
                                                    dxp[row + ox * s] += weightValue * g
                                                }
                                            }
                                        }
                                        pw[chunk * weightCount + wIndex] += gradient
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        } } }
        for chunk in 0..<chunks {
            for i in 0..<weightCount { grads[0][i] += partialW[chunk * weightCount + i] }
        }
        if parameters.count > 1 {
            for b in 0..<n {
                for o in 0..<cout {
                    var sum: Float = 0
                    for i in 0..<(ho * wo) { sum += dy.data[(b * cout + o) * ho * wo + i] }
                    grads[1][o] += sum
                }
            }
        }
        return dx
    }
}

/// BatchNorm over N, H, W per channel. Training uses the batch's statistics and updates the
/// running ones as PyTorch does (momentum 0.1, unbiased variance); evaluation uses the running ones.
struct BatchNormLayer: Layer {
    var parameters: [[Float]]
    var runningMean: [Float]
    var runningVar: [Float]
    let eps: Double
    let momentum: Double = 0.1
    private var normalized = Batch(zeros: [1])
    private var inverseStd: [Double] = []
    /// Whether the last forward used the batch's statistics (they then depend on the input).
    private var usedBatchStatistics = true

    init(weight: [Float], bias: [Float], runningMean: [Float], runningVar: [Float], eps: Double) {
        parameters = [weight, bias]
        self.runningMean = runningMean
        self.runningVar = runningVar
        self.eps = eps
    }

    mutating func forward(_ x: Batch, training: Bool) -> Batch {
        let (n, c) = (x.shape[0], x.shape[1])
        let plane = x.stride / c
        let m = Double(n * plane)
        var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 0, count: c)
        if training {
            for ch in 0..<c {
                var sum = 0.0, squares = 0.0
                for b in 0..<n {
                    let base = (b * c + ch) * plane
                    for i in base..<(base + plane) {
                        let v = Double(x.data[i])
                        sum += v
                        squares += v * v
                    }
                }
                mean[ch] = sum / m
                variance[ch] = max(0, squares / m - mean[ch] * mean[ch])
                runningMean[ch] = Float((1 - momentum) * Double(runningMean[ch]) + momentum * mean[ch])
                let unbiased = m > 1 ? variance[ch] * m / (m - 1) : variance[ch]
                runningVar[ch] = Float((1 - momentum) * Double(runningVar[ch]) + momentum * unbiased)
            }
        } else {
            mean = runningMean.map(Double.init)
            variance = runningVar.map(Double.init)
        }
        inverseStd = variance.map { 1 / ($0 + eps).squareRoot() }
        usedBatchStatistics = training
        var xhat = Batch(zeros: x.shape), y = Batch(zeros: x.shape)
        for b in 0..<n {
            for ch in 0..<c {
                let base = (b * c + ch) * plane
                let (mu, inv) = (mean[ch], inverseStd[ch])
                let (gamma, beta) = (Double(parameters[0][ch]), Double(parameters[1][ch]))
                for i in base..<(base + plane) {
                    let v = (Double(x.data[i]) - mu) * inv
                    xhat.data[i] = Float(v)
                    y.data[i] = Float(v * gamma + beta)
                }
            }
        }
        normalized = xhat
        return y
    }

    /// Training-mode gradient: dx = inv/M · (M·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)), with dx̂ = dy·γ; after an
    /// evaluation-mode forward the statistics are constants and dx = inv·dx̂.
    mutating func backward(_ dy: Batch, grads: inout [[Float]]) -> Batch {
        let (n, c) = (dy.shape[0], dy.shape[1])
        let plane = dy.stride / c
        let m = Double(n * plane)
        var dx = Batch(zeros: dy.shape)
        for ch in 0..<c {
            var sumDy = 0.0, sumDyXhat = 0.0
            for b in 0..<n {
                let base = (b * c + ch) * plane
                for i in base..<(base + plane) {
                    sumDy += Double(dy.data[i])
                    sumDyXhat += Double(dy.data[i]) * Double(normalized.data[i])
                }
            }
            grads[0][ch] += Float(sumDyXhat)
            grads[1][ch] += Float(sumDy)
            let gamma = Double(parameters[0][ch]), inv = inverseStd[ch]
            for b in 0..<n {
                let base = (b * c + ch) * plane
                for i in base..<(base + plane) {
                    let g = Double(dy.data[i]), xh = Double(normalized.data[i])
                    dx.data[i] = usedBatchStatistics ? Float(gamma * inv / m * (m * g - sumDy - xh * sumDyXhat)) : Float(gamma * inv * g)
                }
            }
        }
        return dx
    }
}

struct ReLULayer: Layer {
    var parameters: [[Float]] = []
    private var mask: [Bool] = []

    mutating func forward(_ x: Batch, training: Bool) -> Batch {
        mask = x.data.map { $0 > 0 }
        return Batch(shape: x.shape, data: x.data.map { max($0, 0) })
    }

    mutating func backward(_ dy: Batch, grads: inout [[Float]]) -> Batch {
        Batch(shape: dy.shape, data: zip(dy.data, mask).map { $1 ? $0 : 0 })
    }
}

/// Global average pool and flatten in one: [N, C, H, W] → [N, C].
struct GlobalPoolLayer: Layer {
    var parameters: [[Float]] = []
    private var inputShape: [Int] = []

    mutating func forward(_ x: Batch, training: Bool) -> Batch {
        inputShape = x.shape
        let (n, c) = (x.shape[0], x.shape[1])
        let plane = x.stride / c
        var y = Batch(zeros: [n, c])
        for i in 0..<(n * c) {
            var sum = 0.0
            for j in (i * plane)..<((i + 1) * plane) { sum += Double(x.data[j]) }
            y.data[i] = Float(sum / Double(plane))
        }
        return y
    }

    mutating func backward(_ dy: Batch, grads: inout [[Float]]) -> Batch {
        let plane = inputShape.dropFirst(2).reduce(1, *)
        var dx = Batch(zeros: inputShape)
        for i in 0..<dy.data.count {
            let g = dy.data[i] / Float(plane)
            for j in (i * plane)..<((i + 1) * plane) { dx.data[j] = g }
        }
        return dx
    }
}

/// Flatten [N, ...] → [N, features] (C order); no work, only the shape changes.
struct FlattenLayer: Layer {
    var parameters: [[Float]] = []
    private var inputShape: [Int] = []

    mutating func forward(_ x: Batch, training: Bool) -> Batch {
        inputShape = x.shape
        return Batch(shape: [x.shape[0], x.stride], data: x.data)
    }

    mutating func backward(_ dy: Batch, grads: inout [[Float]]) -> Batch {
        Batch(shape: inputShape, data: dy.data)
    }
}

/// y = x·Wᵀ + b, W of shape [out, in]; float64 dot products.
struct LinearLayer: Layer {
    var parameters: [[Float]]
    let outFeatures: Int
    private var input = Batch(zeros: [1])

    init(weight: [Float], bias: [Float], outFeatures: Int) {
        parameters = [weight, bias]
        self.outFeatures = outFeatures
    }

    mutating func forward(_ x: Batch, training: Bool) -> Batch {
        input = x
        let (n, fin, fout) = (x.shape[0], x.shape[1], outFeatures)
        var y = Batch(zeros: [n, fout])
        for b in 0..<n {
            for o in 0..<fout {
                var acc = Double(parameters[1][o])
                for i in 0..<fin { acc += Double(x.data[b * fin + i]) * Double(parameters[0][o * fin + i]) }
                y.data[b * fout + o] = Float(acc)
            }
        }
        return y
    }

    mutating func backward(_ dy: Batch, grads: inout [[Float]]) -> Batch {
        let (n, fin, fout) = (input.shape[0], input.shape[1], outFeatures)
        var dx = Batch(zeros: input.shape)
        for b in 0..<n {
            for o in 0..<fout {
                let g = dy.data[b * fout + o]
                grads[1][o] += g
                for i in 0..<fin {
                    grads[0][o * fin + i] += g * input.data[b * fin + i]
                    dx.data[b * fin + i] += g * parameters[0][o * fin + i]
                }
            }
        }
        return dx
    }
}

/// y[i] += a · x[i] for i in `range` (vectorized by the compiler: no aliasing between x and y in
/// the callers' use, and unit stride).
@inline(__always)
func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ range: Range<Int>) {
    var i = range.lowerBound
    while i + 8 <= range.upperBound {
        let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: yv + a * xv, as: SIMD8<Float>.self)
        i += 8
    }
    while i < range.upperBound {
        y[i] += a * x[i]
        i += 1
    }
}

/// Σ a[i]·b[i] over `range`, in eight lanes (a fixed order, so results are reproducible).
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ range: Range<Int>) -> Float {
    var lanes = SIMD8<Float>()
    var i = range.lowerBound
    while i + 8 <= range.upperBound {
        lanes += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var sum = lanes.sum()
    while i < range.upperBound {
        sum += a[i] * b[i]
        i += 1
    }
    return sum
}
