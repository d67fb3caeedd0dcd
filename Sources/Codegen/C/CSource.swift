import Foundation
import IR
import Runtime

/// The files of a generated C library: `<model>.h`, `<model>.c`, `<model>_weights.c`, and the
/// runtime `eec_runtime.h`/`eec_runtime.c`. Deterministic: the same program gives the same
/// bytes, with no timestamps, paths or versions inside.
public struct CSource: Sendable {
    public let program: CProgram

    public init(_ program: CProgram) {
        self.program = program
    }

    var p: String { program.prefix }
    var macro: String { program.prefix.uppercased() }
    public var headerName: String { "\(p).h" }
    public var sourceName: String { "\(p).c" }
    public var weightsName: String { "\(p)_weights.c" }

    /// Every file by name, the runtime's included. The weights file of a large network is long
    /// (about 16 bytes per weight); `includeWeights: false` leaves it out (the test harness
    /// reads the weights from a binary file instead).
    public func files(includeWeights: Bool = true) throws(CodegenError) -> [(name: String, bytes: [UInt8])] {
        var files: [(name: String, bytes: [UInt8])] = [(headerName, Array(header().utf8)), (sourceName, Array(source().utf8))]
        if includeWeights { files.append((weightsName, weightsSource())) }
        do {
            for (name, text) in try CRuntime.files() { files.append((name, Array(text.utf8))) }
        } catch {
            throw CodegenError(error.description)
        }
        return files
    }

