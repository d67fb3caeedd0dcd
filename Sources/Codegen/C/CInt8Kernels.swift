import Quantize

/// The C of an int8 network's kernels. Each computes exactly what `Int8Interpreter` does, with
/// the same integer operations in the same order (docs/quantization.md): requantization by
/// `(int64 acc · multiplier + 2^(shift−1)) >> shift`, rescaling in int32, rounding divisions,
/// clamps. Signed right shifts are arithmetic (implementation-defined in C99, arithmetic in every
/// compiler eec targets: clang, gcc, armcc).
extension Int8Kernel: CKernel {
    func emit(_ c: inout CWriter, name: String) {
        switch self {
        case .quantizeInput(let count, let inverse):
            c.function("static void \(name)(const float *x, uint8_t *y, const int32_t *restrict q)") { c in
                c.comment(["x and y are the same slot: byte i is written after float i (bytes 4i .. 4i + 3) is read.",
                           "v is rounded to nearest, halves away from zero, from the exact remainder v - trunc(v)."])
                c.line("const int32_t z = q[0];")
                c.line("int i;")
                c.block("for (i = 0; i < \(count); ++i)") { c in
                    c.line("float v = x[i] * \(CNames.hexFloat(inverse));")
                    c.line("float f;")
                    c.line("int32_t t;")
                    c.block("if (!(v == v))") { c in
                        c.line("y[i] = (uint8_t)z;")
                        c.line("continue;")
                    }
                    c.line("if (v > 1048576.0f) v = 1048576.0f;")
                    c.line("if (v < -1048576.0f) v = -1048576.0f;")
                    c.line("t = (int32_t)v;")
                    c.line("f = v - (float)t;")
                    c.line("if (f >= 0.5f) t += 1;")
                    c.line("if (f <= -0.5f) t -= 1;")
                    c.line("t += z;")
                    c.line("y[i] = (uint8_t)(t < 0 ? 0 : t > 255 ? 255 : t);")
                }
            }
        case .conv(let k, let out):
            k.emit(&c, name: name, int8: out)
        case .linear(let k, let out):
            emitLinear(&c, name: name, k, out)
        case .add(let count):
            c.function("static void \(name)(const uint8_t *restrict x0, const uint8_t *restrict x1, uint8_t *restrict y, const int32_t *restrict q)") { c in
                c.line("const int32_t z0 = q[0], m0 = q[1], z1 = q[2], m1 = q[3], s = q[4], zy = q[5], lo = q[6];")
                c.line("const int32_t r = (int32_t)1 << (s - 1);")
                c.line("int i;")
                c.block("for (i = 0; i < \(count); ++i)") { c in
                    c.line("const int32_t t = zy + ((((int32_t)x0[i] - z0) * m0 + ((int32_t)x1[i] - z1) * m1 + r) >> s);")
                    c.line("y[i] = (uint8_t)(t < lo ? lo : t > 255 ? 255 : t);")
                }
            }
        case .concat(let k):
            let inputs = k.channels.indices.map { "const uint8_t *restrict x\($0)" }.joined(separator: ", ")
            let total = k.channels.reduce(0, +)
            c.function("static void \(name)(\(inputs), uint8_t *restrict y, const int32_t *restrict q)") { c in
                c.line("enum { HW = \(k.pixels), C = \(total) };")
                c.line("int i, k;")
                var at = 0
                for (j, n) in k.channels.enumerated() {
                    c.comment("input \(j): copied, or rescaled by q[\(5 * j)...]")
                    c.ifElse("q[\(5 * j)]", { c in
                        c.line("const int32_t z = q[\(5 * j + 1)], m = q[\(5 * j + 2)], s = q[\(5 * j + 3)], zy = q[\(5 * j + 4)];")
                        c.line("const int32_t r = (int32_t)1 << (s - 1);")
                        c.block("for (i = 0; i < HW; ++i)") { c in
                            c.block("for (k = 0; k < \(n); ++k)") { c in
                                c.line("const int32_t t = zy + ((((int32_t)x\(j)[i * \(n) + k] - z) * m + r) >> s);")
                                c.line("y[i * C + \(at) + k] = (uint8_t)(t < 0 ? 0 : t > 255 ? 255 : t);")
                            }
                        }
                    }, else: { c in
                        c.line("for (i = 0; i < HW; ++i) for (k = 0; k < \(n); ++k) y[i * C + \(at) + k] = x\(j)[i * \(n) + k];")
                    })
                    at += n
                }
            }
        case .pool(let k):
            emitPool(&c, name: name, k)
        case .globalAvgPool(let k):
            c.function("static void \(name)(const uint8_t *restrict x, uint8_t *restrict y)") { c in
                c.line("enum { HW = \(k.input.h * k.input.w), C = \(k.input.c) };")
                c.line("int32_t acc[C];")
                c.line("int i, k;")
                c.line("for (k = 0; k < C; ++k) acc[k] = 0;")
                c.line("for (i = 0; i < HW; ++i) for (k = 0; k < C; ++k) acc[k] += x[i * C + k];")
                c.line("for (k = 0; k < C; ++k) y[k] = (uint8_t)((acc[k] + HW / 2) / HW);")
            }
        case .relu(let count):
            c.function("static void \(name)(const uint8_t *restrict x, uint8_t *restrict y, const int32_t *restrict q)") { c in
                c.line("const uint8_t z = (uint8_t)q[0];")
                c.line("int i;")
                c.line("for (i = 0; i < \(count); ++i) y[i] = x[i] < z ? z : x[i];")
            }
        case .flatten(let k):
            k.emit(&c, name: name, element: "uint8_t")
        case .subsample(let k):
            k.emit(&c, name: name, element: "uint8_t")
        case .channelPad(let k):
            c.function("static void \(name)(const uint8_t *restrict x, uint8_t *restrict y, const int32_t *restrict q)") { c in
                c.line("enum { HW = \(k.pixels), C = \(k.channels), OC = \(k.before + k.channels + k.after) };")
                c.line("const uint8_t z = (uint8_t)q[0];")
                c.line("int i, k;")
                c.block("for (i = 0; i < HW; ++i)") { c in
                    if k.before > 0 { c.line("for (k = 0; k < \(k.before); ++k) y[i * OC + k] = z;") }
                    c.line("for (k = 0; k < C; ++k) y[i * OC + \(k.before) + k] = x[i * C + k];")
                    if k.after > 0 { c.line("for (k = \(k.before) + C; k < OC; ++k) y[i * OC + k] = z;") }
                }
            }
        case .maxSoftmaxLogit(let classes, let exponent):
            c.function("static void \(name)(const float *restrict x, float *restrict y, const int32_t *restrict q)") { c in
                c.comment(["the logits are exactly q * 2^-\(exponent): q is recovered exactly, then",
                           "S = sum over k != m of 2^30 * e^((q_k - q_m) * 2^-\(exponent)) in steps of 1/256 octave, z = -ln(S / 2^30)"])
                c.line("enum { K = \(classes) };")
                c.line("int32_t v[K];")
                c.line("int64_t sum = 0;")
                c.line("int k, m = 0;")
                c.line("for (k = 0; k < K; ++k) v[k] = (int32_t)(x[k] * \(CNames.hexFloat(Float(sign: .plus, exponent: Int(exponent), significand: 1))));")
                c.line("for (k = 1; k < K; ++k) m = v[k] > v[m] ? k : m;")
                c.block("for (k = 0; k < K; ++k)") { c in
                    c.line("int64_t u;")
                    c.line("if (k == m) continue;")
                    c.line("u = ((int64_t)(v[m] - v[k]) * q[0] + ((int64_t)1 << (q[1] - 1))) >> q[1];")
                    c.line("if (u < 31 * 256) sum += eec_i8_exp[u & 255] >> (int)(u >> 8);")
                }
                // |L| < 2^24: through int32, exact, and no int64-to-float routine on 32-bit cores (__aeabi_l2f).
                c.line("y[0] = sum > 0 ? (float)(int32_t)(-eec_i8_log2(sum)) * \(CNames.hexFloat(IntegerMath.logUnit)) : EEC_LOGIT_MAX;")
            }
        }
    }

