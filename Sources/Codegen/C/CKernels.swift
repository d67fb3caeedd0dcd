/// A C function specialized to one op and shape. Nodes whose kernels have the same `key` share
/// one function (the twelve identical convolutions of a ResNet stage are one kernel), so code
/// size grows with the number of distinct shapes, not of layers.
///
/// Parameters, in order: input pointers, the output pointer, weight pointers, then the scratch
/// window when `scratchFloats > 0`. Values are channels last (see `CLayout`).
protocol CKernel: Sendable {
    /// Spells the whole signature; becomes the function's name (`k_` + key).
    var key: String { get }
    /// One line for the comment above the function.
    var summary: String { get }
    /// Scratch floats the kernel needs (a convolution's padded window), 0 for none.
    var scratchFloats: Int { get }
    func emit(_ c: inout CWriter, name: String)
}

extension CKernel {
    var scratchFloats: Int { 0 }
}

/// `[H][W][C]` geometry of a feature map, from an IR shape `[1, C, H, W]` (or `[1, F]`: 1×1×F).
struct MapShape: Equatable {
    var h: Int, w: Int, c: Int

    init(_ shape: [Int]) {
        if shape.count == 4 {
            (h, w, c) = (shape[2], shape[3], shape[1])
        } else {
            (h, w, c) = (1, 1, shape.dropFirst().reduce(1, *))
        }
    }

    var count: Int { h * w * c }
    var spelled: String { "\(h)x\(w)x\(c)" }
}

private let x = "const float *restrict x", y = "float *restrict y"

/// y = max(x, 0).
struct ReluKernel: CKernel {
    var count: Int
    var key: String { "relu_\(count)" }
    var summary: String { "relu over \(grouped(count)) floats" }
    func emit(_ c: inout CWriter, name: String) {
        c.function("static void \(name)(\(x), \(y))") { c in
            c.line("int i;")
            c.line("for (i = 0; i < \(count); ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];")
        }
    }
}

/// y = x0 + x1, then max(·, 0) when a ReLU was fused into the add.
struct AddKernel: CKernel {
    var count: Int
    var relu: Bool
    var key: String { "add_\(count)" + (relu ? "_relu" : "") }
    var summary: String { "add of \(grouped(count)) floats" + (relu ? ", relu" : "") }
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

/// Per-channel scale and shift (an inference BatchNorm that could not be folded into a conv).
struct BatchNormKernel: CKernel {
    var map: MapShape
    var key: String { "batchnorm_\(map.spelled)" }
    var summary: String { "batchnorm as scale and shift per channel, [\(map.h)][\(map.w)][\(map.c)]" }
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

/// Channel concatenation: each pixel's channels are the inputs' channels in argument order.
struct ConcatKernel: CKernel {
    var pixels: Int
    var channels: [Int]
    var key: String { "concat_\(pixels)_" + channels.map(String.init).joined(separator: "_") }
    var summary: String { "concat of \(channels.count) maps over \(grouped(pixels)) pixels, channels \(channels.map(String.init).joined(separator: " + "))" }
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

/// Max or average over windows (average counting padding as zeros, PyTorch's default).
struct PoolKernel: CKernel {
    var max: Bool
    var input: MapShape, output: MapShape
    var kernel: (Int, Int), stride: (Int, Int), pad: (Int, Int)

