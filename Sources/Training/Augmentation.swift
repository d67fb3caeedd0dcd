import IR

/// More unlabelled samples from the ones at hand, as the reference code trains with
/// torchvision's `RandomCrop(32, padding=4)` and `RandomHorizontalFlip()`: each copy of an image
/// is flipped left-right with probability 1/2 and shifted by up to `shift` pixels each way, the
/// uncovered border filled as a black pixel would be after normalization.
///
/// Labels stay free: the backbone labels every copy itself, so a few thousand images go further
/// while the heads still learn nothing but the backbone's own behaviour.
public struct Augmentation: Sendable {
    /// Copies made of each sample (0: none).
    public var copies: Int
    public var shift: Int
    public var seed: UInt64

    public init(copies: Int, shift: Int = 4, seed: UInt64 = 0) {
        self.copies = copies
        self.shift = shift
        self.seed = seed
    }

    /// `inputs` (each [1, C, H, W]) followed by `copies` augmented copies of each, copy by copy.
    /// `fill` is the value of a black pixel per channel (−mean/std when normalized, else 0).
    public func apply(_ inputs: [Tensor], fill: [Float]) -> [Tensor] {
        var rng = SplitMix64(seed: seed ^ 0x6175_676D)
        var out = inputs
        out.reserveCapacity(inputs.count * (copies + 1))
        for _ in 0..<copies {
            for x in inputs {
                let flip = rng.next() & 1 == 1
                let span = UInt64(2 * shift + 1)
                let dy = Int(rng.next() % span) - shift, dx = Int(rng.next() % span) - shift
                out.append(Augmentation.transform(x, flip: flip, dy: dy, dx: dx, fill: fill))
            }
        }
        return out
    }

    /// out[c, y, x] = in[c, y + dy, x' + dx] with x' = W−1−x when flipped (the flip comes first,
    /// then the crop window moves), `fill[c]` outside the image.
    static func transform(_ x: Tensor, flip: Bool, dy: Int, dx: Int, fill: [Float]) -> Tensor {
        let (c, h, w) = (x.shape[x.shape.count - 3], x.shape[x.shape.count - 2], x.shape[x.shape.count - 1])
        var data = [Float](repeating: 0, count: x.data.count)
        for ch in 0..<c {
            let value = ch < fill.count ? fill[ch] : 0
            for row in 0..<h {
                for col in 0..<w {
                    let sy = row + dy, sx = col + dx
                    let inside = sy >= 0 && sy < h && sx >= 0 && sx < w
                    let source = flip ? w - 1 - sx : sx
                    data[(ch * h + row) * w + col] = inside ? x.data[(ch * h + sy) * w + source] : value
                }
            }
        }
        return Tensor(shape: x.shape, data: data)
    }
}