    private func emitLinear(_ c: inout CWriter, name: String, _ k: LinearKernel, _ out: Int8Output) {
        let output = out == .uint8 ? "uint8_t" : "float"
        let block = min(64, k.outputs)
        c.function("static void \(name)(const uint8_t *restrict x, \(output) *restrict y, const int8_t *restrict w, const int32_t *restrict q)") { c in
            c.line("enum { IN = \(k.inputs), OUT = \(k.outputs), OB = \(block) };")
            c.line("const int32_t zy = q[3 * OUT + 1], lo = q[3 * OUT + 2];")
            c.line("int32_t acc[OB];")
            c.line("int i, o, ob;")
            if out != .uint8 { c.line("(void)zy; (void)lo;") }
            c.block("for (ob = 0; ob < OUT; ob += OB)") { c in
                c.line("const int n = OUT - ob < OB ? OUT - ob : OB;")
                c.line("for (o = 0; o < n; ++o) acc[o] = q[ob + o];")
                c.block("for (i = 0; i < IN; ++i)") { c in
                    c.line("const int32_t v = x[i];")
                    c.line("const int8_t *restrict row = w + i * OUT + ob;")
                    c.line("for (o = 0; o < n; ++o) acc[o] += v * row[o];")
                }
                c.block("for (o = 0; o < n; ++o)") { c in
                    c.line("const int32_t m = q[OUT + ob + o], s = q[2 * OUT + ob + o];")
                    c.line("y[ob + o] = \(CInt8.outputCall(out, "acc[o]"));")
                }
            }
        }
    }