    var key: String {
        "\(max ? "maxpool" : "avgpool")\(kernel.0)x\(kernel.1)_s\(stride.0)x\(stride.1)_p\(pad.0)x\(pad.1)_\(input.spelled)"
    }
    var summary: String {
        "\(max ? "max" : "average") pool \(kernel.0)x\(kernel.1) stride \(stride.0)x\(stride.1) pad \(pad.0)x\(pad.1), [\(input.h)][\(input.w)][\(input.c)] -> [\(output.h)][\(output.w)][\(output.c)]"
    }

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

/// Mean of each channel over the whole map.
struct GlobalAvgPoolKernel: CKernel {
    var input: MapShape
    var key: String { "global_avg_pool_\(input.spelled)" }
    var summary: String { "global average pool, [\(input.h)][\(input.w)][\(input.c)] -> [\(input.c)]" }
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

/// `torch.flatten(x, 1)`: features in C, H, W order, so a channels-last map with more than one
/// pixel is transposed; otherwise a copy.
struct FlattenKernel: CKernel {
    var input: MapShape
    var key: String { "flatten_\(input.spelled)" }
    var summary: String {
        input.h * input.w == 1 ? "flatten (a copy) of \(input.c) floats" : "flatten [\(input.h)][\(input.w)][\(input.c)] to C, H, W order"
    }
    func emit(_ c: inout CWriter, name: String) {
        c.function("static void \(name)(\(x), \(y))") { c in
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

/// y = x · W + b with W stored `[in][out]`: the inner loop runs over outputs.
struct LinearKernel: CKernel {
    var inputs: Int, outputs: Int
    var bias: Bool, relu: Bool
    var key: String { "linear_\(inputs)_\(outputs)" + (bias ? "" : "_nobias") + (relu ? "_relu" : "") }
    var summary: String { "linear \(inputs) -> \(outputs)" + (bias ? " + bias" : "") + (relu ? ", relu" : "") }
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

/// Softmax over channels (axis 1): over each pixel's channels, or over a `[1, F]` vector.
struct SoftmaxKernel: CKernel {
    var pixels: Int, channels: Int
    var key: String { "softmax_\(pixels)x\(channels)" }
    var summary: String { "softmax over \(channels) channels at \(grouped(pixels)) pixel\(pixels == 1 ? "" : "s"), max subtracted first" }
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

/// The logit of the largest softmax probability of `classes` logits (see `MaxSoftmaxLogit`):
/// (x_m − x_r) − ln Σ_{k≠m} e^(x_k − x_r), m the argmax, r the runner-up, so the sum lies in
/// [1, classes − 1]: no underflow, and z ≤ x_m − x_r needs no clamp once an infinite spread is
/// caught. One class gives EEC_LOGIT_MAX (p = 1); a NaN logit gives NaN.
struct MaxSoftmaxLogitKernel: CKernel {
    var classes: Int
    var key: String { "max_softmax_logit_\(classes)" }
    var summary: String { "logit of the largest softmax probability of \(classes) logit\(classes == 1 ? "" : "s")" }
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

/// 1 / (1 + e^−x), elementwise.
struct SigmoidKernel: CKernel {
    var count: Int
    var key: String { "sigmoid_\(count)" }
    var summary: String { "sigmoid over \(grouped(count)) floats" }
    func emit(_ c: inout CWriter, name: String) {
        c.function("static void \(name)(\(x), \(y))") { c in
            c.line("int i;")
            c.line("for (i = 0; i < \(count); ++i) y[i] = 1.0f / (1.0f + eec_expf(-x[i]));")
        }
    }
}

/// `x[:, :, ::s, ::s]`.
struct SubsampleKernel: CKernel {
    var input: MapShape, output: MapShape
    var stride: Int
    var key: String { "subsample_s\(stride)_\(input.spelled)" }
    var summary: String { "subsample by \(stride), [\(input.h)][\(input.w)][\(input.c)] -> [\(output.h)][\(output.w)][\(output.c)]" }
    func emit(_ c: inout CWriter, name: String) {
        c.function("static void \(name)(\(x), \(y))") { c in
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

/// Zero channels before and after each pixel's channels.
struct ChannelPadKernel: CKernel {
    var pixels: Int, channels: Int, before: Int, after: Int
    var key: String { "channel_pad_\(pixels)x\(channels)_\(before)_\(after)" }
    var summary: String { "channel pad \(before) + \(channels) + \(after) over \(grouped(pixels)) pixels" }
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
