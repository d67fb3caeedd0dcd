import Foundation
import Testing
@testable import IR

// MARK: - Helpers

/// A safetensors file from header JSON text and a data buffer (no padding, so lengths are exact).
private func safetensors(_ json: String, _ data: [UInt8] = []) -> [UInt8] {
    var bytes: [UInt8] = []
    ByteIO.append(UInt64(json.utf8.count), to: &bytes)
    return bytes + Array(json.utf8) + data
}

/// An .npy file from a header dict literal and a data buffer, with the numpy layout for `version`.
private func npy(_ dict: String, _ data: [UInt8] = [], version: UInt8 = 1) -> [UInt8] {
    var bytes = NPYArray.magic + [version, 0]
    let header = Array((dict + "\n").utf8)
    if version == 1 { ByteIO.append(UInt16(header.count), to: &bytes) } else { ByteIO.append(UInt32(header.count), to: &bytes) }
    return bytes + header + data
}

private func le<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    var bytes: [UInt8] = []
    for v in values { ByteIO.append(v, to: &bytes) }
    return bytes
}

private func f32(_ values: [Float]) -> [UInt8] { le(values.map(\.bitPattern)) }

private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

/// The error thrown by `body`, or nil if it succeeded. (Closures infer untyped `throws`, hence the cast.)
private func error<T>(_ body: () throws -> T) -> FormatError? {
    do {
        _ = try body()
        return nil
    } catch let error as FormatError {
        return error
    } catch {
        Issue.record("expected a FormatError, got \(error)")
        return nil
    }
}

/// SplitMix64 (Steele et al.), so the mutation test is reproducible everywhere; kept local so
/// the test does not depend on the rest of the module.
private struct MutationRNG {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
}

/// `../shared/data/cifar10` beside the package root, which is three levels above this file.
private let cifarDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("../shared/data/cifar10").standardizedFileURL.path

private func cifar(_ name: String) -> String { cifarDirectory + "/" + name }

private func hasCIFAR(_ name: String) -> Bool { FileManager.default.fileExists(atPath: cifar(name)) }

// MARK: - 16-bit floats

@Suite struct HalfFloatTests {
    @Test func knownHalfValues() {
        let cases: [(UInt16, Float)] = [
            (0x3C00, 1), (0xC000, -2), (0x0001, 0x1p-24), (0x03FF, 1023 * 0x1p-24), (0x0400, 0x1p-14),
            (0x7BFF, 65504), (0x3555, 0.333251953125), (0x0000, 0), (0x7C00, .infinity), (0xFC00, -.infinity),
        ]
        for (h, expected) in cases {
            #expect(HalfFloat.float(fromHalf: h).bitPattern == expected.bitPattern, "half 0x\(String(h, radix: 16))")
        }
        #expect(HalfFloat.float(fromHalf: 0x8000).bitPattern == 0x8000_0000)  // -0 keeps its sign
        #expect(HalfFloat.float(fromHalf: 0x7E00).isNaN)
        #expect(HalfFloat.float(fromHalf: 0xFD01).isNaN)
    }

    @Test func knownBFloat16Values() {
        #expect(HalfFloat.float(fromBFloat16: 0x3F80) == 1)
        #expect(HalfFloat.float(fromBFloat16: 0xC000) == -2)
        #expect(HalfFloat.float(fromBFloat16: 0x7F80) == .infinity)
        #expect(HalfFloat.float(fromBFloat16: 0x0001).bitPattern == 0x0001_0000)  // a float subnormal
        #expect(HalfFloat.float(fromBFloat16: 0x7FC0).isNaN)
    }

    #if !(os(macOS) && arch(x86_64))  // Float16 is unavailable on Intel Macs
    @Test func everyHalfMatchesFloat16() {
        for h in UInt16.min...UInt16.max {
            let ours = HalfFloat.float(fromHalf: h)
            let reference = Float(Float16(bitPattern: h))
            if reference.isNaN {
                #expect(ours.isNaN)
            } else {
                #expect(ours.bitPattern == reference.bitPattern, "half 0x\(String(h, radix: 16))")
            }
        }
    }
    #endif
}

// MARK: - Safetensors

