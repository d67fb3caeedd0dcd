/// The C function of a convolution: the row loop, the window copy and the register tiles (see
/// `ConvKernel` for the loop order).
extension ConvKernel: CKernel {
    func emit(_ c: inout CWriter, name: String) { emit(&c, name: name, int8: nil) }

    /// `int8`: the int8 form (`Int8Kernel.conv`): uint8 input and window (padded with the input's
    /// zero point), int8 weights, int32 accumulators from the table's biases, then the output rule.
    func emit(_ c: inout CWriter, name: String, int8: Int8Output?) {
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
            c.comment("\(tp) pixel\(tp == 1 ? "" : "s") x \(tb) output channels of \(name)")
            emitTile(&c, name: "\(name)_t\(tp)x\(tb)", pixels: tp, block: tb, int8: int8)
            c.line()
        }
        c.comment(summary)
        emitMain(&c, name: name, pixels: p, block: b, remainder: remainder, blockRemainder: blockRemainder, int8: int8)
    }

    /// The row loop: window, then tiles over pixels for each group and block of output channels.
    private func emitMain(_ c: inout CWriter, name: String, pixels p: Int, block b: Int, remainder: Int, blockRemainder: Int,
                          int8: Int8Output?) {
        let t = ConvTypes(int8)
        let params = "const \(t.input) *restrict x, \(t.output) *restrict y, const \(t.weight) *restrict w"
            + (int8 != nil ? ", const int32_t *restrict q" : bias ? ", const float *restrict b" : "")
            + (windowed ? ", \(t.input) *restrict win" : "")
        let (kh, kw) = kernel
        let fullBlocks = ocg / b
        c.function("static void \(name)(\(params))") { c in
            var constants = ["H = \(input.h)", "W = \(input.w)", "C = \(input.c)", "OH = \(output.h)", "OW = \(output.w)",
                             "OC = \(output.c)", "KH = \(kh)", "KW = \(kw)", "SH = \(stride.0)", "SW = \(stride.1)"]
            if windowed { constants += ["PH = \(pad.0)", "PW = \(pad.1)", "WW = \(windowWidth)"] }
            if dilation.0 != 1 { constants.append("DH = \(dilation.0)") }
            if groups != 1 { constants += ["G = \(groups)", "CG = \(cg)", "OCG = \(ocg)"] }
            c.line("enum { \(constants.joined(separator: ", ")) };")
            var locals = ["ox"]
            if !pointwise { locals.insert("oy", at: 0) }
            if windowed { locals += ["ky", "i"] }
            if groups != 1 { locals.append("g") }
            if fullBlocks > 1 { locals.append("j") }
            c.line("int \(locals.joined(separator: ", "));")
            if int8 != nil { c.line("const int32_t zx = q[3 * OC], zy = q[3 * OC + 1], lo = q[3 * OC + 2];") }
            if int8 != nil && !windowed { c.line("(void)zx;") }
            let rowBody: (inout CWriter) -> Void = { c in
                if windowed { emitWindow(&c, zero: t.zero) }
                let rowInput = windowed ? "win" : (pointwise ? "x" : "x + oy * (SH * W * C)")
                c.line("const \(t.input) *restrict in = \(rowInput);")
                c.line("\(t.output) *restrict out = " + (pointwise ? "y;" : "y + oy * (OW * OC);"))
                let groupBody: (inout CWriter) -> Void = { c in
                    let g = groups != 1
                    let inExpr = g ? "in + g * CG" : "in"
                    let outExpr = g ? "out + g * OCG" : "out"
                    let wExpr = g ? "w + g * (KH * KW * CG * OCG)" : "w"
                    let bExpr = int8 != nil ? (g ? "q + g * OCG" : "q") : (g ? "b + g * OCG" : "b")
                    let perBlock = kh * kw * cg * b
                    func tiles(_ c: inout CWriter, block: Int, at start: String) {
                        let wAt = start == "0" ? wExpr : "\(wExpr) + \(start) * \(kh * kw * cg)"
                        let bAt = start == "0" ? bExpr : "\(bExpr) + \(start)"
                        let outAt = start == "0" ? outExpr : "\(outExpr) + \(start)"
                        let pixelIn = pointwise ? "ox * C" : "ox * (SW * C)"
                        let args = "\(inExpr) + \(pixelIn), \(outAt) + ox * OC, \(wAt)" + (int8 != nil ? ", \(bAt), zy, lo" : bias ? ", \(bAt)" : "")
                        let count = pointwise ? "OH * OW" : "OW"
                        c.line("for (ox = 0; ox + \(p) <= \(count); ox += \(p)) \(name)_t\(p)x\(block)(\(args));")
                        if remainder > 0 { c.line("\(name)_t\(remainder)x\(block)(\(args));") }
                    }
                    if fullBlocks > 1 {
                        c.block("for (j = 0; j < \(fullBlocks); ++j)") { c in
                            c.comment("output channels \(b)j .. \(b)j + \(b - 1), weights at \(perBlock)j")
                            tiles(&c, block: b, at: "j * \(b)")
                        }
                    } else {
                        tiles(&c, block: b, at: "0")
                    }
                    if blockRemainder > 0 {
                        c.comment("the last \(blockRemainder) output channels")
                        tiles(&c, block: blockRemainder, at: "\(fullBlocks * b)")
                    }
                }
                if groups != 1 {
                    c.block("for (g = 0; g < G; ++g)", groupBody)
                } else {
                    groupBody(&c)
                }
            }
            if pointwise {
                rowBody(&c)
            } else {
                c.block("for (oy = 0; oy < OH; ++oy)", rowBody)
            }
        }
    }

    /// Copies the KH input rows of output row `oy` into `win`, padding columns and rows outside
    /// the input as zeros.
    private func emitWindow(_ c: inout CWriter, zero: String) {
        let ww = windowWidth
        let left = min(pad.1, ww)
        let copied = max(0, min(input.w, ww - left))
        let right = ww - left - copied
        c.comment("the window: the \(kernel.0) input rows this output row reads, zero-padded to \(ww) columns")
        c.block("for (ky = 0; ky < KH; ++ky)") { c in
            c.line("const int iy = oy * SH - PH + ky" + (dilation.0 != 1 ? " * DH;" : ";"))
            c.line("\(zero == "0.0f" ? "float" : "uint8_t") *restrict row = win + ky * (WW * C);")
            let leftCount = left == pad.1 ? "PW" : "\(left)"
            let copiedCount = copied == input.w ? "W" : "\(copied)"
            c.ifElse("iy < 0 || iy >= H", { c in
                c.line("for (i = 0; i < WW * C; ++i) row[i] = \(zero);")
            }, else: { c in
                if left > 0 { c.line("for (i = 0; i < \(leftCount) * C; ++i) row[i] = \(zero);") }
                if copied > 0 {
                    let dst = left > 0 ? "row[\(leftCount) * C + i]" : "row[i]"
                    c.line("for (i = 0; i < \(copiedCount) * C; ++i) \(dst) = x[iy * (W * C) + i];")
                }
                if right > 0 {
                    let start = left > 0 ? "(\(leftCount) + \(copiedCount)) * C" : "\(copiedCount) * C"
                    c.line("for (i = \(start); i < WW * C; ++i) row[i] = \(zero);")
                }
            })
        }
    }

    /// `pixels` consecutive output pixels × `block` output channels: one accumulator array per
    /// pixel, initialized with the bias; for each tap (ky, kx, input channel) one weight vector
    /// times each pixel's input value. The `o` loop is what the compiler vectorizes.
    private func emitTile(_ c: inout CWriter, name: String, pixels: Int, block: Int, int8: Int8Output?) {
        let t = ConvTypes(int8)
        let params = "const \(t.input) *restrict in, \(t.output) *restrict out, const \(t.weight) *restrict w"
            + (int8 != nil ? ", const int32_t *restrict q, int32_t zy, int32_t lo" : bias ? ", const float *restrict b" : "")
        let rowStride = windowed ? windowWidth * input.c : dilation.0 * input.w * input.c
        let acc = (0..<pixels).map { "a\($0)" }
        c.function("static void \(name)(\(params))") { c in
            c.line("enum { C = \(cg), OB = \(block), KH = \(kernel.0), KW = \(kernel.1), RS = \(rowStride), KS = \(dilation.1 * input.c), PS = \(pointwise ? input.c : stride.1 * input.c), OS = \(output.c) };")
            c.line("\(t.accumulator) " + acc.map { "\($0)[OB]" }.joined(separator: ", ") + ";")
            c.line("int ky, kx, c, o;")
            if case .uint8? = int8 {} else if int8 != nil { c.line("(void)zy; (void)lo;") }
            let vnni = int8 != nil && int8Quads && block % 16 == 0
            let dsp = int8 != nil && int8Quads
            if vnni {
                c.line("#if EEC_VNNI")
                emitVNNI(&c, pixels: pixels, vectors: block / 16)
            }
            if dsp {
                c.line(vnni ? "#elif EEC_DSP" : "#if EEC_DSP")
                emitDSP(&c, pixels: pixels)
                c.line("#else")
            }
            c.block("for (o = 0; o < OB; ++o)") { c in
                c.statements(acc.map { "\($0)[o] = \(int8 != nil ? "q[o]" : bias ? "b[o]" : "0.0f");" }, perLine: 4)
            }
            c.block("for (ky = 0; ky < KH; ++ky)") { c in
                c.block("for (kx = 0; kx < KW; ++kx)") { c in
                    c.line("const \(t.input) *restrict xp = in + ky * RS + kx * KS;")
                    c.line("const \(t.weight) *restrict wp = w + (ky * KW + kx) * (C * OB);")
                    if int8 != nil && int8Quads {
                        // int8 weights in quads of input channels, [c / 4][o][c % 4] (see int8Quads):
                        // four products per output, from contiguous weights.
                        c.block("for (c = 0; c < C; c += 4)") { c in
                            for p in 0..<pixels {
                                let at = p == 0 ? "" : p == 1 ? "PS + " : "\(p) * PS + "
                                c.line("const int32_t x\(p)a = xp[\(at)c], x\(p)b = xp[\(at)c + 1], x\(p)c = xp[\(at)c + 2], x\(p)d = xp[\(at)c + 3];")
                            }
                            c.line("const int8_t *restrict wc = wp + c * OB;")
                            c.block("for (o = 0; o < OB; ++o)") { c in
                                c.line("const int32_t va = wc[4 * o], vb = wc[4 * o + 1], vc = wc[4 * o + 2], vd = wc[4 * o + 3];")
                                c.statements((0..<pixels).map { "a\($0)[o] += x\($0)a * va + x\($0)b * vb + x\($0)c * vc + x\($0)d * vd;" }, perLine: 1)
                            }
                        }
                    } else {
                        c.block("for (c = 0; c < C; ++c)") { c in
                            let loads = (0..<pixels).map { p in "x\(p) = xp[\(p == 0 ? "" : p == 1 ? "PS + " : "\(p) * PS + ")c]" }
                            c.line("const \(t.accumulator) " + loads.joined(separator: ", ") + ";")
                            c.line("const \(t.weight) *restrict wc = wp + c * OB;")
                            c.block("for (o = 0; o < OB; ++o)") { c in
                                c.line("const \(t.accumulator) v = wc[o];")
                                c.statements((0..<pixels).map { "a\($0)[o] += x\($0) * v;" }, perLine: 4)
                            }
                        }
                    }
                }
            }
            if dsp { c.line("#endif") }
            c.block("for (o = 0; o < OB; ++o)") { c in
                if let int8 {
                    c.line("const int32_t m = q[OS + o], s = q[2 * OS + o];")
                    c.statements((0..<pixels).map { p in
                        let at = p == 0 ? "o" : p == 1 ? "OS + o" : "\(p) * OS + o"
                        return "out[\(at)] = \(CInt8.outputCall(int8, "a\(p)[o]"));"
                    }, perLine: 2)
                    return
                }
                c.statements((0..<pixels).map { p in
                    let at = p == 0 ? "o" : p == 1 ? "OS + o" : "\(p) * OS + o"
                    return relu ? "out[\(at)] = a\(p)[o] < 0.0f ? 0.0f : a\(p)[o];" : "out[\(at)] = a\(p)[o];"
                }, perLine: relu ? 2 : 4)
            }
        }
    }
}

