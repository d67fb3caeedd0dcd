/// A kernel printed as a C function specialized to its shape (see `KernelSpec` for what it
/// computes and the order of its parameters).
protocol CKernel: KernelSpec {
    func emit(_ c: inout CWriter, name: String)
}

private let x = "const float *restrict x", y = "float *restrict y"

/// An elementwise kernel: `y[i] = expression` for each of `count` floats, `expression` written
/// over `x[i]`.
private func elementwise(_ c: inout CWriter, name: String, count: Int, _ expression: String) {
    c.function("static void \(name)(\(x), \(y))") { c in
        c.line("int i;")
        c.line("for (i = 0; i < \(count); ++i) y[i] = \(expression);")
    }
}

extension ReluKernel: CKernel {
    func emit(_ c: inout CWriter, name: String) {
        elementwise(&c, name: name, count: count, "x[i] < 0.0f ? 0.0f : x[i]")
    }
}

extension Relu6Kernel: CKernel {
    func emit(_ c: inout CWriter, name: String) {
        elementwise(&c, name: name, count: count, "x[i] < 0.0f ? 0.0f : (x[i] > 6.0f ? 6.0f : x[i])")
    }
}

extension AddKernel: CKernel {
    func emit(_ c: inout CWriter, name: String) {
        c.function("static void \(name)(const float *restrict x0, const float *restrict x1, \(y))") { c in
            c.line("int i;")
            c.block("for (i = 0; i < \(count); ++i)") { c in
                c.line("const float v = x0[i] + x1[i];")
                c.line(relu ? "y[i] = v < 0.0f ? 0.0f : v;" : "y[i] = v;")
            }
        }
    }
}

extension BatchNormKernel: CKernel {
    func emit(_ c: inout CWriter, name: String) {
        c.function("static void \(name)(\(x), \(y), const float *restrict scale, const float *restrict shift)") { c in
            c.line("enum { HW = \(map.h * map.w), C = \(map.c) };")
            c.line("int i, k;")
            c.block("for (i = 0; i < HW; ++i)") { c in
                c.line("for (k = 0; k < C; ++k) y[i * C + k] = x[i * C + k] * scale[k] + shift[k];")
            }
        }
    }
}

extension ConcatKernel: CKernel {
    func emit(_ c: inout CWriter, name: String) {
        let inputs = channels.indices.map { "const float *restrict x\($0)" }.joined(separator: ", ")
        let total = channels.reduce(0, +)
        c.function("static void \(name)(\(inputs), \(y))") { c in
            c.line("enum { HW = \(pixels), C = \(total) };")
            c.line("int i, k;")
            c.block("for (i = 0; i < HW; ++i)") { c in
                var at = 0
                for (j, n) in channels.enumerated() {
                    c.line("for (k = 0; k < \(n); ++k) y[i * C + \(at) + k] = x\(j)[i * \(n) + k];")
                    at += n
                }
            }
        }
    }
}

extension PoolKernel: CKernel {
    func emit(_ c: inout CWriter, name: String) {
        let padded = pad.0 > 0 || pad.1 > 0
        c.function("static void \(name)(\(x), \(y))") { c in
            c.line("enum { H = \(input.h), W = \(input.w), C = \(input.c), OH = \(output.h), OW = \(output.w), KH = \(kernel.0), KW = \(kernel.1), SH = \(stride.0), SW = \(stride.1), PH = \(pad.0), PW = \(pad.1) };")
            c.line("int oy, ox, ky, kx, k;")
            c.block("for (oy = 0; oy < OH; ++oy)") { c in
                c.block("for (ox = 0; ox < OW; ++ox)") { c in
                    c.line("float *restrict out = y + (oy * OW + ox) * C;")
                    if max { c.line("int first = 1;") }
                    if !max { c.line("for (k = 0; k < C; ++k) out[k] = 0.0f;") }
                    c.block("for (ky = 0; ky < KH; ++ky)") { c in
                        c.line("const int iy = oy * SH - PH + ky;")
                        if padded { c.line("if (iy < 0 || iy >= H) continue;") }
                        c.block("for (kx = 0; kx < KW; ++kx)") { c in
                            c.line("const int ix = ox * SW - PW + kx;")
                            c.line("const float *restrict in;")
                            if padded { c.line("if (ix < 0 || ix >= W) continue;") }
                            c.line("in = x + (iy * W + ix) * C;")
                            if max {
                                c.ifElse("first", { c in
                                    c.line("for (k = 0; k < C; ++k) out[k] = in[k];")
                                    c.line("first = 0;")
                                }, else: { c in
                                    c.line("for (k = 0; k < C; ++k) out[k] = in[k] > out[k] ? in[k] : out[k];")
                                })
                            } else {
                                c.line("for (k = 0; k < C; ++k) out[k] += in[k];")
                            }
                        }
                    }
                    if !max { c.line("for (k = 0; k < C; ++k) out[k] = out[k] / \(Float(kernel.0 * kernel.1))f;") }
                }
            }
        }
    }
}