@Suite struct SafetensorsTests {
    @Test func decodesEveryFloatDTypeAndSkipsIntegers() throws {
        let json = """
            {"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},\
            "h":{"dtype":"F16","shape":[4],"data_offsets":[16,24]},\
            "b":{"dtype":"BF16","shape":[2],"data_offsets":[24,28]},\
            "d":{"dtype":"F64","shape":[],"data_offsets":[28,36]},\
            "bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[36,44]},\
            "__metadata__":{"format":"pt","note":"caf\\u00e9 \\ud83d\\ude00"}}
            """
        let data = f32([1, -2, 0.5, 3]) + le([0x3C00, 0xC000, 0x0001, 0x7C00] as [UInt16])
            + le([0x3F80, 0xC0A0] as [UInt16]) + le([(0.1 as Double).bitPattern]) + le([Int64(42)])
        let file = try SafetensorsFile.decode(safetensors(json, data), source: "m.safetensors")
        #expect(file.order == ["b", "d", "h", "w"])
        #expect(file.tensors["w"] == Tensor(shape: [2, 2], data: [1, -2, 0.5, 3]))
        #expect(file.tensors["h"] == Tensor(shape: [4], data: [1, -2, 0x1p-24, .infinity]))
        #expect(file.tensors["b"] == Tensor(shape: [2], data: [1, -5]))
        #expect(file.tensors["d"] == Tensor(shape: [], data: [Float(0.1)]))
        #expect(file.skipped == [.init(name: "bn.num_batches_tracked", dtype: "I64", shape: [])])
        #expect(file.metadata == ["format": "pt", "note": "café 😀"])
    }

    @Test func roundTripIsExact() throws {
        let tensors = [
            "conv.weight": Tensor(shape: [2, 1, 1, 2], data: [-0.0, .infinity, Float(bitPattern: 0x7FC0_1234), 0x1p-149]),
            "a\"quoted\\name\n": Tensor(shape: [], data: [7]),
            "empty": Tensor(shape: [0, 3], data: []),
            "é": Tensor(shape: [3], data: [1, 2, 3]),
        ]
        let metadata = ["format": "pt", "z": "last", "quote\"": "tab\t"]
        let bytes = SafetensorsFile.encode(tensors: tensors, metadata: metadata)
        #expect(bytes == SafetensorsFile.encode(tensors: tensors, metadata: metadata))
        #expect((Int(ByteIO.u64(bytes, 0)) + 8) % 8 == 0)
        let file = try SafetensorsFile.decode(bytes, source: "t")
        #expect(file.order == ["a\"quoted\\name\n", "conv.weight", "empty", "é"])
        #expect(file.metadata == metadata)
        for (name, t) in tensors {
            #expect(file.tensors[name]?.shape == t.shape)
            #expect(file.tensors[name].map { bits($0.data) } == bits(t.data))
        }
    }

