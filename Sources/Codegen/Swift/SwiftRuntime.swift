/// Runtime.swift of every generated Swift package: the early-exit driver with the decision rule
/// of Sources/Runtime/c/eec_runtime.c (run segment k, then exit head k; stop when its confidence
/// logit z ≥ logit(T_k); T = 1 skips the head) and the libm-free exp and log of the C runtime. No Foundation, no allocation, no print: it builds for
/// Embedded Swift.
enum SwiftRuntime {
    static let fileName = "Runtime.swift"

    static let text = #"""
// Runtime.swift: the early-exit driver shared by every network eec compiles to Swift. Do not edit.
//
// The same rule as eec_runtime.c: run segment k, then exit head k; stop when its confidence
// logit z >= the threshold logit logit(T_k), else go on. T = 1 (eecLogitMax) switches exit k
// off, and its head is then not even run. No Foundation, no allocation: builds for Embedded Swift.

/// What one run answered.
public struct EECResult: Equatable, Sendable {
    /// The index of the largest logit (the first on ties, as torch.argmax); eecNoClass (−1)
    /// when one of them is NaN.
    public var classIndex: Int
    /// The exit that answered; `exits` means the final classifier.
    public var exitIndex: Int
    /// z of the answering exit, h = 1 / (1 + e^-z); eecLogitMax for the final classifier.
    public var confidenceLogit: Float
    /// Multiply-accumulates spent: every segment run, and every exit head run.
    public var macs: UInt64
}

/// The largest float: as a threshold logit it switches an exit off (T = 1).
public let eecLogitMax: Float = Float(bitPattern: 0x7f7f_ffff)

/// What the driver needs of a network; the generated enum implements it with one switch per
/// requirement, so the generic driver is specialized into straight calls.
protocol EECNetwork {
    static var exits: Int { get }
    static var classes: Int { get }
    static var inputChannels: Int { get }
    static var inputPixels: Int { get }
    static var inputOffset: Int { get }
    static func segment(_ k: Int, _ w: UnsafePointer<Float>, _ a: UnsafeMutablePointer<Float>)
    static func head(_ k: Int, _ w: UnsafePointer<Float>, _ a: UnsafeMutablePointer<Float>)
    static func segmentMacs(_ k: Int) -> UInt64
    static func headMacs(_ k: Int) -> UInt64
    /// Arena offsets in floats of exit k's class logits (k == exits: the final classifier) and
    /// of its confidence logit.
    static func logitsOffset(_ k: Int) -> Int
    static func confidenceOffset(_ k: Int) -> Int
}

/// Copies the caller's [C][H][W] input into the arena, channels last ([H][W][C]).
@inline(__always)
func eecLoadInput<N: EECNetwork>(_: N.Type, _ input: UnsafePointer<Float>, _ a: UnsafeMutablePointer<Float>) {
    let channels = N.inputChannels, pixels = N.inputPixels
    let x = a + N.inputOffset
    for c in 0..<channels {
        for i in 0..<pixels { x[i &* channels &+ c] = input[c &* pixels &+ i] }
    }
}

/// Index of the largest logit, the first one on ties; eecNoClass when a logit is NaN (a NaN or
/// infinite input propagates: no class rather than a silent class 0), as EEC_NO_CLASS in C.
func eecArgmax(_ logits: UnsafePointer<Float>, _ count: Int) -> Int {
    var best = 0
    for i in 0..<count {
        if logits[i].isNaN { return eecNoClass }
        if logits[i] > logits[best] { best = i }
    }
    return best
}

/// The classIndex of a result whose logits hold a NaN (EEC_NO_CLASS in C).
public let eecNoClass = -1

/// The result of exit k (k == exits: the final classifier), its logits copied out if asked.
func eecAnswer<N: EECNetwork>(_: N.Type, _ a: UnsafeMutablePointer<Float>, _ k: Int, _ z: Float, _ macs: UInt64,
                              _ logits: UnsafeMutablePointer<Float>?) -> EECResult {
    let answer = UnsafePointer(a + N.logitsOffset(k))
    if let logits {
        for i in 0..<N.classes { logits[i] = answer[i] }
    }
    return EECResult(classIndex: eecArgmax(answer, N.classes), exitIndex: k, confidenceLogit: z, macs: macs)
}

/// One early-exit run (eec_run).
func eecRun<N: EECNetwork>(_ n: N.Type, weights: UnsafePointer<Float>, input: UnsafePointer<Float>,
                           arena a: UnsafeMutablePointer<Float>, thresholdLogits t: UnsafePointer<Float>,
                           logits: UnsafeMutablePointer<Float>?) -> EECResult {
    var macs: UInt64 = 0
    eecLoadInput(n, input, a)
    for k in 0..<N.exits {
        N.segment(k, weights, a)
        macs &+= N.segmentMacs(k)
        // An exit switched off (T = 1) costs nothing: its head is not run.
        if t[k] >= eecLogitMax { continue }
        N.head(k, weights, a)
        macs &+= N.headMacs(k)
        let z = a[N.confidenceOffset(k)]
        // h >= T  <=>  z >= logit(T); a NaN confidence never exits.
        if z >= t[k] { return eecAnswer(n, a, k, z, macs, logits) }
    }
    N.segment(N.exits, weights, a)
    macs &+= N.segmentMacs(N.exits)
    return eecAnswer(n, a, N.exits, eecLogitMax, macs, logits)
}

/// Every exit and the final classifier (eec_run_all): logits [(exits + 1) * classes], one
/// confidence logit per exit.
func eecRunAll<N: EECNetwork>(_ n: N.Type, weights: UnsafePointer<Float>, input: UnsafePointer<Float>,
                              arena a: UnsafeMutablePointer<Float>, logits: UnsafeMutablePointer<Float>,
                              confidenceLogits: UnsafeMutablePointer<Float>?) {
    eecLoadInput(n, input, a)
    for k in 0...N.exits {
        N.segment(k, weights, a)
        if k < N.exits {
            N.head(k, weights, a)
            confidenceLogits?[k] = a[N.confidenceOffset(k)]
        }
        let answer = a + N.logitsOffset(k)
        for i in 0..<N.classes { logits[k &* N.classes &+ i] = answer[i] }
    }
}

/// 2^k for k in [-126, 127], built from its exponent bits. Integers here are Int and shifts
/// masking (`&<<`): Float(Int32) and the smart shifts go through BinaryInteger.words, which
/// allocates, and -no-allocations embedded builds reject that.
@inline(__always)
func eecPow2(_ k: Int) -> Float { Float(bitPattern: UInt32(truncatingIfNeeded: k &+ 127) &<< 23) }

/// e^x without libm (eec_expf): x = k ln2 + r with |r| <= ln2/2 (ln2 split in two so k ln2 is
/// exact), then e^x = 2^k e^r with e^r by its Taylor series to r^7.
func eecExp(_ x: Float) -> Float {
    let ln2Hi: Float = 0x1.62e4p-1, ln2Lo: Float = 0x1.7f7d1cp-20, log2e: Float = 0x1.715476p+0
    if x.isNaN { return x }
    if x > 0x1.62e42ep+6 { return .infinity }
    if x < -0x1.9fe368p+6 { return 0 }
    let t = x * log2e
    let k = Int(t < 0 ? t - 0.5 : t + 0.5)
    let r = (x - Float(k) * ln2Hi) - Float(k) * ln2Lo
    var p: Float = 0x1.a01a02p-13
    p = 0x1.6c16c2p-10 + r * p
    p = 0x1.111112p-7 + r * p
    p = 0x1.555556p-5 + r * p
    p = 0x1.555556p-3 + r * p
    p = 0x1p-1 + r * p
    p = 1 + r * p
    p = 1 + r * p
    // k is in [-150, 128]: scale in two steps so that neither power leaves the normal range.
    let half = k / 2
    return p * eecPow2(half) * eecPow2(k - half)
}

/// ln x for a positive finite x (eec_logf): x = m 2^e with m in [sqrt(1/2), sqrt(2)), then
/// ln m = 2 atanh(s), s = (m - 1) / (m + 1), by its series to s^13.
func eecLog(_ x: Float) -> Float {
    let ln2: Float = 0x1.62e430p-1
    var bits = x.bitPattern
    var e = 0
    if bits < 0x0080_0000 { // subnormal: scale into the normal range first
        bits = (x * 0x1p+24).bitPattern
        e = -24
    }
    e += Int(bits &>> 23) - 127
    var m = Float(bitPattern: (bits & 0x007f_ffff) | 0x3f80_0000)
    if m > 0x1.6a09e6p+0 {
        m *= 0.5
        e += 1
    }
    let s = (m - 1) / (m + 1)
    let s2 = s * s
    var q: Float = 0x1.3b13b2p-4
    q = 0x1.745d18p-4 + s2 * q
    q = 0x1.c71c72p-4 + s2 * q
    q = 0x1.24924ap-3 + s2 * q
    q = 0x1.99999ap-3 + s2 * q
    q = 0x1.555556p-2 + s2 * q
    q = 1 + s2 * q
    return Float(e) * ln2 + 2 * s * q
}

/// logit(T) = ln(T / (1 - T)) without libm: T <= 0 always exits, T >= 1 (or NaN) never does.
public func eecThresholdLogit(_ threshold: Float) -> Float {
    if threshold.isNaN { return eecLogitMax }
    if threshold <= 0 { return -eecLogitMax }
    if threshold >= 1 { return eecLogitMax }
    return eecLog(threshold / (1 - threshold))
}

/// a += x * w, fused where that is an instruction. Baseline x86-64 has no FMA unit, so a fused
/// multiply-add there is a libm call per lane (100x slower): it multiplies and adds unless the
/// build says the CPU has one (`-Xswiftc -DEEC_FMA -Xswiftc -target-cpu -Xswiftc native`), as
/// clang's -march=native contracts the C. ARM (arm64, Cortex-M4F) always fuses. Concrete
/// overloads, not one generic: an unspecialized generic allocates in embedded builds.
@inline(__always)
func eecFMA(_ a: inout SIMD16<Float>, _ x: Float, _ w: SIMD16<Float>) {
    #if arch(x86_64) && !EEC_FMA
    a += x * w
    #else
    a.addProduct(x, w)
    #endif
}

@inline(__always)
func eecFMA(_ a: inout SIMD8<Float>, _ x: Float, _ w: SIMD8<Float>) {
    #if arch(x86_64) && !EEC_FMA
    a += x * w
    #else
    a.addProduct(x, w)
    #endif
}

@inline(__always)
func eecFMA(_ a: inout SIMD4<Float>, _ x: Float, _ w: SIMD4<Float>) {
    #if arch(x86_64) && !EEC_FMA
    a += x * w
    #else
    a.addProduct(x, w)
    #endif
}

@inline(__always)
func eecFMA(_ a: inout Float, _ x: Float, _ w: Float) {
    #if arch(x86_64) && !EEC_FMA
    a += x * w
    #else
    a.addProduct(x, w)
    #endif
}

/// Decodes `count` floats written as 8 lowercase hex digits each (their bit patterns) into `out`:
/// the weights' form in Weights.swift, which compiles in seconds where an array literal of a
/// million floats takes minutes to type-check.
func eecDecodeHex(_ text: StaticString, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
    let p = text.utf8Start
    for i in 0..<count {
        var bits: UInt32 = 0
        for j in 0..<8 {
            let c = UInt32(p[i &* 8 &+ j])
            bits = bits &<< 4 | (c < 58 ? c &- 48 : c &- 87)
        }
        out[i] = Float(bitPattern: bits)
    }
}

"""#
}
