/// The Swift functions of a convolution: the same row loop, window and register tiles as the C
/// (see `ConvKernel`), with each tile's accumulators as SIMD vectors over output channels and
/// explicit fused multiply-adds where the target has them (`eecFMA`: Swift never contracts
/// `a += x * w` itself; clang's C does).
extension ConvKernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        let (p, b) = tiling
        let remainder = rowPixels % p
        let blockRemainder = ocg % b
        var tiles: [(Int, Int)] = [(p, b)]
        if remainder > 0 { tiles.append((remainder, b)) }
        if blockRemainder > 0 {
            tiles.append((p, blockRemainder))
            if remainder > 0 { tiles.append((remainder, blockRemainder)) }
        }
        for (tp, tb) in tiles {
            s.swiftComment("\(tp) pixel\(tp == 1 ? "" : "s") x \(tb) output channels of \(name)")
            emitSwiftTile(&s, name: "\(name)_t\(tp)x\(tb)", pixels: tp, block: tb)
            s.line()
        }
        s.swiftComment(summary)
        emitSwiftMain(&s, name: name, pixels: p, block: b, remainder: remainder, blockRemainder: blockRemainder)
    }

    /// The row loop: window, then tiles over pixels for each group and block of output channels.
    private func emitSwiftMain(_ s: inout CWriter, name: String, pixels p: Int, block b: Int, remainder: Int, blockRemainder: Int) {
        let params = "_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>"
            + (bias ? ", _ b: UnsafePointer<Float>" : "") + (windowed ? ", _ win: UnsafeMutablePointer<Float>" : "")
        let (kh, kw) = kernel
        let fullBlocks = ocg / b
        let c = input.c
        s.swiftFunction(name, params) { s in
            let rowBody: (inout CWriter) -> Void = { s in
                if windowed { emitSwiftWindow(&s) }
                let rowInput = windowed ? "UnsafePointer(win)" : (pointwise ? "x" : "x + oy &* \(stride.0 * input.w * c)")
                s.line("let inp = \(rowInput)")
                s.line("let out = " + (pointwise ? "y" : "y + oy &* \(output.w * output.c)"))
                let groupBody: (inout CWriter) -> Void = { s in
                    let g = groups != 1
                    let inExpr = g ? "inp + g &* \(cg)" : "inp"
                    let outExpr = g ? "out + g &* \(ocg)" : "out"
                    let wExpr = g ? "w + g &* \(kh * kw * cg * ocg)" : "w"
                    let bExpr = g ? "b + g &* \(ocg)" : "b"
                    func tiles(_ s: inout CWriter, block: Int, at start: String) {
                        let wAt = start == "0" ? wExpr : "\(wExpr) + \(start) &* \(kh * kw * cg)"
                        let bAt = start == "0" ? bExpr : "\(bExpr) + \(start)"
                        let outAt = start == "0" ? outExpr : "\(outExpr) + \(start)"
                        let pixelIn = pointwise ? "ox &* \(c)" : "ox &* \(stride.1 * c)"
                        let args = "\(inExpr) + \(pixelIn), \(outAt) + ox &* \(output.c), \(wAt)" + (bias ? ", \(bAt)" : "")
                        let count = pointwise ? output.h * output.w : output.w
                        s.line("var ox = 0")
                        s.line("while ox &+ \(p) <= \(count) { \(name)_t\(p)x\(block)(\(args)); ox &+= \(p) }")
                        if remainder > 0 { s.line("\(name)_t\(remainder)x\(block)(\(args))") }
                    }
                    if fullBlocks > 1 {
                        s.block("for j in 0..<\(fullBlocks)") { s in
                            s.swiftComment("output channels \(b)j .. \(b)j + \(b - 1), weights at \(kh * kw * cg * b)j")
                            tiles(&s, block: b, at: "j &* \(b)")
                        }
                    } else {
                        s.block("do") { s in tiles(&s, block: b, at: "0") }
                    }
                    if blockRemainder > 0 {
                        s.swiftComment("the last \(blockRemainder) output channels")
                        s.block("do") { s in tiles(&s, block: blockRemainder, at: "\(fullBlocks * b)") }
                    }
                }
                if groups != 1 {
                    s.block("for g in 0..<\(groups)", groupBody)
                } else {
                    groupBody(&s)
                }
            }
            if pointwise {
                rowBody(&s)
            } else {
                s.block("for oy in 0..<\(output.h)", rowBody)
            }
        }
    }

    /// Copies the KH input rows of output row `oy` into `win`, padding columns and rows outside
    /// the input as zeros.
    private func emitSwiftWindow(_ s: inout CWriter) {
        let ww = windowWidth, c = input.c
        let left = min(pad.1, ww)
        let copied = max(0, min(input.w, ww - left))
        s.swiftComment("the window: the \(kernel.0) input rows this output row reads, zero-padded to \(ww) columns")
        s.block("for ky in 0..<\(kernel.0)") { s in
            s.line("let iy = oy &* \(stride.0) &- \(pad.0) &+ ky" + (dilation.0 != 1 ? " &* \(dilation.0)" : ""))
            s.line("let row = win + ky &* \(ww * c)")
            s.block("if iy < 0 || iy >= \(input.h)") { s in
                s.line("for i in 0..<\(ww * c) { row[i] = 0 }")
            }
            s.block("else") { s in
                if left > 0 { s.line("for i in 0..<\(left * c) { row[i] = 0 }") }
                if copied > 0 {
                    s.line("let src = x + iy &* \(input.w * c)")
                    s.line("for i in 0..<\(copied * c) { row[\(left * c) &+ i] = src[i] }")
                }
                if (left + copied) * c < ww * c { s.line("for i in \((left + copied) * c)..<\(ww * c) { row[i] = 0 }") }
            }
        }
    }

    /// `pixels` consecutive output pixels × `block` output channels: the block is cut into SIMD
    /// vectors of 16, 8 and 4 lanes (then single floats), one accumulator per pixel and vector,
    /// initialized with the bias; for each tap (ky, kx, input channel) each weight vector is
    /// loaded once and multiplied into every pixel's accumulator.
    private func emitSwiftTile(_ s: inout CWriter, name: String, pixels: Int, block: Int) {
        let params = "_ inp: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>"
            + (bias ? ", _ b: UnsafePointer<Float>" : "")
        let rowStride = windowed ? windowWidth * input.c : dilation.0 * input.w * input.c
        let ks = dilation.1 * input.c, ps = pointwise ? input.c : stride.1 * input.c
        let chunks = Self.chunks(block)
        func type(_ width: Int) -> String { width == 1 ? "Float" : "SIMD\(width)<Float>" }
        func load(_ base: String, _ at: Int, _ width: Int) -> String {
            let p = at == 0 ? base : "\(base) + \(at)"
            // Concrete raw-pointer loads: a generic helper over SIMD stays unspecialized at -Osize
            // and allocates, which -no-allocations embedded builds reject.
            return width == 1 ? "\(base)[\(at)]" : "UnsafeRawPointer(\(p)).loadUnaligned(as: \(type(width)).self)"
        }
        s.line("@inline(__always)")
        s.swiftFunction(name, params) { s in
            // EEC_COMPACT chooses the compact tile on the host too (the tests check it there).
            s.line("#if hasFeature(Embedded) || EEC_COMPACT")
            emitCompactTile(&s, pixels: pixels, block: block, rowStride: rowStride, ks: ks, ps: ps)
            s.line("#else")
            for p in 0..<pixels {
                let inits = chunks.enumerated().map { j, chunk in
                    "a\(p)_\(j) = " + (bias ? load("b", chunk.at, chunk.width) : "\(type(chunk.width))()")
                }
                s.line("var " + inits.joined(separator: ", "))
            }
            emitTaps(&s, block: block, rowStride: rowStride, ks: ks) { s in
                s.line("let " + chunks.enumerated().map { j, chunk in "w\(j) = \(load("wc", chunk.at, chunk.width))" }.joined(separator: ", "))
                for p in 0..<pixels {
                    s.line("let x\(p) = xp[\(p == 0 ? "" : "\(p * ps) &+ ")c]")
                    s.line(chunks.indices.map { j in "eecFMA(&a\(p)_\(j), x\(p), w\(j))" }.joined(separator: "; "))
                }
            }
            for p in 0..<pixels {
                for (j, chunk) in chunks.enumerated() {
                    let at = p * output.c + chunk.at
                    let v = "a\(p)_\(j)"
                    let value = relu ? (chunk.width == 1 ? "\(v) < 0 ? 0 : \(v)" : "\(v).replacing(with: 0, where: \(v) .< 0)") : v
                    if chunk.width == 1 {
                        s.line("out[\(at)] = \(value)")
                    } else {
                        s.line("UnsafeMutableRawPointer(out\(at == 0 ? "" : " + \(at)")).storeBytes(of: \(value), as: \(type(chunk.width)).self)")
                    }
                }
            }
            s.line("#endif")
        }
    }

    /// The tile for Embedded Swift, where code size counts more than speed and SIMD16 lanes on a
    /// scalar FPU unroll into 128 multiply-adds per tap (6 KB a kernel): the C's loop order, the
    /// accumulators on the stack, the output channels in a loop.
    private func emitCompactTile(_ s: inout CWriter, pixels: Int, block: Int, rowStride: Int, ks: Int, ps: Int) {
        s.block("withUnsafeTemporaryAllocation(of: Float.self, capacity: \(pixels * block))") { s in
            s.line("acc in")
            s.line("guard let a = acc.baseAddress else { return }")
            s.line("for p in 0..<\(pixels) { for o in 0..<\(block) { a[p &* \(block) &+ o] = \(bias ? "b[o]" : "0") } }")
            emitTaps(&s, block: block, rowStride: rowStride, ks: ks) { s in
                s.block("for p in 0..<\(pixels)") { s in
                    s.line("let x = xp[p &* \(ps) &+ c], ap = a + p &* \(block)")
                    s.line("for o in 0..<\(block) { ap[o] += x * wc[o] }")
                }
            }
            let value = relu ? "v < 0 ? 0 : v" : "v"
            s.line("for p in 0..<\(pixels) { for o in 0..<\(block) { let v = a[p &* \(block) &+ o]; out[p &* \(output.c) &+ o] = \(value) } }")
        }
    }

    /// The loops over taps shared by both tiles: for each (ky, kx), `xp` and `wp`; for each input
    /// channel c, `wc`, the block's weights; `body` uses them.
    private func emitTaps(_ s: inout CWriter, block: Int, rowStride: Int, ks: Int, _ body: (inout CWriter) -> Void) {
        s.block("for ky in 0..<\(kernel.0)") { s in
            s.block("for kx in 0..<\(kernel.1)") { s in
                s.line("let xp = inp + (ky &* \(rowStride) &+ kx &* \(ks))")
                s.line("let wp = w + (ky &* \(kernel.1) &+ kx) &* \(cg * block)")
                s.block("for c in 0..<\(cg)") { s in
                    s.line("let wc = wp + c &* \(block)")
                    body(&s)
                }
            }
        }
    }

    /// A block of output channels as SIMD widths: 16s first, then 8, 4 and single floats.
    static func chunks(_ block: Int) -> [(at: Int, width: Int)] {
        var out: [(at: Int, width: Int)] = []
        var at = 0
        for width in [16, 8, 4, 1] {
            while block - at >= width {
                out.append((at, width))
                at += width
            }
        }
        return out
    }
}
