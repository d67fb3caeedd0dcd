import Testing
import IR
@testable import Import

/// Files that are not valid ONNX protobuf: each is rejected with a message naming the problem and
/// the byte offset, never a crash.
struct HostileFileTests {
    func importBytes(_ bytes: [UInt8]) throws(ImportError) -> ImportedModel {
        try ONNXImporter.importModel(bytes: bytes, source: "bad.onnx", modelDirectory: nil, modelName: "bad")
    }

    func rejected(_ bytes: [UInt8], saying fragment: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        do {
            _ = try importBytes(bytes)
            Issue.record("accepted", sourceLocation: sourceLocation)
        } catch {
            #expect(error.description.hasPrefix("bad.onnx: error: "), sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "\(error)", sourceLocation: sourceLocation)
        }
    }

    /// A valid model: Conv + Relu + Flatten with raw weights.
    static let valid = ModelSpec(inputDims: [1, 2, 3, 3], nodes: [
        NodeSpec("Conv", ["x", "w"], ["c"], [("pads", .ints([1, 1, 1, 1]))]), NodeSpec("Relu", ["c"], ["r"]), NodeSpec("Flatten", ["r"], ["y"]),
    ], initializers: [.floats("w", [2, 2, 3, 3], seeded(36, seed: 1))]).encode()

    @Test func theValidModelImports() throws {
        #expect(try importBytes(Self.valid).graph.nodes.count == 3)
    }

    @Test func everyTruncationIsAnError() {
        for length in 0..<Self.valid.count {
            #expect(throws: ImportError.self, "prefix of \(length) bytes") { try importBytes(Array(Self.valid.prefix(length))) }
        }
    }

    @Test func lengthBeyondTheFile() {
        var w = ProtoWriter()
        w.key(7, 2)
        w.varint(1 << 40)
        w.bytes += [1, 2, 3]
        rejected(w.bytes, saying: "field 7 declares 1099511627776 bytes")
        rejected(w.bytes, saying: "at byte 0 (in ModelProto)")
    }

    @Test func wrongWireType() {
        var w = ProtoWriter()
        w.int(7, 5)  // graph as a varint
        rejected(w.bytes, saying: "field 7 (graph) has wire type varint, expected length-delimited")
        var inner = ProtoWriter()
        inner.message(7) { g in g.message(1) { $0.int(4, 3) } }  // op_type as a varint
        rejected(inner.bytes, saying: "ModelProto.graph.node[0]")
    }

    @Test func varintLongerThanTenBytes() {
        rejected([0x08] + Array(repeating: 0xff, count: 11) + [0x01], saying: "varint longer than 10 bytes")
    }

    @Test func groupsAndUnknownWireTypes() {
        rejected([0x0b], saying: "wire type 3 (groups are not supported)")
        rejected([0x0e], saying: "wire type 6 (no such wire type)")
        rejected([0x00], saying: "invalid field number 0")
    }

    /// Sub-graphs inside attributes, 200 deep: past the nesting limit, not a stack overflow.
    @Test func deepNesting() {
        func graph(_ depth: Int, _ w: inout ProtoWriter) {
            w.message(1) { node in
                node.string(4, "If")
                node.message(5) { a in
                    a.string(1, "then_branch")
                    a.int(20, 5)
                    if depth > 0 { a.message(6) { graph(depth - 1, &$0) } }
                }
            }
        }
        var w = ProtoWriter()
        w.message(7) { graph(200, &$0) }
        rejected(w.bytes, saying: "nested more than 64 deep")
    }

    @Test func dataOfTheWrongSize() {
        var spec = TensorSpec.floats("w", [2, 2, 3, 3], seeded(35, seed: 1))
        spec.raw = true
        let m = ModelSpec(inputDims: [1, 2, 3, 3], nodes: [NodeSpec("Conv", ["x", "w"], ["c"]), NodeSpec("Flatten", ["c"], ["y"])], initializers: [spec])
        rejected(m.encode(), saying: "initializer 'w' of shape [2, 2, 3, 3] and type FLOAT needs 144 bytes of data, found 140")
        let huge = ModelSpec(nodes: [NodeSpec("Relu", ["x"], ["y"])], initializers: [TensorSpec(name: "big", dims: [1 << 20, 1 << 20], floats: [])])
        rejected(huge.encode(), saying: "has more than")
    }