extension ConvKernel {
    /// An int8 convolution's weights come in quads of input channels, `[kh][kw][c / 4][o][c % 4]`
    /// within each block, when the input channels per group are a multiple of 4: the operand
    /// layout of x86's VNNI (`vpdpbusd`: 4 u8 × s8 products summed into each int32 lane).
    var int8Quads: Bool { cg % 4 == 0 }

    /// The tile's accumulation with AVX-512 VNNI (`EEC_VNNI`, see the int8 prelude): one vector
    /// of 16 int32 accumulators per pixel and 16 output channels, starting at the biases; per
    /// quad of input channels, each pixel's 4 input bytes broadcast against the quad's weights.
    /// The same integers as the portable loop, added in another order (exact).
    func emitVNNI(_ c: inout CWriter, pixels: Int, vectors: Int) {
        let accs = (0..<pixels).flatMap { p in (0..<vectors).map { "v\(p)_\($0)" } }
        c.line("eec_v16si " + accs.joined(separator: ", ") + ", " + (0..<vectors).map { "w\($0)" }.joined(separator: ", ") + ", x;")
        c.line("int32_t d;")
        c.statements((0..<pixels).flatMap { p in (0..<vectors).map { "__builtin_memcpy(&v\(p)_\($0), q + \(16 * $0), 64);" } }, perLine: 2)
        c.block("for (ky = 0; ky < KH; ++ky)") { c in
            c.block("for (kx = 0; kx < KW; ++kx)") { c in
                c.line("const uint8_t *restrict xp = in + ky * RS + kx * KS;")
                c.line("const int8_t *restrict wp = w + (ky * KW + kx) * (C * OB);")
                c.block("for (c = 0; c < C; c += 4)") { c in
                    c.statements((0..<vectors).map { "__builtin_memcpy(&w\($0), wp + c * OB + \(64 * $0), 64);" }, perLine: 2)
                    for p in 0..<pixels {
                        c.line("__builtin_memcpy(&d, xp + \(p == 0 ? "" : p == 1 ? "PS + " : "\(p) * PS + ")c, 4);")
                        c.line("x = (eec_v16si){ d, d, d, d, d, d, d, d, d, d, d, d, d, d, d, d };")
                        c.statements((0..<vectors).map { "v\(p)_\($0) = __builtin_ia32_vpdpbusd512(v\(p)_\($0), x, w\($0));" }, perLine: 2)
                    }
                }
            }
        }
        c.statements((0..<pixels).flatMap { p in (0..<vectors).map { "__builtin_memcpy(a\(p) + \(16 * $0), &v\(p)_\($0), 64);" } }, perLine: 2)
    }
}