    private func emitPool(_ c: inout CWriter, name: String, _ k: PoolKernel) {
        let padded = k.pad.0 > 0 || k.pad.1 > 0
        let params = k.max ? "const uint8_t *restrict x, uint8_t *restrict y" : "const uint8_t *restrict x, uint8_t *restrict y, const int32_t *restrict q"
        c.function("static void \(name)(\(params))") { c in
            c.line("enum { H = \(k.input.h), W = \(k.input.w), C = \(k.input.c), OH = \(k.output.h), OW = \(k.output.w), KH = \(k.kernel.0), KW = \(k.kernel.1), SH = \(k.stride.0), SW = \(k.stride.1), PH = \(k.pad.0), PW = \(k.pad.1) };")
            if !k.max {
                c.line(padded ? "const int32_t z = q[0];" : "(void)q;")
                c.line("int32_t acc[C];")
            }
            c.line("int oy, ox, ky, kx, k;")
            c.block("for (oy = 0; oy < OH; ++oy)") { c in
                c.block("for (ox = 0; ox < OW; ++ox)") { c in
                    c.line("uint8_t *restrict out = y + (oy * OW + ox) * C;")
                    c.line(k.max ? "for (k = 0; k < C; ++k) out[k] = 0;" : "for (k = 0; k < C; ++k) acc[k] = 0;")
                    c.block("for (ky = 0; ky < KH; ++ky)") { c in
                        c.line("const int iy = oy * SH - PH + ky;")
                        c.block("for (kx = 0; kx < KW; ++kx)") { c in
                            c.line("const int ix = ox * SW - PW + kx;")
                            c.line("const uint8_t *restrict in;")
                            if padded {
                                c.block("if (iy < 0 || iy >= H || ix < 0 || ix >= W)") { c in
                                    if !k.max { c.line("for (k = 0; k < C; ++k) acc[k] += z;") }
                                    c.line("continue;")
                                }
                            }
                            c.line("in = x + (iy * W + ix) * C;")
                            c.line(k.max ? "for (k = 0; k < C; ++k) out[k] = in[k] > out[k] ? in[k] : out[k];" : "for (k = 0; k < C; ++k) acc[k] += in[k];")
                        }
                    }
                    if !k.max { c.line("for (k = 0; k < C; ++k) out[k] = (uint8_t)((acc[k] + KH * KW / 2) / (KH * KW));") }
                }
            }
        }
    }

    /// The C types of the arena arguments (inputs, then the output).
    func arenaTypes(inputs: Int) -> (inputs: [String], output: String) {
        switch self {
        case .quantizeInput: (["float"], "uint8_t")
        case .conv(_, let out), .linear(_, let out): (["uint8_t"], out == .uint8 ? "uint8_t" : "float")
        case .maxSoftmaxLogit: (["float"], "float")
        default: (Array(repeating: "uint8_t", count: inputs), "uint8_t")
        }
    }
}

/// The helpers an int8 network's C file defines before its kernels, only those it uses.
enum CInt8 {
    /// The output rule of a layer's accumulator (`IntegerProgram.Output`), as a call.
    static func outputCall(_ out: Int8Output, _ acc: String) -> String {
        switch out {
        case .uint8: "eec_i8_requantize(\(acc), m, s, zy, lo)"
        case .logits(let e): "eec_i8_logit(\(acc), m, s, \(CNames.hexFloat(Float(sign: .plus, exponent: -Int(e), significand: 1))))"
        }
    }