    @Test func encodesTheReferenceLayout() {
        let bytes = SafetensorsFile.encode(
            tensors: ["b": Tensor(shape: [1], data: [2]), "a": Tensor(shape: [2], data: [1, -1])],
            metadata: ["format": "pt"])
        let json = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"__metadata__":{"format":"pt"}}"#
        let padded = json + String(repeating: " ", count: (8 - json.utf8.count % 8) % 8)
        #expect(bytes == le([UInt64(padded.utf8.count)]) + Array(padded.utf8) + f32([1, -1, 2]))
        // No metadata: no __metadata__ entry at all.
        let bare = SafetensorsFile.encode(tensors: [:], metadata: [:])
        #expect(bare == le([UInt64(8)]) + Array("{}      ".utf8))
    }

    @Test func readsAndWritesFiles() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("eec-formats-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tensors = ["x": Tensor(shape: [2], data: [1.5, -2.5])]
        try SafetensorsFile.write(tensors: tensors, metadata: ["k": "v"], to: path)
        let file = try SafetensorsFile.read(path: path)
        #expect(file.tensors == tensors)
        #expect(file.source == path)
        #expect(error { try SafetensorsFile.read(path: path + ".missing") } == .io(file: path + ".missing", reason: "no such file"))
    }

    @Test func looksUpTensorsByNameAndShape() throws {
        let file = SafetensorsFile(source: "w.safetensors", tensors: ["fc.weight": Tensor(zeros: [10, 32])],
                                   skipped: [.init(name: "bn.num_batches_tracked", dtype: "I64", shape: [])])
        #expect(try file.tensor("fc.weight", shape: [10, 32]).shape == [10, 32])
        let mismatch = error { try file.tensor("fc.weight", shape: [10, 64]) }
        #expect(mismatch == .shapeMismatch(file: "w.safetensors", tensor: "fc.weight", expected: [10, 64], found: [10, 32]))
        #expect(error { try file.tensor("fc.bias", shape: [10]) } == .missingTensor(file: "w.safetensors", tensor: "fc.bias"))
        let integer = error { try file.tensor("bn.num_batches_tracked", shape: []) }
        #expect(integer?.description == "w.safetensors: error: tensor 'bn.num_batches_tracked' values have dtype I64, expected F32, F16, BF16 or F64")
    }

    @Test func describesErrorsLikeACompiler() {
        let e = FormatError.shapeMismatch(file: "weights.safetensors", tensor: "layer1.0.conv1.weight",
                                          expected: [16, 8, 3, 3], found: [16, 16, 3, 3])
        #expect(e.description == "weights.safetensors: error: tensor 'layer1.0.conv1.weight' has shape [16,16,3,3], expected [16,8,3,3]")
    }

    @Test func rejectsTruncatedAndOversizedHeaders() {
        #expect(error { try SafetensorsFile.decode([1, 0, 0], source: "s") }
            == .truncated(file: "s", what: "the header length", needed: 8, available: 3))
        #expect(error { try SafetensorsFile.decode(le([UInt64(100)]) + Array("{}".utf8), source: "s") }
            == .headerOutOfBounds(file: "s", headerLength: 100, available: 2))
        #expect(error { try SafetensorsFile.decode(le([UInt64.max]), source: "s") }
            == .headerOutOfBounds(file: "s", headerLength: .max, available: 0))
    }

    @Test(arguments: [
        "", "{", "{\"a\":}", "[1,2]", "{\"a\":1,}", "{'a':1}", "{\"a\":01}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}",
        "{\"a\":tru}", "{} x", "{\"a\":{\"b\":1},\"a\":{}}", String(repeating: "[", count: 100),
        "{\"__metadata__\":[]}", "{\"__metadata__\":{\"k\":1}}", "{\"a\":\"\u{1}\"}",
    ])
    func rejectsMalformedJSON(json: String) {
        let e = error { try SafetensorsFile.decode(safetensors(json), source: "s") }
        guard case let .malformedHeader(file, reason)? = e else {
            Issue.record("expected malformedHeader for \(json), got \(String(describing: e))")
            return
        }
        #expect(file == "s" && !reason.isEmpty)
    }

    @Test func rejectsInvalidUTF8() {
        let bytes = le([UInt64(9)]) + Array("{\"a\":\"".utf8) + [0xFF] + Array("\"}".utf8)
        guard case .malformedHeader? = error({ try SafetensorsFile.decode(bytes, source: "s") }) else {
            Issue.record("invalid UTF-8 accepted")
            return
        }
    }

    @Test func rejectsBadEntries() {
        func decode(_ entry: String, _ data: [UInt8] = []) -> FormatError? {
            error { try SafetensorsFile.decode(safetensors("{\"t\":\(entry)}", data), source: "w.safetensors") }
        }
        #expect(decode(#"{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#, f32([1])) == .dataOutOfBounds(
            file: "w.safetensors", tensor: "t", begin: 0, end: 8, available: 4))
        #expect(decode(#"{"dtype":"F32","shape":[0],"data_offsets":[4,0]}"#, f32([1])) == .dataOutOfBounds(
            file: "w.safetensors", tensor: "t", begin: 4, end: 0, available: 4))
        #expect(decode(#"{"dtype":"F32","shape":[0],"data_offsets":[0,18446744073709551615]}"#) == .dataOutOfBounds(
            file: "w.safetensors", tensor: "t", begin: 0, end: .max, available: 0))
        #expect(decode(#"{"dtype":"F32","shape":[3],"data_offsets":[0,8]}"#, f32([1, 2])) == .byteCountMismatch(
            file: "w.safetensors", tensor: "t", shape: [3], dtype: "F32", expected: 12, found: 8))
        #expect(decode(#"{"dtype":"I64","shape":[2],"data_offsets":[0,8]}"#, f32([1, 2])) == .byteCountMismatch(
            file: "w.safetensors", tensor: "t", shape: [2], dtype: "I64", expected: 16, found: 8))
        let supported = ["F32", "F16", "BF16", "F64"]
        #expect(decode(#"{"dtype":"Q8","shape":[],"data_offsets":[0,1]}"#, [0]) == .unsupportedDType(
            file: "w.safetensors", tensor: "t", dtype: "Q8", supported: supported))
        #expect(decode(#"{"dtype":"F8_E4M3","shape":[],"data_offsets":[0,1]}"#, [0])?.description
            == "w.safetensors: error: tensor 't' has unsupported dtype F8_E4M3 (supported: F32, F16, BF16, F64)")
        #expect(decode(#"{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}"#) == .invalidShape(
            file: "w.safetensors", tensor: "t", shape: "[-1]", reason: "negative dimension"))
        #expect(decode(#"{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}"#) == .invalidShape(
            file: "w.safetensors", tensor: "t", shape: "[4294967296,4294967296]", reason: "element count overflows"))
        #expect(decode(#"{"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,0]}"#) == .invalidShape(
            file: "w.safetensors", tensor: "t", shape: "[9223372036854775808]", reason: "dimension too large"))
        #expect(decode(#"{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}"#) == .invalidShape(
            file: "w.safetensors", tensor: "t", shape: "[2305843009213693952]", reason: "byte count overflows"))
        for entry in [
            #"[]"#, #"{"shape":[],"data_offsets":[0,4]}"#, #"{"dtype":1,"shape":[],"data_offsets":[0,4]}"#,
            #"{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}"#, #"{"dtype":"F32","shape":"2","data_offsets":[0,4]}"#,
            #"{"dtype":"F32","shape":[],"data_offsets":[0]}"#, #"{"dtype":"F32","shape":[],"data_offsets":[-1,3]}"#,
            #"{"dtype":"F32","shape":[]}"#,
        ] {
            guard case .invalidEntry(file: "w.safetensors", tensor: "t", reason: _)? = decode(entry, f32([1])) else {
                Issue.record("expected invalidEntry for \(entry)")
                continue
            }
        }
    }

    @Test func rejectsOverlapsButAllowsGaps() throws {
        let overlap = safetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                                  f32([1, 2, 3]))
        #expect(error { try SafetensorsFile.decode(overlap, source: "w.safetensors") }?.description
            == "w.safetensors: error: tensor 'b' has data_offsets [4,12] overlapping tensor 'a' at [0,8]")
        // Otherwise 1000 entries aliasing one buffer would decode to 1000 copies of it.
        let aliases = (0..<1000).map { #""t\#($0)":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}"# }
        guard case .overlappingData? = error({ try SafetensorsFile.decode(safetensors("{" + aliases.joined(separator: ",") + "}", f32([1, 2, 3])), source: "w") }) else {
            Issue.record("aliased data accepted")
            return
        }
        let gaps = safetensors(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"e":{"dtype":"F32","shape":[0],"data_offsets":[9,9]}}"#,
                               f32([1, 2, 3]))
        let file = try SafetensorsFile.decode(gaps, source: "w")
        #expect(file.tensors["a"]?.data == [3] && file.tensors["e"]?.shape == [0])
    }

    @Test func mutatedFilesNeverTrap() {
        let valid = SafetensorsFile.encode(
            tensors: ["a.weight": Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6]), "b": Tensor(shape: [], data: [9])],
            metadata: ["format": "pt"])
        let half = safetensors(#"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"n":{"dtype":"I64","shape":[1],"data_offsets":[4,12]}}"#,
                               le([0x3C00, 0x7C01] as [UInt16]) + le([Int64(1)]))
        let (ok, failed) = mutate([valid, half], seed: 0x5AFE) { bytes in
            _ = try SafetensorsFile.decode(bytes, source: "fuzz")
        }
        #expect(ok > 0 && failed > 0)
    }
}