extension ConvKernel {
    /// The tile's accumulation with the Cortex-M4's DSP instructions (`EEC_DSP`): per quad of
    /// input channels, each pixel's 4 bytes zero-extended into two pairs of 16-bit lanes (UXTB16,
    /// the second after a rotation by 8), each output's 4 weights sign-extended likewise
    /// (SXTB16), and two SMLADs (two 16 × 16 products and a 32-bit accumulation each). The same
    /// integers as the portable loop; the sums stay far below 2^31, so SMLAD never overflows.
    func emitDSP(_ c: inout CWriter, pixels: Int) {
        c.block("for (o = 0; o < OB; ++o)") { c in
            c.statements((0..<pixels).map { "a\($0)[o] = q[o];" }, perLine: 4)
        }
        c.block("for (ky = 0; ky < KH; ++ky)") { c in
            c.block("for (kx = 0; kx < KW; ++kx)") { c in
                c.line("const uint8_t *restrict xp = in + ky * RS + kx * KS;")
                c.line("const int8_t *restrict wp = w + (ky * KW + kx) * (C * OB);")
                c.block("for (c = 0; c < C; c += 4)") { c in
                    c.line("const int8_t *restrict wc = wp + c * OB;")
                    c.line("int32_t " + (0..<pixels).map { "x\($0)l, x\($0)h" }.joined(separator: ", ") + ";")
                    for p in 0..<pixels {
                        c.line("EEC_UNPACK(x\(p)l, x\(p)h, xp + \(p == 0 ? "" : p == 1 ? "PS + " : "\(p) * PS + ")c, __builtin_arm_uxtb16);")
                    }
                    c.block("for (o = 0; o < OB; ++o)") { c in
                        c.line("int32_t wl, wh;")
                        c.line("EEC_UNPACK(wl, wh, wc + 4 * o, __builtin_arm_sxtb16);")
                        c.statements((0..<pixels).map { "a\($0)[o] = __builtin_arm_smlad(x\($0)h, wh, __builtin_arm_smlad(x\($0)l, wl, a\($0)[o]));" }, perLine: 1)
                    }
                }
            }
        }
    }
}

/// The C types of a float or an int8 convolution.
struct ConvTypes {
    var input = "float", output = "float", weight = "float", accumulator = "float", zero = "0.0f"

    init(_ int8: Int8Output?) {
        guard let int8 else { return }
        (input, weight, accumulator, zero) = ("uint8_t", "int8_t", "int32_t", "(uint8_t)zx")
        output = int8 == .uint8 ? "uint8_t" : "float"
    }
}