    /// Writes `files()` into `directory`, creating it if needed.
    public func write(to directory: String, includeWeights: Bool = true) throws(CodegenError) {
        let files = try files(includeWeights: includeWeights)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (name, bytes) in files {
                try Data(bytes).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name))
            }
        } catch {
            throw CodegenError("\(directory): cannot write the generated files (\(error.localizedDescription))")
        }
    }

    /// The packed weights as raw little-endian float32, the layout of `<model>_weights`.
    public var weightsBinary: [UInt8] {
        program.isInt8 ? program.lowered.weights.bytes.map { UInt8(bitPattern: $0) } : program.weightValues.withUnsafeBytes { Array($0) }
    }

    /// `float`, or `int8_t` for an int8 network.
    var weightType: String { program.isInt8 ? "int8_t" : "float" }
    /// The weights parameter of the public functions: an int8 network takes any pointer.
    var weightsParameter: String { program.isInt8 ? "const void *weights" : "const float *weights" }

    // MARK: - <model>.h

    public func header() -> String {
        let prog = program
        let (c, h, w) = (prog.inputShape[1], prog.inputShape[2], prog.inputShape[3])
        let n = prog.exits.count
        var s = CWriter()
        var doc = ["\(headerName): the early-exit network '\(prog.model)', compiled to C by eec. Do not edit.", ""]
        doc.append("Input:   float32 [\(c)][\(h)][\(w)] (channels, height, width: the IR's input without its batch axis)")
        doc.append("Output:  \(prog.classes) class logits, from the first exit whose confidence reaches its threshold")
        if n == 0 {
            doc.append("Exits:   none; the backbone always runs to its end")
        } else {
            doc.append("Exits:   \(n), after " + prog.exits.map(\.attach).joined(separator: ", ") + "; then the final classifier")
            doc.append("         compiled-in thresholds T = " + prog.exits.map { format($0.threshold) }.joined(separator: ", "))
        }
        doc.append("Cost:    " + costLine())
        doc.append("Arena:   \(grouped(prog.arenaBytes)) bytes (best aligned to \(prog.alignment)), owned by the caller; nothing else is written")
        doc.append("Weights: \(p)_weights (\(weightsName)), \(grouped(prog.weightCount)) \(prog.isInt8 ? "bytes of int8" : "floats"); any copy of them works too")
        if prog.isInt8 {
            doc.append("int8:    uint8 activations, int8 weights, int32 accumulators (eec quantize); the input and the logits stay float32")
        }
        doc += ["", "Example:", ""]
        doc += exampleLines().map { $0.isEmpty ? "" : "    " + $0 }
        doc += ["", "Every function is reentrant: give each concurrent caller its own arena."]
        s.comment(doc)
        s.line("#ifndef \(macro)_H")
        s.line("#define \(macro)_H")
        s.line()
        s.line("#include \"eec_runtime.h\"")
        s.line()
        s.line("#ifdef __cplusplus")
        s.line("extern \"C\" {")
        s.line("#endif")
        s.line()
        let constants: [(String, String, String)] = [
            ("INPUT_CHANNELS", "\(c)", ""), ("INPUT_HEIGHT", "\(h)", ""), ("INPUT_WIDTH", "\(w)", ""),
            ("INPUT_SIZE", "\(c * h * w)", "floats in one input"),
            ("CLASSES", "\(prog.classes)", ""),
            ("EXITS", "\(n)", "early exits; exit_index == EXITS means the final classifier answered"),
            ("ARENA_BYTES", "\(prog.arenaBytes)", "the memory plan's \(grouped(prog.planBytes)) bytes, then the convolution window"),
            ("ARENA_ALIGN", "\(prog.alignment)", "the arena alignment the kernels run fastest with (4 is required)"),
            ("WEIGHT_COUNT", "\(prog.weightCount)", "\(prog.isInt8 ? "bytes" : "floats") in \(p)_weights"),
            ("BACKBONE_MACS", "\(prog.backboneMacs)ULL", "MACs of the whole backbone, no exit head"),
        ]
        let width = constants.map { $0.0.count }.max() ?? 0
        for (name, value, note) in constants {
            let def = "#define \(macro)_\(name.padding(toLength: width, withPad: " ", startingAt: 0)) \(value)"
            s.line(note.isEmpty ? def : def + " /* \(note) */")
        }
        s.line()
        s.comment("The network, for the generic entry points of eec_runtime.h.")
        s.line("extern const eec_model \(p)_model;")
        s.line()
        s.comment("The weights, in \(weightsName).")
        s.line("extern const \(weightType) \(p)_weights[\(macro)_WEIGHT_COUNT];")
        if n > 0 {
            s.line()
            s.comment(["The compiled-in thresholds as confidence logits, logit(T) = ln(T / (1 - T)), one per exit.",
                       "Pass these, or your own (eec_threshold_logit(T) converts), to \(p)_run."])
            s.line("extern const float \(p)_thresholds[\(macro)_EXITS];")
        }
        s.line()
        s.comment(["Runs one input with early exits: segment k, then exit head k, which answers when its",
                   "confidence logit is >= threshold_logits[k]; otherwise on to segment k + 1.",
                   "logits may be NULL, or have room for \(macro)_CLASSES floats" + (n == 0 ? "; threshold_logits may be NULL." : "."),
                   "Returns EEC_OK, or EEC_ERROR_NULL / EEC_ERROR_ALIGNMENT (nothing run)."])
        s.line("int \(p)_run(\(weightsParameter), const float *input, void *arena, const float *threshold_logits,")
        s.line("    float *logits, eec_result *result);")
        s.line()
        s.comment(["Runs every segment and every exit head: logits gets (\(macro)_EXITS + 1) * \(macro)_CLASSES floats",
                   "(exit 0, exit 1, ..., the final classifier), confidence_logits \(macro)_EXITS floats" + (n == 0 ? " (NULL here)." : ".")])
        s.line("int \(p)_run_all(\(weightsParameter), const float *input, void *arena, float *logits,")
        s.line("    float *confidence_logits);")
        s.line()
        s.line("#ifdef __cplusplus")
        s.line("}")
        s.line("#endif")
        s.line()
        s.line("#endif /* \(macro)_H */")
        s.line()
        s.comment(["Opt-in static arena: #define \(macro)_STATIC_ARENA before including this header in one .c file",
                   "to get \(p)_arena there. It is global mutable state: one call at a time may use it."])
        s.line("#if defined(\(macro)_STATIC_ARENA) && !defined(\(macro)_STATIC_ARENA_DEFINED)")
        s.line("#define \(macro)_STATIC_ARENA_DEFINED")
        s.line("#if defined(__GNUC__) || defined(__clang__)")
        s.line("static float \(p)_arena[\(macro)_ARENA_BYTES / 4] __attribute__((aligned(\(macro)_ARENA_ALIGN)));")
        s.line("#else")
        s.line("static float \(p)_arena[\(macro)_ARENA_BYTES / 4];")
        s.line("#endif")
        s.line("#endif")
        return s.text
    }

    /// The ten-line example in the header's comment (and the README's).
    public func exampleLines() -> [String] {
        let arenaDecl = "static float arena[\(macro)_ARENA_BYTES / 4]; // or \(macro)_STATIC_ARENA, or any memory"
        var lines = ["#include \"\(headerName)\"", "", arenaDecl, "",
                     "int classify(const float image[\(macro)_INPUT_SIZE])", "{", "    eec_result r;"]
        let thresholds = program.exits.isEmpty ? "NULL" : "\(p)_thresholds"
        lines.append("    if (\(p)_run(\(p)_weights, image, arena, \(thresholds), NULL, &r) != EEC_OK) return -1;")
        lines.append("    return r.class_index; // r.exit_index, r.confidence_logit, r.macs tell how")
        lines.append("}")
        return lines
    }

    func costLine() -> String {
        let prog = program
        var spent = 0
        var parts: [String] = []
        for (k, exit) in prog.exits.enumerated() {
            spent += prog.segments[k].macs + exit.head.macs
            parts.append("exit \(k) \(grouped(spent))")
        }
        spent += prog.segments.last?.macs ?? 0
        parts.append("final \(grouped(spent))")
        return "MACs spent when answering at " + parts.joined(separator: ", ") + " (backbone alone \(grouped(prog.backboneMacs)))"
    }

    func format(_ t: Double) -> String { String(format: "%g", t) }

    // MARK: - <model>.c

    public func source() -> String {
        let prog = program
        var s = CWriter()
        s.comment(["\(sourceName): the kernels and the schedule of '\(prog.model)', generated by eec. Do not edit.", "",
                   "Values are channels last ([H][W][C]) in one arena; `a + a_conv1` is tensor conv1, at the",
                   "float offset the memory plan gave it (the first enum below). Convolutions cut output",
                   "channels into blocks and output rows into tiles of up to 8 pixels whose accumulators",
                   "stay in registers; every loop bound is a constant, so each kernel below is specialized",
                   "to one shape and shared by every node with that shape. Weights (`w + w_conv1_weight`)",
                   "are laid out for these kernels in \(weightsName)."])
        s.line()
        s.line("#include \"\(headerName)\"")
        s.line()
        emitOffsets(&s)
        if prog.isInt8 { emitInt8Tables(&s) }
        s.comment("---- kernels: one per distinct op and shape ----")
        s.line()
        for (name, kernel) in prog.kernels {
            // A convolution comments its tile functions and itself.
            if kernel.summaryAbove { s.comment(kernel.summary) }
            kernel.emit(&s, name: name)
            s.line()
        }
        s.comment("---- nodes: one function per fused IR node, named after it ----")
        s.line()
        var steps: [CProgram.Step] = []
        for (k, segment) in prog.segments.enumerated() {
            steps.append(segment)
            if k < prog.exits.count { steps.append(prog.exits[k].head) }
        }
        for step in steps {
            for call in step.calls {
                s.comment(call.comment)
                let params = call.usesWeights ? "const float *w, float *a" : "float *a"
                s.function("static void \(call.function)(\(params))") { s in
                    s.line("\(call.kernel)(\(call.arguments.joined(separator: ", ")));")
                }
                s.line()
            }
        }
        s.comment("---- segments and exit heads: what the driver runs between exit tests ----")
        s.line()
        for step in steps {
            s.comment("\(step.comment)" + (step.macs > 0 ? ", \(grouped(step.macs)) MACs" : ""))
            s.function("static void \(step.function)(const float *w, float *a)") { s in
                if !step.calls.contains(where: \.usesWeights) { s.line("(void)w;") }
                if step.calls.isEmpty { s.line("(void)a;") }
                for call in step.calls { s.line(call.usesWeights ? "\(call.function)(w, a);" : "\(call.function)(a);") }
            }
            s.line()
        }
        emitModel(&s)
        return s.text
    }

    /// The offsets every call uses, named once, one per line: adding a node adds its own lines
    /// here and moves numbers, but leaves every other call as it was.
    private func emitOffsets(_ s: inout CWriter) {
        let prog = program
        s.comment("---- arena slots: each tensor's offset in floats, from the memory plan ----")
        s.block("enum", trailer: ";") { s in
            for (name, slot) in prog.slotNames {
                s.line("\(name) = \(slot.offset), /* \(slot.name) \(Tensor.describe(slot.shape)) */")
            }
            if let window = prog.windowName {
                s.line("\(window) = \(prog.scratchOffset / 4), /* the convolution window, after the memory plan */")
            }
        }
        s.line()
        guard !prog.weightNames.isEmpty else { return }
        s.comment("---- weights: each tensor's offset in \(prog.isInt8 ? "bytes" : "floats") in \(p)_weights ----")
        s.block("enum", trailer: ";") { s in
            for (name, entry) in prog.weightNames { s.line("\(name) = \(entry.offset),") }
        }
        s.line()
    }

    /// The `eec_model` description and the public entry points.
    private func emitModel(_ s: inout CWriter) {
        let prog = program
        let n = prog.exits.count
        s.comment("---- the network ----")
        s.line()
        func array(_ type: String, _ name: String, _ values: [String]) {
            s.line("static const \(type) \(p)_\(name)[\(values.count)] = { \(values.joined(separator: ", ")) };")
        }
        array("eec_step", "segments", prog.segments.map(\.function))
        array("uint32_t", "logits_offsets", prog.exits.map(\.logitsSlot) + [prog.finalLogitsSlot])
        array("uint64_t", "segment_macs", prog.segments.map { "\($0.macs)" })
        if n > 0 {
            array("eec_step", "heads", prog.exits.map(\.head.function))
            array("uint32_t", "confidence_offsets", prog.exits.map(\.confidenceSlot))
            array("uint64_t", "head_macs", prog.exits.map { "\($0.head.macs)" })
        }
        s.line()
        s.block("const eec_model \(p)_model =", trailer: ";") { s in
            s.line(".name = \"\(prog.model.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\",")
            s.line(".exits = \(macro)_EXITS,")
            s.line(".classes = \(macro)_CLASSES,")
            s.line(".input_channels = \(macro)_INPUT_CHANNELS,")
            s.line(".input_height = \(macro)_INPUT_HEIGHT,")
            s.line(".input_width = \(macro)_INPUT_WIDTH,")
            s.line(".input_offset = \(prog.inputSlot),")
            s.line(".arena_bytes = \(macro)_ARENA_BYTES,")
            s.line(".arena_align = \(macro)_ARENA_ALIGN,")
            s.line(".segments = \(p)_segments,")
            s.line(".heads = \(n > 0 ? "\(p)_heads" : "NULL"),")
            s.line(".logits_offsets = \(p)_logits_offsets,")
            s.line(".confidence_offsets = \(n > 0 ? "\(p)_confidence_offsets" : "NULL"),")
            s.line(".segment_macs = \(p)_segment_macs,")
            s.line(".head_macs = \(n > 0 ? "\(p)_head_macs" : "NULL"),")
        }
        s.line()
        if n > 0 {
            s.comment("logit(T) for T = " + prog.exits.map { format($0.threshold) }.joined(separator: ", "))
            let logits = prog.exits.map { Self.thresholdLiteral($0.threshold) }
            s.line("const float \(p)_thresholds[\(macro)_EXITS] = { \(logits.joined(separator: ", ")) };")
            s.line()
        }
        let weights = prog.isInt8 ? "(const float *)weights" : "weights"
        s.line("int \(p)_run(\(weightsParameter), const float *input, void *arena, const float *threshold_logits,")
        s.function("    float *logits, eec_result *result)") { s in
            s.line("return eec_run(&\(p)_model, \(weights), input, arena, threshold_logits, logits, result);")
        }
        s.line()
        s.line("int \(p)_run_all(\(weightsParameter), const float *input, void *arena, float *logits,")
        s.function("    float *confidence_logits)") { s in
            s.line("return eec_run_all(&\(p)_model, \(weights), input, arena, logits, confidence_logits);")
        }
    }

    /// logit(T) as an exact float literal; T = 0 and T = 1 become ∓EEC_LOGIT_MAX.
    static func thresholdLiteral(_ t: Double) -> String {
        if t <= 0 { return "-EEC_LOGIT_MAX" }
        if t >= 1 { return "EEC_LOGIT_MAX" }
        return CNames.hexFloat(thresholdLogit(t))
    }

    /// The float the C code compares confidence logits with for threshold T.
    public static func thresholdLogit(_ t: Double) -> Float {
        let logit = Float(ExitRule.logitThreshold(t))
        if logit.isInfinite { return logit < 0 ? -Float.greatestFiniteMagnitude : Float.greatestFiniteMagnitude }
        return logit
    }

    // MARK: - <model>_weights.c

    public func weightsSource() -> [UInt8] {
        if program.isInt8 { return int8WeightsSource() }
        let prog = program
        var out: [UInt8] = []
        out.reserveCapacity(prog.weightCount * 16 + 4096)
        var head = CWriter()
        head.comment(["\(weightsName): the weights of '\(prog.model)', generated by eec. Do not edit.", "",
                      "\(grouped(prog.weightCount)) floats (\(grouped(prog.weightCount * 4)) bytes) as exact C99 hexadecimal literals.",
                      "BatchNorm is folded into the convolutions before it. Each tensor starts at a multiple of",
                      "16 floats and is laid out for the kernels of \(sourceName): convolutions",
                      "[group][block of output channels][kh][kw][in][out], linear layers [in][out]."])
        head.line()
        head.line("#include \"\(headerName)\"")
        head.line()
        head.line("const float \(p)_weights[\(macro)_WEIGHT_COUNT] = {")
        out += Array(head.text.utf8)
        let values = prog.weightValues
        var at = 0
        func emitValues(upTo end: Int) {
            while at < end {
                out += Array("    ".utf8)
                let lineEnd = min(end, at + 8)
                for i in at..<lineEnd {
                    CNames.appendHexFloat(values[i], to: &out)
                    out.append(UInt8(ascii: ","))
                    if i + 1 < lineEnd { out.append(UInt8(ascii: " ")) }
                }
                out.append(UInt8(ascii: "\n"))
                at = lineEnd
            }
        }
        for entry in prog.lowered.weights.entries {
            if entry.offset > at {
                out += Array("    /* padding */\n".utf8)
                emitValues(upTo: entry.offset)
            }
            out += Array("    /* \(entry.name) @ \(entry.offset): \(entry.layout) */\n".utf8)
            emitValues(upTo: entry.offset + entry.count)
        }
        if values.count > at {
            out += Array("    /* padding */\n".utf8)
            emitValues(upTo: values.count)
        }
        out += Array("};\n".utf8)
        return out
    }
}
