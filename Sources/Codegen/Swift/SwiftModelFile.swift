import IR

/// `<Model>.swift`: the public API, the `EECNetwork` conformance the runtime drives, the named
/// offsets, the kernels, one function per node and one per segment and exit head.
extension SwiftSource {
    public func source() -> String {
        let lowered = program.lowered
        var s = CWriter()
        s.swiftComment(["\(t).swift: the early-exit network '\(program.model)', compiled to Swift by eec. Do not edit.", "",
                        "Values are channels last ([H][W][C]) in one arena of floats; `a + a_conv1` is tensor conv1,",
                        "at the offset the memory plan gave it. Every kernel is specialized to one shape, every loop",
                        "bound is a constant, and nodes with the same op and shape share one kernel."])
        s.line()
        emitAPI(&s)
        s.line()
        emitConformance(&s)
        s.line()
        emitOffsets(&s)
        s.swiftComment("---- kernels: one per distinct op and shape ----")
        s.line()
        for (name, kernel) in program.kernels {
            if kernel.summaryAbove { s.swiftComment(kernel.summary) }
            kernel.emitSwift(&s, name: name)
            s.line()
        }
        s.swiftComment("---- nodes: one function per fused IR node, and one per segment and exit head ----")
        s.line()
        s.block("extension \(t)") { s in
            let steps = lowered.steps
            for step in steps {
                for call in step.calls {
                    s.swiftComment(call.description)
                    s.block("static func \(program.nodeFunctions[call.node] ?? "_")(_ w: UnsafePointer<Float>, _ a: UnsafeMutablePointer<Float>)") { s in
                        s.line(program.invocation(call))
                    }
                    s.line()
                }
            }
            for (i, step) in steps.enumerated() {
                s.swiftComment("\(step.description)" + (step.macs > 0 ? ", \(grouped(step.macs)) MACs" : ""))
                s.block("static func \(stepFunction(step))(_ w: UnsafePointer<Float>, _ a: UnsafeMutablePointer<Float>)") { s in
                    for call in step.calls { s.line("\(program.nodeFunctions[call.node] ?? "_")(w, a)") }
                }
                if i + 1 < steps.count { s.line() }
            }
        }
        return s.text
    }

    func stepFunction(_ step: LoweredProgram.Step) -> String {
        switch step.id {
        case .segment(let k): program.segmentFunctions[k]
        case .head(let k): program.headFunctions[k]
        }
    }

    /// The public enum: sizes, compiled-in thresholds and the entry points.
    private func emitAPI(_ s: inout CWriter) {
        let lowered = program.lowered
        let shape = lowered.inputShape
        let (c, h, w) = (shape[1], shape[2], shape[3])
        let n = lowered.exits.count
        s.line("/// The network '\(program.model)': input float32 [\(c)][\(h)][\(w)], \(lowered.classes) classes, \(n) early exit\(n == 1 ? "" : "s").")
        s.line("///")
        s.line("///     let arena = UnsafeMutablePointer<Float>.allocate(capacity: \(t).arenaFloats)")
        s.line("///     let weights = UnsafeMutablePointer<Float>.allocate(capacity: \(t).weightCount)")
        s.line("///     \(t).loadWeights(into: weights)")
        s.line("///     let r = \(t).run(weights: weights, input: image, arena: arena)")
        s.line("///     // r.classIndex, r.exitIndex, r.confidenceLogit, r.macs")
        s.line("///")
        s.line("/// Every call is reentrant: give each concurrent caller its own arena.")
        s.block("public enum \(t)") { s in
            let constants: [(String, String, String)] = [
                ("inputChannels", "\(c)", ""), ("inputHeight", "\(h)", ""), ("inputWidth", "\(w)", ""),
                ("inputSize", "\(c * h * w)", "floats in one input, [C][H][W]"), ("classes", "\(lowered.classes)", ""),
                ("exits", "\(n)", "early exits; exitIndex == exits means the final classifier answered"),
                ("arenaFloats", "\(lowered.arena.bytes / 4)", "the memory plan's \(grouped(lowered.arena.planBytes)) bytes, then the convolution window"),
                ("arenaAlignment", "\(lowered.arena.alignment)", "bytes; the kernels run fastest with it"),
                ("weightCount", "\(lowered.weights.values.count)", "floats loadWeights(into:) writes"),
            ]
            for (name, value, note) in constants {
                if !note.isEmpty { s.line("/// \(note.prefix(1).uppercased() + note.dropFirst()).") }
                s.line("public static let \(name) = \(value)")
            }
            s.line("/// MACs of the whole backbone, no exit head.")
            s.line("public static let backboneMacs: UInt64 = \(lowered.backboneMacs)")
            if n > 0 {
                s.line("/// The compiled-in thresholds as confidence logits, logit(T) for T = " + lowered.exits.map { "\($0.threshold)" }.joined(separator: ", ") + ".")
                let values = lowered.exits.map { "Float(bitPattern: 0x\(String(Self.thresholdLogit($0.threshold).bitPattern, radix: 16)))" }
                let type = n == 1 ? "Float" : "(" + Array(repeating: "Float", count: n).joined(separator: ", ") + ")"
                s.line("public static let thresholdLogits: \(type) = " + (n == 1 ? values[0] : "(" + values.joined(separator: ", ") + ")"))
            }
            s.line()
            s.line("/// Runs segment k, then exit head k, and answers at the first exit whose confidence logit")
            s.line("/// reaches `thresholdLogits[k]` (eecThresholdLogit(T) converts; eecLogitMax switches an exit off).")
            s.line("/// nil thresholds: the compiled-in ones. `logits` receives the answering classifier's `classes` logits.")
            s.block("public static func run(weights: UnsafePointer<Float>, input: UnsafePointer<Float>, arena: UnsafeMutablePointer<Float>,\n                           thresholdLogits: UnsafePointer<Float>? = nil, logits: UnsafeMutablePointer<Float>? = nil) -> EECResult") { s in
                s.line("if let thresholdLogits { return eecRun(\(t).self, weights: weights, input: input, arena: arena, thresholdLogits: thresholdLogits, logits: logits) }")
                // The parameter shadows the static: name it through the type.
                let compiled = n > 0 ? "\(t).thresholdLogits" : "eecLogitMax"
                s.block("return withUnsafeBytes(of: \(compiled))") { s in
                    s.line("eecRun(\(t).self, weights: weights, input: input, arena: arena, thresholdLogits: $0.baseAddress!.assumingMemoryBound(to: Float.self), logits: logits)")
                }
            }
            s.line()
            s.line("/// Every exit and the final classifier, for calibration: `logits` receives (exits + 1) * classes")
            s.line("/// floats, `confidenceLogits` one per exit.")
            s.block("public static func runAll(weights: UnsafePointer<Float>, input: UnsafePointer<Float>, arena: UnsafeMutablePointer<Float>,\n                              logits: UnsafeMutablePointer<Float>, confidenceLogits: UnsafeMutablePointer<Float>?)") { s in
                s.line("eecRunAll(\(t).self, weights: weights, input: input, arena: arena, logits: logits, confidenceLogits: confidenceLogits)")
            }
        }
    }