    /// A producer name with control bytes (a FuzzONNX finding) must not break the header comment.
    @Test func controlBytesInNamesStayOutOfTheText() throws {
        var w = ProtoWriter(bytes: Self.valid)
        w.string(2, "evil\n\0model x\u{7f}é")
        let model = try importBytes(w.bytes)
        let text = Printer.print(model.graph)
        #expect(model.graph.headerComments == [" Imported from bad.onnx by eec import (ai.onnx opset 17, written by evil??model x??)."])
        let reparsed = try #require(try? VerifiedGraph.load(SourceFile(name: "x.eeir", text: text)).get().0)
        #expect(Printer.print(reparsed.graph) == text)
    }

    /// Random byte changes of a valid model: every result is a model or an ImportError.
    @Test func mutationsNeverCrash() {
        var rng = SplitMix64(seed: 5)
        var errors = 0
        for _ in 0..<3000 {
            var bytes = Self.valid
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let at = Int(rng.next() % UInt64(bytes.count))
                bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            do { _ = try importBytes(bytes) } catch { errors += 1 }
        }
        #expect(errors > 0)
    }
}

/// Constant folding cannot be made to allocate more than it reads by much.
struct FoldingLimitTests {
    @Test func amplifyingFoldsAreBounded() {
        let shape = ModelSpec(nodes: [NodeSpec("ConstantOfShape", ["dims"], ["big"]), NodeSpec("Relu", ["x"], ["r"]), NodeSpec("Flatten", ["r"], ["y"])],
                              initializers: [.ints("dims", [1 << 20, 1 << 20])])
        let error = #expect(throws: ImportError.self) { try shape.importModel() }
        #expect(error?.message.contains("more than 16777216 elements") == true, "\(String(describing: error))")
        let broadcast = ModelSpec(nodes: [NodeSpec("Mul", ["a", "b"], ["big"]), NodeSpec("Relu", ["x"], ["r"]), NodeSpec("Flatten", ["r"], ["y"])],
                                  initializers: [.floats("a", [5000, 1], Array(repeating: 1, count: 5000)), .floats("b", [1, 5000], Array(repeating: 1, count: 5000))])
        #expect(throws: ImportError.self) { try broadcast.importModel() }
    }
}

/// Extreme integers in shape arithmetic are errors or exact results, never an overflow trap.
struct ExtremeValueTests {
    func net(_ nodes: [NodeSpec], _ inits: [TensorSpec]) -> ModelSpec {
        ModelSpec(nodes: nodes + [NodeSpec("Relu", ["x"], ["r"]), NodeSpec("Flatten", ["r"], ["y"])], initializers: inits)
    }

    @Test func extremeSliceSteps() throws {
        // On a constant: steps of -2^63 and 2^63-1 keep one element.
        let c = net([NodeSpec("Slice", ["data", "zero", "end", "axis", "step"], ["s"])],
                    [.ints("data", [1, 2, 3]), .ints("zero", [0]), .ints("end", [Int64.max]), .ints("axis", [0]), .ints("step", [Int64.max])])
        _ = try c.importModel()
        let back = net([NodeSpec("Slice", ["data", "last", "start", "axis", "step"], ["s"])],
                       [.ints("data", [1, 2, 3]), .ints("last", [-1]), .ints("start", [Int64.min]), .ints("axis", [0]), .ints("step", [Int64.min])])
        _ = try back.importModel()
        // On an activation: a step beyond H keeps row 0, as subsample by H does.
        let m = ModelSpec(inputDims: [1, 1, 3, 3], nodes: [
            NodeSpec("Slice", ["x", "zero", "end", "axes", "steps"], ["s"]), NodeSpec("Flatten", ["s"], ["y"]),
        ], initializers: [.ints("zero", [0, 0]), .ints("end", [Int64.max, Int64.max]), .ints("axes", [2, 3]), .ints("steps", [Int64.max, Int64.max])])
        let (y, _) = try Reference.run(m, Tensor(shape: [1, 1, 3, 3], data: (0..<9).map(Float.init)))
        #expect(y.data == [0])
    }

    @Test func overflowingArithmetic() {
        let div = net([NodeSpec("Div", ["a", "b"], ["q"])], [.ints("a", [Int64.min]), .ints("b", [-1])])
        let error = #expect(throws: ImportError.self) { try div.importModel() }
        #expect(error?.message.contains("integer division") == true)
        let reshape = net([NodeSpec("Reshape", ["a", "shape"], ["q"])], [.ints("a", [1]), .ints("shape", [1 << 28, 1 << 28, 1 << 28, -1])])
        #expect(throws: ImportError.self) { try reshape.importModel() }
    }
}