/// Applies a few thousand random flips, truncations, insertions and deletions, mostly in the header
/// where they reach the parser rather than just the data; returns (decoded, rejected) counts.
/// A trap anywhere would crash the test process, which is the failure this guards against.
private func mutate(_ seeds: [[UInt8]], seed: UInt64, decode: ([UInt8]) throws -> Void) -> (Int, Int) {
    var rng = MutationRNG(state: seed)
    var (ok, failed) = (0, 0)
    for _ in 0..<3000 {
        var bytes = seeds[rng.below(seeds.count)]
        for _ in 0...rng.below(3) {
            let limit = rng.below(4) == 0 ? bytes.count : min(bytes.count, 160)  // bias towards the header
            let at = rng.below(limit)
            switch rng.below(6) {
            case 0 where at < bytes.count: bytes[at] ^= UInt8(1 << rng.below(8))
            case 1 where at < bytes.count: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            case 2: bytes.removeLast(bytes.count - at)
            case 3: bytes.insert(contentsOf: (0...rng.below(4)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            case 4: bytes.removeSubrange(at..<min(bytes.count, at + 1 + rng.below(8)))
            default:
                // Printable characters that mean something to the header parsers.
                let specials = Array("{}[](),:'\"\\-0123456789eE. TrueFalse".utf8)
                if at < bytes.count { bytes[at] = specials[rng.below(specials.count)] }
            }
        }
        do {
            try decode(bytes)
            ok += 1
        } catch let error as FormatError {
            #expect(!error.description.isEmpty)
            failed += 1
        } catch {
            Issue.record("expected a FormatError, got \(error)")
        }
    }
    return (ok, failed)
}

// MARK: - NPY

@Suite struct NPYTests {
    /// What `np.save` writes: a 118-byte header (keys, growth spaces, padding, newline) for these arrays.
    private func numpyFile(_ dict: String, _ data: [UInt8]) -> [UInt8] {
        NPYArray.magic + [1, 0, 118, 0] + Array(dict.utf8) + Array(repeating: UInt8(ascii: " "), count: 117 - dict.utf8.count)
            + [UInt8(ascii: "\n")] + data
    }

    @Test func writesWhatNumpyWrites() {
        // Bytes checked against np.save with numpy 2.4.
        let matrix = NPYArray(shape: [2, 3], storage: .float32([0, 0.5, 1, 1.5, 2, 2.5]))
        #expect(matrix.encode() == numpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                                             f32([0, 0.5, 1, 1.5, 2, 2.5])))
        let labels = NPYArray(shape: [3], storage: .int64([3, -1, 7]))
        #expect(labels.encode() == numpyFile("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", le([3, -1, 7] as [Int64])))
        let scalar = NPYArray(shape: [], storage: .float32([2.5]))
        #expect(scalar.encode() == numpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f32([2.5])))
        let empty = NPYArray(shape: [0], storage: .float32([]))
        #expect(empty.encode() == numpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", []))
        #expect(matrix.encode().count == 128 + 24)
    }

    @Test func roundTripsEveryDType() throws {
        let arrays = [
            NPYArray(shape: [2, 2], storage: .float32([1, -0.0, .infinity, 0x1p-149])),
            NPYArray(shape: [3], storage: .float64([1, -2.5, 1e300])),
            NPYArray(shape: [1, 1, 4], storage: .uint8([0, 1, 254, 255])),
            NPYArray(shape: [2], storage: .int32([.min, .max])),
            NPYArray(shape: [2], storage: .int64([.min, .max])),
            NPYArray(Tensor(shape: [0, 5], data: [])),
        ]
        for array in arrays {
            let bytes = array.encode()
            #expect((10 + Int(ByteIO.u16(bytes, 8))) % 64 == 0)  // data aligned as numpy aligns it
            #expect(try NPYArray.decode(bytes, source: "a.npy") == array)
        }
    }

    @Test func usesVersion2ForHugeHeaders() throws {
        let array = NPYArray(shape: Array(repeating: 1, count: 30000), storage: .int64([5]))
        let bytes = array.encode()
        #expect(bytes[6] == 2)
        #expect((12 + Int(ByteIO.u32(bytes, 8))) % 64 == 0)
        #expect(try NPYArray.decode(bytes, source: "big.npy") == array)
    }

    @Test func readsHeaderVariants() throws {
        // Double quotes, no trailing comma, Python 2 longs, extra keys, bare 'u1', versions 2.0 and 3.0.
        let a = try NPYArray.decode(npy(#"{"descr": "u1", "shape": (2L, 1L), "fortran_order": False}"#, [7, 8]), source: "x")
        #expect(a == NPYArray(shape: [2, 1], storage: .uint8([7, 8])))
        let b = try NPYArray.decode(npy("{'descr':'<i4','fortran_order':False,'shape':(2,),'extra':[None, (1, 'é')]}",
                                        le([1, -1] as [Int32]), version: 2), source: "x")
        #expect(b == NPYArray(shape: [2], storage: .int32([1, -1])))
        let c = try NPYArray.decode(npy("{'descr': '=f8', 'fortran_order': False, 'shape': ()}", le([(2.0 as Double).bitPattern]),
                                        version: 3), source: "x")
        #expect(c == NPYArray(shape: [], storage: .float64([2])))
        let d = try NPYArray.decode(npy("{'descr': '>u1', 'fortran_order': False, 'shape': (1,)}", [9]), source: "x")
        #expect(d.storage == .uint8([9]))
    }

    @Test func rejectsBadFiles() {
        func decode(_ bytes: [UInt8]) -> FormatError? { error { try NPYArray.decode(bytes, source: "x.npy") } }
        func header(_ dict: String, _ data: [UInt8] = []) -> FormatError? { decode(npy(dict, data)) }
        #expect(decode(Array("\u{93}NUM".utf8)) == .truncated(file: "x.npy", what: "the .npy preamble", needed: 10, available: 5))
        #expect(decode(Array("PK\u{3}\u{4}0000000000".utf8)) == .badMagic(file: "x.npy", expected: "NumPy .npy"))
        #expect(decode(NPYArray.magic + [4, 0, 0, 0]) == .unsupportedVersion(file: "x.npy", version: "4.0"))
        #expect(decode(NPYArray.magic + [1, 1, 0, 0]) == .unsupportedVersion(file: "x.npy", version: "1.1"))
        #expect(decode(NPYArray.magic + [2, 0, 0, 0]) == .truncated(file: "x.npy", what: "the header length", needed: 12, available: 10))
        #expect(decode(NPYArray.magic + [1, 0, 0xFF, 0xFF] + [0x7B]) == .headerOutOfBounds(file: "x.npy", headerLength: 65535, available: 1))
        #expect(header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", f32([1, 2, 3, 4]))?.description
            == "x.npy: error: Fortran order not supported; save with np.ascontiguousarray")
        #expect(header("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", f32([1]))
            == .bigEndian(file: "x.npy", descr: ">f4"))
        #expect(header("{'descr': '!i8', 'fortran_order': False, 'shape': (1,), }", le([Int64(1)]))
            == .bigEndian(file: "x.npy", descr: "!i8"))
        let supported = ["<f4", "<f8", "|u1", "<i4", "<i8"]
        #expect(header("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", f32([1, 2]))
            == .unsupportedDType(file: "x.npy", tensor: nil, dtype: "<c8", supported: supported))
        #expect(header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", f32([1]))
            == .unsupportedDType(file: "x.npy", tensor: nil, dtype: "[('a', '<f4')]", supported: supported))
        #expect(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }")
            == .invalidShape(file: "x.npy", tensor: nil, shape: "(2, -3)", reason: "negative dimension"))
        #expect(header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }")
            == .invalidShape(file: "x.npy", tensor: nil, shape: "(99999999999999999999,)", reason: "dimension too large"))
        #expect(header("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }")
            == .invalidShape(file: "x.npy", tensor: nil, shape: "(4294967296, 4294967296)", reason: "element count overflows"))
        #expect(header("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }")
            == .invalidShape(file: "x.npy", tensor: nil, shape: "(2305843009213693952,)", reason: "byte count overflows"))
        #expect(header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f32([1, 2]))
            == .byteCountMismatch(file: "x.npy", tensor: nil, shape: [3], dtype: "<f4", expected: 12, found: 8))
        #expect(header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f32([1, 2]))?.description
            == "x.npy: error: array of shape [1] and dtype <f4 needs 4 bytes, found 8")
        for dict in [
            "", "{", "{'descr': '<f4', 'shape': (1,)}", "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", "{'descr': '<f4', 'fortran_order': False, 'shape': (1.0,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': ('1',)}", "{'descr': '<f4' 'fortran_order': False}",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", "('descr', '<f4')",
            "{'descr': '<f4, 'fortran_order': False, 'shape': ()}", "{'descr': '<f4', 'fortran_order': Nope, 'shape': ()}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': ()} junk", String(repeating: "(", count: 200),
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-,)}",
        ] {
            guard case .malformedHeader(file: "x.npy", reason: _)? = header(dict, f32([1])) else {
                Issue.record("expected malformedHeader for \(dict), got \(String(describing: header(dict, f32([1]))))")
                continue
            }
        }
        #expect(decode(npy("{'descr': '<f4', 'fortran_order': False, 'shape': ()}", [], version: 3).map { $0 == 0x27 ? 0xFF : $0 })
            == .malformedHeader(file: "x.npy", reason: "header is not valid UTF-8"))
    }

    @Test func readsAndWritesFiles() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("eec-formats-\(UUID()).npy").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let array = NPYArray(shape: [2], storage: .int64([4, 2]))
        try array.write(to: path)
        #expect(try NPYArray.read(path: path) == array)
        #expect(error { try NPYArray.read(path: FileManager.default.temporaryDirectory.path) }
            == .io(file: FileManager.default.temporaryDirectory.path, reason: "is a directory, expected a file"))
    }

    @Test func mutatedFilesNeverTrap() {
        let seeds = [
            NPYArray(shape: [2, 2, 2, 3], storage: .uint8((0..<24).map(UInt8.init))).encode(),
            NPYArray(shape: [3], storage: .int64([1, 2, 3])).encode(),
            npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 2, 2), }", f32((0..<12).map(Float.init)), version: 3),
        ]
        let (ok, failed) = mutate(seeds, seed: 0x00C0_FFEE) { bytes in
            let array = try NPYArray.decode(bytes, source: "fuzz.npy")
            _ = try? ImageBatch.inputs(array, sampleShape: [3, 2, 2], normalization: .imageNet, source: "fuzz.npy")
            _ = try? ImageBatch.labels(array, classes: 10, source: "fuzz.npy")
        }
        #expect(ok > 0 && failed > 0)
    }
}