    /// The switches the runtime's driver calls.
    private func emitConformance(_ s: inout CWriter) {
        let lowered = program.lowered
        s.block("extension \(t): EECNetwork") { s in
            s.line("static var inputPixels: Int { \(lowered.inputShape[2] * lowered.inputShape[3]) }")
            s.line("static var inputOffset: Int { \(program.slot(lowered.input)) }")
            func table(_ signature: String, _ cases: [String]) {
                s.block("static func \(signature)") { s in
                    s.block("switch k") { s in
                        for (k, value) in cases.enumerated() { s.line(k + 1 == cases.count ? "default: \(value)" : "case \(k): \(value)") }
                    }
                }
            }
            let segments = lowered.segments.map { stepFunction($0) + "(w, a)" }
            table("segment(_ k: Int, _ w: UnsafePointer<Float>, _ a: UnsafeMutablePointer<Float>)", segments)
            table("segmentMacs(_ k: Int) -> UInt64", lowered.segments.map { "\($0.macs)" })
            table("logitsOffset(_ k: Int) -> Int", lowered.exits.map { program.slot($0.logits) } + [program.slot(lowered.output)])
            let none = ["break"], zero = ["0"]
            table("head(_ k: Int, _ w: UnsafePointer<Float>, _ a: UnsafeMutablePointer<Float>)",
                  lowered.exits.map { stepFunction($0.head) + "(w, a)" } + none)
            table("headMacs(_ k: Int) -> UInt64", lowered.exits.map { "\($0.head.macs)" } + zero)
            table("confidenceOffset(_ k: Int) -> Int", lowered.exits.map { program.slot($0.confidence) } + zero)
        }
    }

    /// Each tensor's arena offset and each weight tensor's offset, in floats, named once.
    private func emitOffsets(_ s: inout CWriter) {
        s.swiftComment("---- arena slots: each tensor's offset in floats, from the memory plan; weights' offsets ----")
        s.block("extension \(t)") { s in
            for (name, slot) in program.slotNames {
                s.line("static let \(name) = \(slot.offset) // \(slot.name) \(Tensor.describe(slot.shape))")
            }
            if let window = program.windowName {
                s.line("static let \(window) = \(program.lowered.arena.scratchOffset / 4) // the convolution window, after the memory plan")
            }
            for (name, entry) in program.weightNames { s.line("static let \(name) = \(entry.offset)") }
        }
        s.line()
    }

    /// The float the generated code compares confidence logits with for threshold T (as C's).
    static func thresholdLogit(_ t: Double) -> Float { CSource.thresholdLogit(t) }
}