    static func prelude(_ kernels: [Int8Kernel]) -> CWriter {
        var c = CWriter()
        if kernels.contains(where: { if case .conv(let k, _) = $0 { k.int8Quads && k.block % 16 == 0 } else { false } }) {
            c.comment(["With clang and AVX-512 VNNI (e.g. -march=native on such a CPU) the convolution tiles use vpdpbusd",
                       "(4 u8 x s8 products into each int32 lane, no saturation: the same integers); elsewhere plain C.",
                       "-DEEC_NO_VNNI turns it off."])
            c.line("#if defined(__clang__) && defined(__AVX512VNNI__) && defined(__AVX512F__) && !defined(EEC_NO_VNNI)")
            c.line("#define EEC_VNNI 1")
            c.line("typedef int eec_v16si __attribute__((vector_size(64)));")
            c.line("#else")
            c.line("#define EEC_VNNI 0")
            c.line("#endif")
            c.line()
        }
        if kernels.contains(where: { if case .conv(let k, _) = $0 { k.int8Quads } else { false } }) {
            c.comment(["With clang on an Arm core with the DSP extension (Cortex-M4, M7, M33) the convolution tiles use",
                       "UXTB16, SXTB16 and SMLAD (two 16 x 16 products per instruction: the same integers); -DEEC_NO_DSP turns",
                       "it off. EEC_UNPACK reads 4 bytes and widens bytes 0, 2 into lo and bytes 1, 3 into hi."])
            c.line("#if defined(__clang__) && defined(__ARM_FEATURE_DSP) && !defined(EEC_NO_DSP)")
            c.line("#define EEC_DSP 1")
            c.line("#define EEC_UNPACK(lo, hi, p, widen) do { uint32_t eec_u_; __builtin_memcpy(&eec_u_, (p), 4); \\")
            c.line("    (lo) = widen((int32_t)eec_u_); (hi) = widen((int32_t)((eec_u_ >> 8) | (eec_u_ << 24))); } while (0)")
            c.line("#else")
            c.line("#define EEC_DSP 0")
            c.line("#endif")
            c.line()
        }
        let outputs = kernels.compactMap { k -> Int8Output? in
            switch k {
            case .conv(_, let o), .linear(_, let o): o
            default: nil
            }
        }
        if outputs.contains(.uint8) {
            c.comment("round(acc * m / 2^s), halves up, plus the output zero point, clamped to lo .. 255")
            c.function("static uint8_t eec_i8_requantize(int32_t acc, int32_t m, int32_t s, int32_t zy, int32_t lo)") { c in
                c.line("const int64_t v = (((int64_t)acc * m + ((int64_t)1 << (s - 1))) >> s) + zy;")
                c.line("return (uint8_t)(v < lo ? lo : v > 255 ? 255 : v);")
            }
            c.line()
        }
        if outputs.contains(where: { $0 != .uint8 }) {
            c.comment("round(acc * m / 2^s), halves up, clamped to +-(2^24 - 1), times the power-of-two scale: an exact float")
            c.function("static float eec_i8_logit(int32_t acc, int32_t m, int32_t s, float scale)") { c in
                c.line("int64_t v = ((int64_t)acc * m + ((int64_t)1 << (s - 1))) >> s;")
                c.line("v = v < -16777215 ? -16777215 : v > 16777215 ? 16777215 : v;")
                c.line("return (float)(int32_t)v * scale;")
            }
            c.line()
        }
        if kernels.contains(where: { if case .maxSoftmaxLogit = $0 { true } else { false } }) {
            c.comment("2^30 * 2^(-j/256), j = 0 .. 255")
            c.line("static const int32_t eec_i8_exp[256] = {")
            let table = IntegerMath.expTable
            for start in stride(from: 0, to: 256, by: 8) {
                c.line("    " + table[start..<(start + 8)].map { "\($0)," }.joined(separator: " "))
            }
            c.line("};")
            c.line()
            c.comment(["log2(s / 2^30) in Q16 for s > 0: the integer part from the highest set bit, 16 fraction",
                       "bits by squaring the Q30 mantissa (truncated) and halving it past 2"])
            c.function("static int64_t eec_i8_log2(int64_t s)") { c in
                c.line("int64_t e = 0, x, frac = 0;")
                c.line("int i;")
                c.line("while ((s >> e) > 1) ++e;")
                c.line("x = e >= 30 ? s >> (e - 30) : s << (30 - e);")
                c.block("for (i = 0; i < 16; ++i)") { c in
                    c.line("x = (x * x) >> 30;")
                    c.block("if (x >= ((int64_t)1 << 31))") { c in
                        c.line("x >>= 1;")
                        c.line("frac |= (int64_t)1 << (15 - i);")
                    }
                }
                c.line("return (e - 30) * 65536 + frac;")
            }
            c.line()
        }
        return c
    }
}