// MARK: - Image batches

@Suite struct ImageBatchTests {
    /// 2 images of 1×2 pixels, 3 channels, pixel values 0...11 in NHWC order.
    let pixels = NPYArray(shape: [2, 1, 2, 3], storage: .uint8((0..<12).map { UInt8($0 * 20) }))

    @Test func convertsLikeToTensor() throws {
        let batch = try ImageBatch.inputs(pixels, sampleShape: [3, 1, 2], source: "x.npy")
        #expect(batch.count == 2)
        // NHWC [r0 g0 b0 r1 g1 b1] becomes CHW [r0 r1 g0 g1 b0 b1].
        let order: [UInt8] = [0, 3, 1, 4, 2, 5]
        #expect(batch[0] == Tensor(shape: [1, 3, 1, 2], data: order.map { Float($0 * 20) / 255 }))
        #expect(batch[1] == Tensor(shape: [1, 3, 1, 2], data: order.map { Float(($0 + 6) * 20) / 255 }))
    }

    @Test func normalizesLikeTorchvision() throws {
        let norm = ImageBatch.Normalization.imageNet
        let batch = try ImageBatch.inputs(pixels, sampleShape: [3, 1, 2], normalization: norm, source: "x.npy")
        let raw: [UInt8] = [0, 60, 20, 80, 40, 100]
        let expected = raw.enumerated().map { i, p in (Float(p) / 255 - norm.mean[i / 2]) / norm.std[i / 2] }
        #expect(bits(batch[0].data) == bits(expected))
    }