extension GlobalAvgPoolKernel: CKernel {
    func emit(_ c: inout CWriter, name: String) {
        c.function("static void \(name)(\(x), \(y))") { c in
            c.line("enum { HW = \(input.h * input.w), C = \(input.c) };")
            c.line("int i, k;")
            c.line("for (k = 0; k < C; ++k) y[k] = 0.0f;")
            c.block("for (i = 0; i < HW; ++i)") { c in
                c.line("for (k = 0; k < C; ++k) y[k] += x[i * C + k];")
            }
            c.line("for (k = 0; k < C; ++k) y[k] = y[k] / \(Float(input.h * input.w))f;")
        }
    }
}

extension FlattenKernel: CKernel {
    func emit(_ c: inout CWriter, name: String) { emit(&c, name: name, element: "float") }

    /// `element`: the C type of the values (`uint8_t` for the int8 kernel, which moves codes alike).
    func emit(_ c: inout CWriter, name: String, element: String) {
        c.function("static void \(name)(const \(element) *restrict x, \(element) *restrict y)") { c in
            if input.h * input.w == 1 {
                c.line("int i;")
                c.line("for (i = 0; i < \(input.c); ++i) y[i] = x[i];")
            } else {
                c.line("enum { HW = \(input.h * input.w), C = \(input.c) };")
                c.line("int i, k;")
                c.block("for (k = 0; k < C; ++k)") { c in
                    c.line("for (i = 0; i < HW; ++i) y[k * HW + i] = x[i * C + k];")
                }
            }
        }
    }
}

extension LinearKernel: CKernel {
    func emit(_ c: inout CWriter, name: String) {
        let params = bias ? "const float *restrict w, const float *restrict b" : "const float *restrict w"
        c.function("static void \(name)(\(x), \(y), \(params))") { c in
            c.line("enum { IN = \(inputs), OUT = \(outputs) };")
            c.line("int i, o;")
            c.line(bias ? "for (o = 0; o < OUT; ++o) y[o] = b[o];" : "for (o = 0; o < OUT; ++o) y[o] = 0.0f;")
            c.block("for (i = 0; i < IN; ++i)") { c in
                c.line("const float v = x[i];")
                c.line("const float *restrict row = w + i * OUT;")
                c.line("for (o = 0; o < OUT; ++o) y[o] += v * row[o];")
            }
            if relu { c.line("for (o = 0; o < OUT; ++o) y[o] = y[o] < 0.0f ? 0.0f : y[o];") }
        }
    }
}

extension SoftmaxKernel: CKernel {
    func emit(_ c: inout CWriter, name: String) {
        c.function("static void \(name)(\(x), \(y))") { c in
            c.line("enum { HW = \(pixels), C = \(channels) };")
            c.line("int i, k;")
            c.block("for (i = 0; i < HW; ++i)") { c in
                c.line("const float *restrict in = x + i * C;")
                c.line("float *restrict out = y + i * C;")
                c.line("float top = in[0], sum = 0.0f;")
                c.line("for (k = 1; k < C; ++k) top = in[k] > top ? in[k] : top;")
                c.block("for (k = 0; k < C; ++k)") { c in
                    c.line("out[k] = eec_expf(in[k] - top);")
                    c.line("sum += out[k];")
                }
                c.line("for (k = 0; k < C; ++k) out[k] = out[k] / sum;")
            }
        }
    }
}

