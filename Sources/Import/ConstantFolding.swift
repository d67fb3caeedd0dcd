/// Evaluation of ONNX ops on constants, for the subgraphs exporters write to compute shapes and
/// pads (Shape → Gather → Unsqueeze → Concat → Reshape; ConstantOfShape → Concat → Slice → Cast).
/// Each follows the ONNX operator specification; any case it does not cover is an error.
enum Folding {
    /// Largest result of an op that can make more elements than it reads (broadcasting, Gather,
    /// ConstantOfShape): 2^24, far beyond any shape computation, so a small hostile file cannot
    /// make the importer allocate gigabytes.
    static let maxResult = 1 << 24

    static func checkSize(_ shape: [Int], node: ONNXNode) throws(ImportError) {
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= maxResult else {
                throw ImportError.unsupported(node, "a constant of shape \(shape), more than \(maxResult) elements, to fold")
            }
            count = product
        }
    }

    /// numpy-style broadcast of two shapes, nil when they do not broadcast.
    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: rank - a.count) + a
        let pb = [Int](repeating: 1, count: rank - b.count) + b
        var out: [Int] = []
        for (x, y) in zip(pa, pb) {
            guard x == y || x == 1 || y == 1 else { return nil }
            out.append(x == 1 ? y : x)
        }
        return out
    }

    /// Row-major strides of a shape.
    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in shape.indices.reversed() {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// For each element of `shape` in row-major order, the flat index `indexOf` gives it.
    static func mapIndices(_ shape: [Int], _ indexOf: ([Int]) -> Int) -> [Int] {
        let count = shape.reduce(1, *)
        var result: [Int] = []
        result.reserveCapacity(count)
        var coordinate = [Int](repeating: 0, count: shape.count)
        for _ in 0..<count {
            result.append(indexOf(coordinate))
            var axis = shape.count - 1
            while axis >= 0 {
                coordinate[axis] += 1
                if coordinate[axis] < shape[axis] { break }
                coordinate[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    /// Add, Sub, Mul, Div on two constants with broadcasting; integers stay integers (Div truncates,
    /// as the ONNX reference does for integer tensors).
    static func binary(_ opType: String, _ a: Constant, _ b: Constant, node: ONNXNode) throws(ImportError) -> Constant {
        guard let shape = broadcast(a.shape, b.shape) else {
            throw ImportError.unsupported(node, "shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        try checkSize(shape, node: node)
        let sa = strides(a.shape), sb = strides(b.shape)
        let offsetA = shape.count - a.shape.count, offsetB = shape.count - b.shape.count
        let ia = mapIndices(shape) { c in a.shape.indices.reduce(0) { $0 + (a.shape[$1] == 1 ? 0 : c[$1 + offsetA] * sa[$1]) } }
        let ib = mapIndices(shape) { c in b.shape.indices.reduce(0) { $0 + (b.shape[$1] == 1 ? 0 : c[$1 + offsetB] * sb[$1]) } }
        if !a.isFloat && !b.isFloat {
            let x = a.ints, y = b.ints
            var out: [Int64] = []
            for (i, j) in zip(ia, ib) {
                switch opType {
                case "Add": out.append(x[i] &+ y[j])
                case "Sub": out.append(x[i] &- y[j])
                case "Mul": out.append(x[i] &* y[j])
                default:
                    let (q, overflow) = x[i].dividedReportingOverflow(by: y[j])
                    guard y[j] != 0, !overflow else { throw ImportError.unsupported(node, "integer division \(x[i]) / \(y[j])") }
                    out.append(q)
                }
            }
            return Constant(shape: shape, elementType: a.elementType, values: .ints(out))
        }
        let x = a.floats, y = b.floats
        let out: [Float] = zip(ia, ib).map { i, j in
            switch opType {
            case "Add": x[i] + y[j]
            case "Sub": x[i] - y[j]
            case "Mul": x[i] * y[j]
            default: x[i] / y[j]
            }
        }
        return Constant(shape: shape, elementType: a.isFloat ? a.elementType : b.elementType, values: .floats(out))
    }

    /// An axis attribute or input, normalised to 0..<rank.
    static func axis(_ value: Int64, rank: Int, node: ONNXNode) throws(ImportError) -> Int {
        guard value >= -Int64(rank), value < Int64(max(rank, 1)) else {
            throw ImportError.unsupported(node, "axis \(value) is out of range for rank \(rank)")
        }
        return Int(value < 0 ? value + Int64(rank) : value)
    }

    static func transpose(_ c: Constant, perm: [Int]?, node: ONNXNode) throws(ImportError) -> Constant {
        let rank = c.shape.count
        let perm = perm ?? Array((0..<rank).reversed())
        guard perm.sorted() == Array(0..<rank) else {
            throw ImportError.unsupported(node, "perm \(perm) is not a permutation of the \(rank) axes")
        }
        let shape = perm.map { c.shape[$0] }
        let s = strides(c.shape)
        let indices = mapIndices(shape) { coordinate in perm.indices.reduce(0) { $0 + coordinate[$1] * s[perm[$1]] } }
        return c.gathering(indices, shape: shape)
    }

    /// The positions one axis of a Slice keeps: ONNX clamps starts and ends to the axis, per step sign.
    /// A step longer than the axis keeps at most one element whatever its size, so it is counted as
    /// the axis length plus one (no overflow for steps near ±2^63).
    static func sliceRange(dim: Int, start: Int64, end: Int64, step: Int64) -> (start: Int, count: Int) {
        let d = Int64(dim)
        func resolve(_ v: Int64) -> Int64 { v < 0 ? v &+ d : v }
        var s = resolve(start), e = resolve(end)
        let stride = step == .min ? d + 1 : min(abs(step), d + 1)
        if step > 0 {
            s = min(max(s, 0), d)
            e = min(max(e, 0), d)
            return (Int(s), e > s ? Int((e - s + stride - 1) / stride) : 0)
        }
        s = min(max(s, 0), d - 1)
        e = min(max(e, -1), d - 1)
        return (Int(s), s > e ? Int((s - e + stride - 1) / stride) : 0)
    }

    /// The number of elements of `shape`, nil when it overflows.
    static func count(_ shape: [Int]) -> Int? {
        var product = 1
        for d in shape {
            let (p, overflow) = product.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            product = p
        }
        return product
    }

    /// A Slice's per-axis (start, end, step), with axes normalised; steps of 0 are rejected.
    static func sliceSpec(rank: Int, starts: [Int64], ends: [Int64], axes: [Int64]?, steps: [Int64]?,
                          node: ONNXNode) throws(ImportError) -> [(axis: Int, start: Int64, end: Int64, step: Int64)] {
        let axes = axes ?? (0..<Int64(starts.count)).map { $0 }
        let steps = steps ?? [Int64](repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw ImportError.unsupported(node, "starts, ends, axes and steps have different lengths (\(starts.count), \(ends.count), \(axes.count), \(steps.count))")
        }
        var spec: [(axis: Int, start: Int64, end: Int64, step: Int64)] = []
        for i in starts.indices {
            let axis = try axis(axes[i], rank: rank, node: node)
            guard steps[i] != 0 else { throw ImportError.unsupported(node, "a step of 0") }
            guard !spec.contains(where: { $0.axis == axis }) else { throw ImportError.unsupported(node, "axis \(axis) sliced twice") }
            spec.append((axis, starts[i], ends[i], steps[i]))
        }
        return spec
    }

    static func slice(_ c: Constant, _ spec: [(axis: Int, start: Int64, end: Int64, step: Int64)]) -> Constant {
        var starts = [Int](repeating: 0, count: c.shape.count)
        var steps = [Int](repeating: 1, count: c.shape.count)
        var shape = c.shape
        for s in spec {
            let (start, count) = sliceRange(dim: c.shape[s.axis], start: s.start, end: s.end, step: s.step)
            starts[s.axis] = start
            steps[s.axis] = Int(s.step)
            shape[s.axis] = count
        }
        let st = strides(c.shape)
        let indices = mapIndices(shape) { coordinate in
            coordinate.indices.reduce(0) { $0 + (starts[$1] + coordinate[$1] * steps[$1]) * st[$1] }
        }
        return c.gathering(indices, shape: shape)
    }

    static func gather(_ data: Constant, indices: Constant, axis axisValue: Int64, node: ONNXNode) throws(ImportError) -> Constant {
        guard !data.shape.isEmpty else { throw ImportError.unsupported(node, "Gather on a scalar") }
        let axis = try Self.axis(axisValue, rank: data.shape.count, node: node)
        let dim = data.shape[axis]
        var picks: [Int] = []
        for i in indices.ints {
            guard i >= -Int64(dim), i < Int64(dim) else {
                throw ImportError.unsupported(node, "index \(i) is out of range for an axis of size \(dim)")
            }
            picks.append(Int(i < 0 ? i + Int64(dim) : i))
        }
        let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
        try checkSize(shape, node: node)
        let st = strides(data.shape)
        let outer = indices.shape.count
        let result = mapIndices(shape) { c in
            var flat = 0
            for a in 0..<axis { flat += c[a] * st[a] }
            let indexCoordinate = Array(c[axis..<(axis + outer)])
            var position = 0
            for (k, v) in indexCoordinate.enumerated() { position = position * indices.shape[k] + v }
            flat += picks[position] * st[axis]
            for a in (axis + 1)..<data.shape.count { flat += c[a + outer - 1] * st[a] }
            return flat
        }
        return data.gathering(result, shape: shape)
    }

    static func concat(_ parts: [Constant], axis axisValue: Int64, node: ONNXNode) throws(ImportError) -> Constant {
        guard let first = parts.first else { throw ImportError.unsupported(node, "Concat of no inputs") }
        let rank = first.shape.count
        let axis = try Self.axis(axisValue, rank: rank, node: node)
        for p in parts {
            guard p.shape.count == rank, p.shape.indices.allSatisfy({ $0 == axis || p.shape[$0] == first.shape[$0] }) else {
                throw ImportError.unsupported(node, "Concat of shapes \(first.shape) and \(p.shape) along axis \(axis)")
            }
        }
        let outer = first.shape[..<axis].reduce(1, *)
        var shape = first.shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        let anyFloat = parts.contains { $0.isFloat }
        var floats: [Float] = [], ints: [Int64] = []
        for o in 0..<outer {
            for p in parts {
                let chunk = p.shape[axis...].reduce(1, *)
                if anyFloat { floats += p.floats[(o * chunk)..<((o + 1) * chunk)] } else { ints += p.ints[(o * chunk)..<((o + 1) * chunk)] }
            }
        }
        return Constant(shape: shape, elementType: first.elementType, values: anyFloat ? .floats(floats) : .ints(ints))
    }

    /// Unsqueeze's output shape: ones inserted at `axes` (of the output rank).
    static func unsqueezedShape(_ shape: [Int], axes: [Int64], node: ONNXNode) throws(ImportError) -> [Int] {
        let rank = shape.count + axes.count
        var positions = Set<Int>()
        for a in axes { positions.insert(try axis(a, rank: rank, node: node)) }
        guard positions.count == axes.count else { throw ImportError.unsupported(node, "repeated axes \(axes)") }
        var rest = shape.makeIterator()
        return (0..<rank).map { positions.contains($0) ? 1 : (rest.next() ?? 1) }
    }

    /// Squeeze's output shape: the size-1 axes in `axes` (all of them when nil) removed.
    static func squeezedShape(_ shape: [Int], axes: [Int64]?, node: ONNXNode) throws(ImportError) -> [Int] {
        guard let axes else { return shape.filter { $0 != 1 } }
        var drop = Set<Int>()
        for a in axes {
            let i = try axis(a, rank: shape.count, node: node)
            guard shape[i] == 1 else { throw ImportError.unsupported(node, "cannot squeeze axis \(i) of size \(shape[i]) in \(shape)") }
            drop.insert(i)
        }
        return shape.indices.filter { !drop.contains($0) }.map { shape[$0] }
    }

    /// Reshape's target: 0 copies the input's dimension (unless `allowzero`), one -1 is inferred.
    static func reshapedShape(_ input: [Int], target: [Int64], allowZero: Bool, node: ONNXNode) throws(ImportError) -> [Int] {
        var shape: [Int] = []
        var inferred: Int?
        for (i, t) in target.enumerated() {
            switch t {
            case -1:
                guard inferred == nil else { throw ImportError.unsupported(node, "shape \(target) has more than one -1") }
                inferred = i
                shape.append(1)
            case 0 where !allowZero:
                guard i < input.count else { throw ImportError.unsupported(node, "shape \(target) copies dimension \(i) of \(input), which has none") }
                shape.append(input[i])
            default:
                guard t >= 0, t <= Int64(ONNXTensor.maxElements) else { throw ImportError.unsupported(node, "shape \(target) holds \(t)") }
                shape.append(Int(t))
            }
        }
        let total = input.reduce(1, *)
        guard let known = count(shape) else { throw ImportError.unsupported(node, "shape \(target) has too many elements") }
        if let inferred {
            guard known > 0, total % known == 0 else {
                throw ImportError.unsupported(node, "cannot reshape \(input) to \(target)")
            }
            shape[inferred] = total / known
        }
        guard shape.reduce(1, *) == total else {
            throw ImportError.unsupported(node, "cannot reshape \(input) (\(total) elements) to \(target)")
        }
        return shape
    }

    static func cast(_ c: Constant, to type: Int64, node: ONNXNode) throws(ImportError) -> Constant {
        let to = Int32(truncatingIfNeeded: type)
        switch to {
        case ONNXDataType.float, ONNXDataType.double:
            return Constant(shape: c.shape, elementType: to, values: .floats(c.floats))
        case ONNXDataType.bool:
            return Constant(shape: c.shape, elementType: to, values: .ints(c.floats.map { $0 != 0 ? 1 : 0 }))
        case _ where ONNXDataType.isInteger(to):
            return Constant(shape: c.shape, elementType: to, values: .ints(c.ints))
        default:
            throw ImportError.unsupported(node, "Cast to \(ONNXDataType.name(to)) of a constant",
                                          supported: "FLOAT, DOUBLE, BOOL and integer types")
        }
    }
}
