import IR

/// The memory layout every backend uses (the lowered program packs weights for it), chosen so
/// that an optimizing compiler (clang -O3 for the C) vectorizes every hot loop without intrinsics:
///
/// - Activations are channels last: a `[1, C, H, W]` value is stored `[H][W][C]`. A pixel's
///   channels are contiguous, so a convolution's innermost loop runs over output channels with
///   unit stride (one SIMD register holds 16 of them with AVX-512), and concat, channel padding,
///   BatchNorm and pooling are per-pixel loops over contiguous channels. `[1, F]` values
///   (flattened features, logits) are stored as they are.
/// - Convolution weights are `[group][block][kh][kw][in][out-in-block]`: output channels are cut
///   into blocks of 16 to 64, and within a block the weights of one (kh, kw, in) tap are one
///   contiguous vector, read once per tile and reused for all its pixels.
/// - The convolution loop order is: output row, then the input rows it reads are copied, with
///   their zero padding, into a small window (so no tap needs a bounds check), then for each
///   block of output channels tiles of up to 8 output pixels: each tile keeps one accumulator
///   vector per pixel and channel sub-block in registers, and walks kh, kw, in with one weight
///   vector load and one broadcast-multiply-add per pixel. Every bound and stride is a constant.
/// - Linear weights are transposed to `[in][out]`, so the inner loop also runs over outputs.
/// - A standalone BatchNorm becomes a per-channel scale and shift.
///
/// The arena is the memory plan's (`MemoryPlan`, greedy by size over the segmented schedule)
/// followed by the largest convolution window.
enum KernelLayout {
    /// Output channels per block, and output pixels per tile, for a convolution whose output rows
    /// have `pixels` pixels and whose groups have `channels` output channels: about 8 vector
    /// accumulators of 16 floats per tile (8 pixels × 16 channels, 4 × 32, 2 × 64), enough
    /// independent multiply-adds to hide their latency, few enough to stay in registers.
    static func convTiling(pixels: Int, channels: Int) -> (pixels: Int, block: Int) {
        let p = min(8, max(1, pixels))
        var block = 16 * min(4, max(1, 8 / p))
        while block > 16 && block > channels { block /= 2 }
        return (p, min(block, channels))
    }

    /// OIHW conv weights `[out, in/groups, kh, kw]` → `[group][block][kh][kw][in][out-in-block]`.
    static func packConv(_ w: Tensor, groups: Int, block: Int) -> [Float] {
        let (out, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let ocg = out / groups
        var packed: [Float] = []
        packed.reserveCapacity(w.count)
        w.data.withUnsafeBufferPointer { src in
            for g in 0..<groups {
                for start in stride(from: 0, to: ocg, by: block) {
                    let size = min(block, ocg - start)
                    for ky in 0..<kh {
                        for kx in 0..<kw {
                            for c in 0..<cg {
                                for o in 0..<size {
                                    let oc = g * ocg + start + o
                                    packed.append(src[((oc * cg + c) * kh + ky) * kw + kx])
                                }
                            }
                        }
                    }
                }
            }
        }
        return packed
    }

    /// `[out, in]` → `[in][out]`.
    static func transpose(_ w: Tensor) -> [Float] {
        let (out, inputs) = (w.shape[0], w.shape[1])
        var t = [Float](repeating: 0, count: w.count)
        for o in 0..<out {
            for i in 0..<inputs { t[i * out + o] = w.data[o * inputs + i] }
        }
        return t
    }

    /// Inference BatchNorm as y = x · scale + shift per channel, computed in float64:
    /// scale = γ / √(σ² + ε), shift = β − μ · scale.
    static func batchNormScaleShift(_ p: [Tensor], eps: Double) -> (scale: [Float], shift: [Float]) {
        let (gamma, beta, mean, variance) = (p[0], p[1], p[2], p[3])
        var scale: [Float] = [], shift: [Float] = []
        for c in 0..<gamma.count {
            let s = Double(gamma.data[c]) / (Double(variance.data[c]) + eps).squareRoot()
            scale.append(Float(s))
            shift.append(Float(Double(beta.data[c]) - Double(mean.data[c]) * s))
        }
        return (scale, shift)
    }
}