    @Test func passesFloatNCHWThrough() throws {
        let values = (0..<8).map { Float($0) }
        let array = NPYArray(shape: [2, 2, 1, 2], storage: .float32(values))
        let batch = try ImageBatch.inputs(array, sampleShape: [2, 1, 2], source: "x.npy")
        #expect(batch == [Tensor(shape: [1, 2, 1, 2], data: [0, 1, 2, 3]), Tensor(shape: [1, 2, 1, 2], data: [4, 5, 6, 7])])
        let norm = ImageBatch.Normalization(mean: [1, 2], std: [2, 4])
        let normalized = try ImageBatch.inputs(array, sampleShape: [2, 1, 2], normalization: norm, source: "x.npy")
        #expect(normalized[1].data == [1.5, 2, 1, 1.25])
    }

    @Test func acceptsGrayscaleWithoutChannelAxis() throws {
        let gray = NPYArray(shape: [1, 2, 2], storage: .uint8([0, 255, 51, 102]))
        let batch = try ImageBatch.inputs(gray, sampleShape: [1, 2, 2], source: "g.npy")
        #expect(batch == [Tensor(shape: [1, 1, 2, 2], data: [0, 1, 0.2, 0.4])])
    }

    @Test func rejectsMismatches() {
        let flat = NPYArray(shape: [10, 32, 32], storage: .uint8(Array(repeating: 0, count: 10240)))
        #expect(error { try ImageBatch.inputs(flat, sampleShape: [3, 32, 32], source: "x.npy") }?.description
            == "x.npy: error: images have shape [10,32,32] (uint8), expected [N,32,32,3] (uint8) or [N,3,32,32] (float32) for input [1,3,32,32]")
        let nchwBytes = NPYArray(shape: [1, 3, 1, 2], storage: .uint8(Array(repeating: 0, count: 6)))
        #expect(error { try ImageBatch.inputs(nchwBytes, sampleShape: [3, 1, 2], source: "x.npy") }
            == .imageShape(file: "x.npy", sample: [3, 1, 2], found: [1, 3, 1, 2], dtype: "uint8"))
        let doubles = NPYArray(shape: [1, 3, 1, 2], storage: .float64(Array(repeating: 0, count: 6)))
        #expect(error { try ImageBatch.inputs(doubles, sampleShape: [3, 1, 2], source: "x.npy") }
            == .imageShape(file: "x.npy", sample: [3, 1, 2], found: [1, 3, 1, 2], dtype: "float64"))
        let zeroSized = NPYArray(shape: [1_000_000_000_000, 0], storage: .float32([]))
        #expect(error { try ImageBatch.inputs(zeroSized, sampleShape: [0], source: "x.npy") } != nil)
        #expect(error { try ImageBatch.inputs(NPYArray(shape: [], storage: .uint8([1])), sampleShape: [1, 1, 1], source: "x.npy") } != nil)

        let short = ImageBatch.Normalization(mean: [0.5], std: [0.5, 0.5, 0.5])
        #expect(error { try ImageBatch.inputs(pixels, sampleShape: [3, 1, 2], normalization: short, source: "x.npy") }?.description
            == "x.npy: error: mean has 1 values, expected 3 (one per input channel)")
        let zero = ImageBatch.Normalization(mean: [0, 0, 0], std: [1, 0, 1])
        #expect(error { try ImageBatch.inputs(pixels, sampleShape: [3, 1, 2], normalization: zero, source: "x.npy") }
            == .badNormalization(file: "x.npy", reason: "std[1] is 0, which would divide by zero"))
    }

    @Test func readsLabels() throws {
        #expect(try ImageBatch.labels(NPYArray(shape: [3], storage: .int64([3, 0, 9])), classes: 10, source: "y.npy") == [3, 0, 9])
        #expect(try ImageBatch.labels(NPYArray(shape: [2], storage: .uint8([1, 2])), source: "y.npy") == [1, 2])
        #expect(error { try ImageBatch.labels(NPYArray(shape: [2], storage: .int64([1, 10])), classes: 10, source: "y.npy") }?.description
            == "y.npy: error: label 10 at index 1 is outside 0..<10")
        #expect(error { try ImageBatch.labels(NPYArray(shape: [1], storage: .float32([1])), source: "y.npy") }
            == .dtypeMismatch(file: "y.npy", what: "labels", expected: "int64, int32 or uint8", found: "float32"))
        #expect(error { try ImageBatch.labels(NPYArray(shape: [2, 1], storage: .int64([1, 2])), source: "y.npy") }
            == .invalidShape(file: "y.npy", tensor: nil, shape: "[2,1]", reason: "labels must have shape [N]"))
    }
}

