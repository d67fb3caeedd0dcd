/// A kernel printed as a Swift function specialized to its shape (see `KernelSpec` for what it
/// computes and the order of its parameters). Bodies are plain loops over pointers with constant
/// bounds and wrapping index arithmetic (`&+`, `&*`): no overflow traps stand in the way of the
/// optimizer's vectorizer, as in the C kernels.
protocol SwiftKernel: KernelSpec {
    func emitSwift(_ s: inout CWriter, name: String)
}

private let x = "_ x: UnsafePointer<Float>", y = "_ y: UnsafeMutablePointer<Float>"

extension CWriter {
    /// `func name(params) {`, the body, `}`; file-level and internal, so the optimizer sees every caller.
    mutating func swiftFunction(_ name: String, _ params: String, _ body: (inout CWriter) -> Void) {
        block("func \(name)(\(params))", body)
    }

    /// A `//` comment, one line per entry (empty entries give a bare `//`).
    mutating func swiftComment(_ lines: [String]) {
        for l in lines { line(l.isEmpty ? "//" : "// " + l) }
    }

    mutating func swiftComment(_ s: String) { swiftComment([s]) }
}

/// An elementwise kernel: `y[i] = expression` for each of `count` floats, `expression` written
/// over `x[i]`.
private func elementwise(_ s: inout CWriter, name: String, count: Int, _ expression: String) {
    s.swiftFunction(name, "\(x), \(y)") { s in
        s.line("for i in 0..<\(count) { y[i] = \(expression) }")
    }
}

extension ReluKernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        elementwise(&s, name: name, count: count, "x[i] < 0 ? 0 : x[i]")
    }
}

extension Relu6Kernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        elementwise(&s, name: name, count: count, "x[i] < 0 ? 0 : (x[i] > 6 ? 6 : x[i])")
    }
}

extension AddKernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        s.swiftFunction(name, "_ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, \(y)") { s in
            s.block("for i in 0..<\(count)") { s in
                s.line("let v = x0[i] + x1[i]")
                s.line(relu ? "y[i] = v < 0 ? 0 : v" : "y[i] = v")
            }
        }
    }
}

extension BatchNormKernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        s.swiftFunction(name, "\(x), \(y), _ scale: UnsafePointer<Float>, _ shift: UnsafePointer<Float>") { s in
            s.block("for i in 0..<\(map.h * map.w)") { s in
                s.line("for k in 0..<\(map.c) { y[i &* \(map.c) &+ k] = x[i &* \(map.c) &+ k] * scale[k] + shift[k] }")
            }
        }
    }
}

extension ConcatKernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        let inputs = channels.indices.map { "_ x\($0): UnsafePointer<Float>" }.joined(separator: ", ")
        let total = channels.reduce(0, +)
        s.swiftFunction(name, "\(inputs), \(y)") { s in
            s.block("for i in 0..<\(pixels)") { s in
                var at = 0
                for (j, n) in channels.enumerated() {
                    s.line("for k in 0..<\(n) { y[i &* \(total) &+ \(at) &+ k] = x\(j)[i &* \(n) &+ k] }")
                    at += n
                }
            }
        }
    }
}

extension PoolKernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        let padded = pad.0 > 0 || pad.1 > 0
        let c = input.c
        s.swiftFunction(name, "\(x), \(y)") { s in
            s.block("for oy in 0..<\(output.h)") { s in
                s.block("for ox in 0..<\(output.w)") { s in
                    s.line("let out = y + (oy &* \(output.w) &+ ox) &* \(c)")
                    if max { s.line("var first = true") } else { s.line("for k in 0..<\(c) { out[k] = 0 }") }
                    s.block("for ky in 0..<\(kernel.0)") { s in
                        s.line("let iy = oy &* \(stride.0) &- \(pad.0) &+ ky")
                        if padded { s.line("if iy < 0 || iy >= \(input.h) { continue }") }
                        s.block("for kx in 0..<\(kernel.1)") { s in
                            s.line("let ix = ox &* \(stride.1) &- \(pad.1) &+ kx")
                            if padded { s.line("if ix < 0 || ix >= \(input.w) { continue }") }
                            s.line("let inp = x + (iy &* \(input.w) &+ ix) &* \(c)")
                            if max {
                                s.block("if first") { s in
                                    s.line("for k in 0..<\(c) { out[k] = inp[k] }")
                                    s.line("first = false")
                                }
                                s.block("else") { s in
                                    s.line("for k in 0..<\(c) { out[k] = inp[k] > out[k] ? inp[k] : out[k] }")
                                }
                            } else {
                                s.line("for k in 0..<\(c) { out[k] += inp[k] }")
                            }
                        }
                    }
                    if !max { s.line("for k in 0..<\(c) { out[k] = out[k] / \(Float(kernel.0 * kernel.1)) }") }
                }
            }
        }
    }
}

