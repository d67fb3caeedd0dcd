/// Network inputs and labels from `.npy` arrays.
///
/// Accepted image layouts, for a network input of shape [1,C,H,W]:
/// - uint8 [N,H,W,C] (or [N,H,W] when C = 1), raw pixels as stored by most datasets. Converted exactly
///   as torchvision's `ToTensor` does: `Float(p) / 255` in float32, HWC → CHW.
/// - float32 [N,C,H,W] (any [N, sample...] in general), already preprocessed: values are used as is.
///
/// A `Normalization`, when given, is then applied per channel in float32 as `Normalize` does
/// (`x.sub_(mean).div_(std)`), to either layout: it is the caller's statement of what preprocessing the
/// network expects, so it is applied only when given, never guessed.
public enum ImageBatch {
    /// Per-channel mean and standard deviation, as in `torchvision.transforms.Normalize(mean, std)`.
    public struct Normalization: Equatable, Sendable {
        public var mean: [Float]
        public var std: [Float]

        public init(mean: [Float], std: [Float]) {
            self.mean = mean
            self.std = std
        }

        /// Per channel, what a black pixel (0) becomes: −mean/std. Padding added to a raw image
        /// before normalizing, as torchvision's `RandomCrop(padding=)` does, has this value after.
        public var black: [Float] { zip(mean, std).map { -$0 / $1 } }

        /// The ImageNet statistics, also used by many CIFAR-10 recipes.
        public static let imageNet = Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    }

    /// One tensor of shape [1] + `sampleShape` per image.
    public static func inputs(
        _ images: NPYArray, sampleShape sample: [Int], normalization: Normalization? = nil, source: String
    ) throws(FormatError) -> [Tensor] {
        let mismatch = FormatError.imageShape(file: source, sample: sample, found: images.shape, dtype: images.storage.dtypeName)
        // Positive sample dimensions bound N by the array's element count, so a hostile
        // shape such as [10^12, 0, 32, 32] cannot ask for 10^12 tensors.
        guard let n = images.shape.first, sample.allSatisfy({ $0 > 0 }) else { throw mismatch }
        switch images.storage {
        case .uint8:
            guard sample.count == 3, images.shape == [n, sample[1], sample[2], sample[0]]
                || (sample[0] == 1 && images.shape == [n, sample[1], sample[2]]) else { throw mismatch }
        case .float32:
            guard images.shape == [n] + sample else { throw mismatch }
        default:
            throw mismatch
        }
        // From here on the sizes are known to fit: the array holds n × sampleSize elements.
        let sampleSize = sample.reduce(1, *)
        let channels = sample.first ?? 1
        let plane = sampleSize / channels  // elements per channel
        try validate(normalization, channels: channels, hasChannelAxis: !sample.isEmpty, source: source)

        switch images.storage {
        case let .uint8(pixels):
            let table = pixelTable(normalization, channels: channels)
            return (0..<n).map { i in
                var data = [Float](repeating: 0, count: sampleSize)
                let base = i * sampleSize
                for pixel in 0..<plane {
                    for c in 0..<channels {
                        data[c * plane + pixel] = table[c * 256 + Int(pixels[base + pixel * channels + c])]
                    }
                }
                return Tensor(shape: [1] + sample, data: data)
            }
        case let .float32(values):
            return (0..<n).map { i in
                var data = Array(values[i * sampleSize..<(i + 1) * sampleSize])
                if let norm = normalization {
                    for c in 0..<channels {
                        for j in c * plane..<(c + 1) * plane { data[j] = (data[j] - norm.mean[c]) / norm.std[c] }
                    }
                }
                return Tensor(shape: [1] + sample, data: data)
            }
        default:
            return []  // rejected above
        }
    }

    /// Class labels from an integer array of shape [N], optionally checked to lie in `0..<classes`.
    public static func labels(_ array: NPYArray, classes: Int? = nil, source: String) throws(FormatError) -> [Int] {
        guard array.shape.count == 1 else {
            throw .invalidShape(file: source, tensor: nil, shape: Tensor.describe(array.shape), reason: "labels must have shape [N]")
        }
        let values: [Int64]
        switch array.storage {
        case let .int64(v): values = v
        case let .int32(v): values = v.map(Int64.init)
        case let .uint8(v): values = v.map(Int64.init)
        default:
            throw .dtypeMismatch(file: source, what: "labels", expected: "int64, int32 or uint8", found: array.storage.dtypeName)
        }
        if let classes, let i = values.firstIndex(where: { $0 < 0 || $0 >= Int64(classes) }) {
            throw .labelOutOfRange(file: source, index: i, label: values[i], classes: classes)
        }
        return values.map { Int(truncatingIfNeeded: $0) }  // Int is 64-bit on every supported platform
    }

    public static func readInputs(path: String, sampleShape: [Int], normalization: Normalization? = nil) throws(FormatError) -> [Tensor] {
        try inputs(NPYArray.read(path: path), sampleShape: sampleShape, normalization: normalization, source: path)
    }

    public static func readLabels(path: String, classes: Int? = nil) throws(FormatError) -> [Int] {
        try labels(NPYArray.read(path: path), classes: classes, source: path)
    }

    private static func validate(
        _ normalization: Normalization?, channels: Int, hasChannelAxis: Bool, source: String
    ) throws(FormatError) {
        guard let norm = normalization else { return }
        guard hasChannelAxis else { throw .badNormalization(file: source, reason: "mean/std given but the input has no channel axis") }
        for (name, values) in [("mean", norm.mean), ("std", norm.std)] where values.count != channels {
            throw .badNormalization(file: source, reason: "\(name) has \(values.count) values, expected \(channels) (one per input channel)")
        }
        // torchvision's Normalize refuses a zero std for the same reason.
        if let c = norm.std.firstIndex(of: 0) {
            throw .badNormalization(file: source, reason: "std[\(c)] is 0, which would divide by zero")
        }
    }

    /// The float32 value of each uint8 pixel value in each channel, `table[c * 256 + p]`: the same
    /// float operations as ToTensor + Normalize, computed once per (channel, value) instead of per pixel.
    private static func pixelTable(_ normalization: Normalization?, channels: Int) -> [Float] {
        (0..<channels).flatMap { c in
            (0..<256).map { p in
                let x = Float(p) / 255
                guard let norm = normalization else { return x }
                return (x - norm.mean[c]) / norm.std[c]
            }
        }
    }
}
