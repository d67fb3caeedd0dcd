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

    /// Visits every row of the lowered columns of one sample: `cols[(c·k + ky)·k + kx][oy·wo + ox]`
    /// is the input value that tap (ky, kx) of output pixel (oy, ox) reads from channel c.
    /// `body` gets the row's offset in the columns, the offset of its first input value (nil
    /// when the whole row lies in the padding) and the output columns inside the input.
    static func forEachRow(cin: Int, h: Int, w: Int, k: Int, s: Int, p: Int, ho: Int, wo: Int,
                           _ body: (_ row: Int, _ source: Int?, _ inside: Range<Int>) -> Void) {
        for c in 0..<cin {
            for ky in 0..<k {
                for kx in 0..<k {
                    let inside = columns(kx: kx, width: w, outWidth: wo, stride: s, pad: p)
                    for oy in 0..<ho {
                        let iy = oy * s + ky - p
                        let valid = iy >= 0 && iy < h && !inside.isEmpty
                        body((((c * k + ky) * k + kx) * ho + oy) * wo, valid ? (c * h + iy) * w + kx - p : nil, inside)
                    }
                }
            }
        }
    }

    /// Lowers one sample to columns (zero in the padding), so the convolution is a matrix product
    /// over long rows (ho·wo values), which vectorizes far better than the feature map's short rows.
    static func lower(_ x: UnsafePointer<Float>, cin: Int, h: Int, w: Int, k: Int, s: Int, p: Int, ho: Int, wo: Int,
                      into cols: UnsafeMutablePointer<Float>) {
        forEachRow(cin: cin, h: h, w: w, k: k, s: s, p: p, ho: ho, wo: wo) { row, source, inside in
            let out = cols + row
            guard let source else {
                out.update(repeating: 0, count: wo)
                return
            }
            if inside.lowerBound > 0 { out.update(repeating: 0, count: inside.lowerBound) }
            if inside.upperBound < wo { (out + inside.upperBound).update(repeating: 0, count: wo - inside.upperBound) }
            for ox in inside { out[ox] = x[source + ox * s] }
        }
    }

    /// The adjoint of `lower`: adds each column entry back to the input value it was read from.
    static func raise(_ cols: UnsafePointer<Float>, cin: Int, h: Int, w: Int, k: Int, s: Int, p: Int, ho: Int, wo: Int,
                      into dx: UnsafeMutablePointer<Float>) {
        forEachRow(cin: cin, h: h, w: w, k: k, s: s, p: p, ho: ho, wo: wo) { row, source, inside in
            guard let source else { return }
            for ox in inside { dx[source + ox * s] += cols[row + ox] }
        }
    }

    mutating func forward(_ x: Batch, training: Bool) -> Batch {
        input = x
        let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (ho, wo, cout, k, s, p) = (outputSize(h), outputSize(w), outChannels, kernel, stride, pad)
        let (plane, taps) = (ho * wo, cin * k * k)
        var y = Batch(zeros: [n, cout, ho, wo])
        let weight = parameters[0], bias = parameters.count > 1 ? parameters[1] : nil
        withShared(x.data) { xp in withShared(weight) { wp in withShared(&y.data) { yp in
            parallelChunks(n) { range, _ in
                let cols = UnsafeMutablePointer<Float>.allocate(capacity: max(1, taps * plane))
                defer { cols.deallocate() }
                for b in range {
                    ConvLayer.lower(xp.base + b * cin * h * w, cin: cin, h: h, w: w, k: k, s: s, p: p, ho: ho, wo: wo, into: cols)
                    // y[o] = bias[o] + Σ_t weight[o][t] · cols[t], four output channels per pass over cols.
                    var o = 0
                    while o < cout {
                        let group = min(4, cout - o)
                        let out = yp.base + (b * cout + o) * plane
                        if let bias { for g in 0..<group { (out + g * plane).update(repeating: bias[o + g], count: plane) } }
                        for t in 0..<taps {
                            var a = SIMD4<Float>()
                            for g in 0..<group { a[g] = wp[(o + g) * taps + t] }
                            axpy4(a, group, UnsafePointer(cols + t * plane), out, stride: plane, count: plane)
                        }
                        o += group
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
        let (plane, taps) = (ho * wo, cin * k * k)
        var dx = Batch(zeros: x.shape)
        let chunks = chunkCount(n)
        // One weight-gradient partial per chunk, summed in chunk order (deterministic).
        var partialW = [Float](repeating: 0, count: chunks * parameters[0].count)
        let weightCount = parameters[0].count
        let weight = parameters[0]
        withShared(x.data) { xp in withShared(dy.data) { gp in withShared(weight) { wp in
            withShared(&dx.data) { dxp in withShared(&partialW) { pw in
                parallelChunks(n) { range, chunk in
                    let cols = UnsafeMutablePointer<Float>.allocate(capacity: max(1, taps * plane))
                    let dcols = UnsafeMutablePointer<Float>.allocate(capacity: max(1, taps * plane))
                    defer { cols.deallocate(); dcols.deallocate() }
                    for b in range {
                        ConvLayer.lower(xp.base + b * cin * h * w, cin: cin, h: h, w: w, k: k, s: s, p: p, ho: ho, wo: wo, into: cols)
                        let g = gp.base + b * cout * plane
                        // dW[o][t] += dy[o] · cols[t];  dcols[t] = Σ_o W[o][t] · dy[o].
                        for t in 0..<taps {
                            let column = UnsafePointer(cols + t * plane)
                            let dcolumn = dcols + t * plane
                            dcolumn.update(repeating: 0, count: plane)
                            for o in 0..<cout {
                                let row = g + o * plane
                                pw[chunk * weightCount + o * taps + t] += dot(row, column, 0..<plane)
                                axpy(wp[o * taps + t], row, dcolumn, 0..<plane)
                            }
                        }
                        ConvLayer.raise(dcols, cin: cin, h: h, w: w, k: k, s: s, p: p, ho: ho, wo: wo, into: dxp.base + b * cin * h * w)
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

/// y = x·Wᵀ + b, W of shape [out, in]. Eight-lane dot products accumulated in float64 (a fixed
/// order, so results are reproducible; float64 so a `plain` head's 16,384-term sums stay within
/// 1e-4 of the reference interpreter): exit heads at every candidate of a ResNet train ~20 G
/// MACs per epoch on 25,000 samples, too slow in scalar code.
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
        let bias = parameters[1]
        parameters[0].withUnsafeBufferPointer { w in
            x.data.withUnsafeBufferPointer { xs in
                y.data.withUnsafeMutableBufferPointer { ys in
                    guard let wp = w.baseAddress, let xp = xs.baseAddress, let yp = ys.baseAddress else { return }
                    for b in 0..<n {
                        for o in 0..<fout { yp[b * fout + o] = Float(Double(bias[o]) + dot64(xp + b * fin, wp + o * fin, count: fin)) }
                    }
                }
            }
        }
        return y
    }

    mutating func backward(_ dy: Batch, grads: inout [[Float]]) -> Batch {
        let (n, fin, fout) = (input.shape[0], input.shape[1], outFeatures)
        var dx = Batch(zeros: input.shape)
        for b in 0..<n { for o in 0..<fout { grads[1][o] += dy.data[b * fout + o] } }
        parameters[0].withUnsafeBufferPointer { w in
            input.data.withUnsafeBufferPointer { xs in
                grads[0].withUnsafeMutableBufferPointer { gw in
                    dx.data.withUnsafeMutableBufferPointer { dxs in
                        guard let wp = w.baseAddress, let xp = xs.baseAddress, let gp = gw.baseAddress, let dxp = dxs.baseAddress else { return }
                        for b in 0..<n {
                            for o in 0..<fout {
                                let g = dy.data[b * fout + o]
                                if g == 0 { continue }
                                // dW[o] += g · x[b];  dx[b] += g · W[o].
                                axpy(g, xp + b * fin, gp + o * fin, 0..<fin)
                                axpy(g, wp + o * fin, dxp + b * fin, 0..<fin)
                            }
                        }
                    }
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

/// y_g[i] += a[g]·x[i] for the first `group` (1...4) of four rows y_g = y + g·stride, i < count:
/// each x vector loaded once for all rows.
@inline(__always)
func axpy4(_ a: SIMD4<Float>, _ group: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, stride: Int, count: Int) {
    if group < 4 {
        for g in 0..<group { axpy(a[g], x, y + g * stride, 0..<count) }
        return
    }
    let (y0, y1, y2, y3) = (y, y + stride, y + 2 * stride, y + 3 * stride)
    var i = 0
    while i + 8 <= count {
        let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        update(y0 + i, a[0], xv)
        update(y1 + i, a[1], xv)
        update(y2 + i, a[2], xv)
        update(y3 + i, a[3], xv)
        i += 8
    }
    while i < count {
        y0[i] += a[0] * x[i]; y1[i] += a[1] * x[i]; y2[i] += a[2] * x[i]; y3[i] += a[3] * x[i]
        i += 1
    }
}

/// y[0..<8] += a·xv.
@inline(__always)
private func update(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ xv: SIMD8<Float>) {
    let yv = UnsafeRawPointer(y).loadUnaligned(as: SIMD8<Float>.self)
    UnsafeMutableRawPointer(y).storeBytes(of: yv + a * xv, as: SIMD8<Float>.self)
}

/// Σ a[i]·b[i] for i < count, in eight float64 lanes (a fixed order, so results are reproducible).
@inline(__always)
func dot64(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
    var lanes = SIMD8<Double>()
    var i = 0
    while i + 8 <= count {
        let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
        let y = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        lanes += SIMD8<Double>(x) * SIMD8<Double>(y)
        i += 8
    }
    var sum = lanes.sum()
    while i < count {
        sum += Double(a[i]) * Double(b[i])
        i += 1
    }
    return sum
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