extension MaxSoftmaxLogitKernel: CKernel {
    func emit(_ c: inout CWriter, name: String) {
        c.function("static void \(name)(\(x), \(y))") { c in
            guard classes > 1 else {
                c.comment("one class: p = 1, unless the logit is NaN")
                c.line("y[0] = x[0] != x[0] ? x[0] : EEC_LOGIT_MAX;")
                return
            }
            c.line("enum { K = \(classes) };")
            c.line("int k, m = 0;")
            c.line("float second, spread, sum = 0.0f;")
            c.block("for (k = 0; k < K; ++k)") { c in
                answer(&c, if: "x[k] != x[k]", "x[k]", "a NaN logit: a NaN confidence, which never exits")
            }
            c.line("for (k = 1; k < K; ++k) m = x[k] > x[m] ? k : m;")
            c.line("second = m == 0 ? x[1] : x[0];")
            c.line("for (k = 0; k < K; ++k) second = k != m && x[k] > second ? x[k] : second;")
            c.line("spread = x[m] - second;")
            answer(&c, if: "spread != spread", "spread", "two equal infinite top logits: softmax is undefined")
            answer(&c, if: "spread > EEC_LOGIT_MAX", "EEC_LOGIT_MAX", "a runner-up infinitely far below, or a spread past the float range: p = 1")
            c.comment("relative to the runner-up the sum lies in [1, K - 1]: it cannot underflow")
            c.line("for (k = 0; k < K; ++k) sum += k != m ? eec_expf(x[k] - second) : 0.0f;")
            c.line("y[0] = spread - eec_logf(sum);")
        }
    }

    /// `if (condition) { y[0] = value; return; }`, saying why.
    private func answer(_ c: inout CWriter, if condition: String, _ value: String, _ why: String) {
        c.block("if (\(condition))") { c in
            c.comment(why)
            c.line("y[0] = \(value);")
            c.line("return;")
        }
    }
}

extension SigmoidKernel: CKernel {
    func emit(_ c: inout CWriter, name: String) {
        elementwise(&c, name: name, count: count, "1.0f / (1.0f + eec_expf(-x[i]))")
    }
}

extension SubsampleKernel: CKernel {
    func emit(_ c: inout CWriter, name: String) { emit(&c, name: name, element: "float") }

    /// `element`: the C type of the values (`uint8_t` for the int8 kernel, which moves codes alike).
    func emit(_ c: inout CWriter, name: String, element: String) {
        c.function("static void \(name)(const \(element) *restrict x, \(element) *restrict y)") { c in
            c.line("enum { W = \(input.w), C = \(input.c), OH = \(output.h), OW = \(output.w), S = \(stride) };")
            c.line("int oy, ox, k;")
            c.block("for (oy = 0; oy < OH; ++oy)") { c in
                c.block("for (ox = 0; ox < OW; ++ox)") { c in
                    c.line("for (k = 0; k < C; ++k) y[(oy * OW + ox) * C + k] = x[(oy * S * W + ox * S) * C + k];")
                }
            }
        }
    }
}

extension ChannelPadKernel: CKernel {
    func emit(_ c: inout CWriter, name: String) {
        c.function("static void \(name)(\(x), \(y))") { c in
            c.line("enum { HW = \(pixels), C = \(channels), OC = \(before + channels + after) };")
            c.line("int i, k;")
            c.block("for (i = 0; i < HW; ++i)") { c in
                if before > 0 { c.line("for (k = 0; k < \(before); ++k) y[i * OC + k] = 0.0f;") }
                c.line("for (k = 0; k < C; ++k) y[i * OC + \(before) + k] = x[i * C + k];")
                if after > 0 { c.line("for (k = \(before) + C; k < OC; ++k) y[i * OC + k] = 0.0f;") }
            }
        }
    }
}