// MARK: - The real CIFAR-10 files beside the project

@Suite struct CIFARFilesTests {
    @Test(.enabled(if: hasCIFAR("resnet44a.safetensors"), "../shared/data/cifar10 is absent"))
    func readsTheResNet44Weights() throws {
        let path = cifar("resnet44a.safetensors")
        let file = try SafetensorsFile.read(path: path)
        let statistics = ["running_mean", "running_var", "num_batches_tracked"]
        let parameters = file.tensors.filter { name, _ in !statistics.contains { name.hasSuffix("." + $0) } }
        #expect(parameters.values.reduce(0) { $0 + $1.count } == 658_586)
        #expect(try file.tensor("linear.weight", shape: [10, 64]).count == 640)
        #expect(file.metadata["format"] == "pt")
        // Our writer reproduces the file byte for byte: same order, header and padding.
        #expect(SafetensorsFile.encode(tensors: file.tensors, metadata: file.metadata) == (try ByteIO.readFile(path)))
    }

    @Test(.enabled(if: hasCIFAR("test_x_0_2999.npy"), "../shared/data/cifar10 is absent"))
    func readsTheTestImages() throws {
        let path = cifar("test_x_0_2999.npy")
        let images = try NPYArray.read(path: path)
        #expect(images.shape == [3000, 32, 32, 3])
        guard case let .uint8(pixels) = images.storage else {
            Issue.record("expected uint8 images, found \(images.storage.dtypeName)")
            return
        }
        #expect(images.encode() == (try ByteIO.readFile(path)))
        let batch = try ImageBatch.inputs(images, sampleShape: [3, 32, 32], normalization: .imageNet, source: path)
        #expect(batch.count == 3000)
        // Image 7, row 5, column 9, blue channel.
        let (image, row, column, channel) = (7, 5, 9, 2)
        let p: UInt8 = pixels[((image * 32 + row) * 32 + column) * 3 + channel]
        let x: Float = Float(p) / 255
        let expected: Float = (x - 0.406) / 0.225
        #expect(batch[image].data[(channel * 32 + row) * 32 + column] == expected)
    }

    @Test(.enabled(if: hasCIFAR("test_y_0_2999.npy"), "../shared/data/cifar10 is absent"))
    func readsTheTestLabels() throws {
        let path = cifar("test_y_0_2999.npy")
        let array = try NPYArray.read(path: path)
        #expect(array.shape == [3000])
        #expect(array.storage.dtypeName == "int64")
        #expect(array.encode() == (try ByteIO.readFile(path)))
        #expect(try ImageBatch.readLabels(path: path, classes: 10).count == 3000)
    }
}