extension GlobalAvgPoolKernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        let c = input.c
        s.swiftFunction(name, "\(x), \(y)") { s in
            s.line("for k in 0..<\(c) { y[k] = 0 }")
            s.block("for i in 0..<\(input.h * input.w)") { s in
                s.line("for k in 0..<\(c) { y[k] += x[i &* \(c) &+ k] }")
            }
            s.line("for k in 0..<\(c) { y[k] = y[k] / \(Float(input.h * input.w)) }")
        }
    }
}

extension FlattenKernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        let hw = input.h * input.w, c = input.c
        s.swiftFunction(name, "\(x), \(y)") { s in
            if hw == 1 {
                s.line("for i in 0..<\(c) { y[i] = x[i] }")
            } else {
                s.block("for k in 0..<\(c)") { s in
                    s.line("for i in 0..<\(hw) { y[k &* \(hw) &+ i] = x[i &* \(c) &+ k] }")
                }
            }
        }
    }
}

extension LinearKernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        let params = bias ? "_ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>" : "_ w: UnsafePointer<Float>"
        s.swiftFunction(name, "\(x), \(y), \(params)") { s in
            s.line(bias ? "for o in 0..<\(outputs) { y[o] = b[o] }" : "for o in 0..<\(outputs) { y[o] = 0 }")
            s.block("for i in 0..<\(inputs)") { s in
                s.line("let v = x[i]")
                s.line("let row = w + i &* \(outputs)")
                s.line("for o in 0..<\(outputs) { y[o] += v * row[o] }")
            }
            if relu { s.line("for o in 0..<\(outputs) { y[o] = y[o] < 0 ? 0 : y[o] }") }
        }
    }
}

extension SoftmaxKernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        s.swiftFunction(name, "\(x), \(y)") { s in
            s.block("for i in 0..<\(pixels)") { s in
                s.line("let inp = x + i &* \(channels), out = y + i &* \(channels)")
                s.line("var top = inp[0], sum: Float = 0")
                s.line("for k in 1..<\(Swift.max(channels, 1)) { top = inp[k] > top ? inp[k] : top }")
                s.block("for k in 0..<\(channels)") { s in
                    s.line("out[k] = eecExp(inp[k] - top)")
                    s.line("sum += out[k]")
                }
                s.line("for k in 0..<\(channels) { out[k] = out[k] / sum }")
            }
        }
    }
}

extension MaxSoftmaxLogitKernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        s.swiftFunction(name, "\(x), \(y)") { s in
            guard classes > 1 else {
                s.swiftComment("one class: p = 1, unless the logit is NaN")
                s.line("y[0] = x[0].isNaN ? x[0] : eecLogitMax")
                return
            }
            s.swiftComment("a NaN logit: a NaN confidence, which never exits")
            s.line("for k in 0..<\(classes) where x[k].isNaN { y[0] = x[k]; return }")
            s.line("var m = 0")
            s.line("for k in 1..<\(classes) { m = x[k] > x[m] ? k : m }")
            s.line("var second = m == 0 ? x[1] : x[0]")
            s.line("for k in 0..<\(classes) { second = k != m && x[k] > second ? x[k] : second }")
            s.line("let spread = x[m] - second")
            s.swiftComment("two equal infinite top logits: softmax is undefined")
            s.line("if spread.isNaN { y[0] = spread; return }")
            s.swiftComment("a runner-up infinitely far below, or a spread past the float range: p = 1")
            s.line("if spread > eecLogitMax { y[0] = eecLogitMax; return }")
            s.swiftComment("relative to the runner-up the sum lies in [1, K - 1]: it cannot underflow")
            s.line("var sum: Float = 0")
            s.line("for k in 0..<\(classes) { sum += k != m ? eecExp(x[k] - second) : 0 }")
            s.line("y[0] = spread - eecLog(sum)")
        }
    }
}

extension SigmoidKernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        elementwise(&s, name: name, count: count, "1 / (1 + eecExp(-x[i]))")
    }
}

extension SubsampleKernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        let c = input.c
        s.swiftFunction(name, "\(x), \(y)") { s in
            s.block("for oy in 0..<\(output.h)") { s in
                s.block("for ox in 0..<\(output.w)") { s in
                    s.line("let out = y + (oy &* \(output.w) &+ ox) &* \(c)")
                    s.line("let inp = x + (oy &* \(stride * input.w) &+ ox &* \(stride)) &* \(c)")
                    s.line("for k in 0..<\(c) { out[k] = inp[k] }")
                }
            }
        }
    }
}

extension ChannelPadKernel: SwiftKernel {
    func emitSwift(_ s: inout CWriter, name: String) {
        let oc = before + channels + after
        s.swiftFunction(name, "\(x), \(y)") { s in
            s.block("for i in 0..<\(pixels)") { s in
                s.line("let out = y + i &* \(oc)")
                if before > 0 { s.line("for k in 0..<\(before) { out[k] = 0 }") }
                s.line("for k in 0..<\(channels) { out[\(before) &+ k] = x[i &* \(channels) &+ k] }")
                if after > 0 { s.line("for k in \(before + channels)..<\(oc) { out[k] = 0 }") }
            }
        }
    }
}
