import FuzzDriver
import IR

/// Any bytes as a safetensors file: a file or a `FormatError`, never a trap or a huge allocation.
@_cdecl("FuzzSafetensors_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in test(bytes(data, size)) }
}

func test(_ input: [UInt8]) -> CInt {
    if let file = try? SafetensorsFile.decode(input, source: "fuzz.safetensors") {
        // What decodes must encode and decode back to the same tensors.
        let again = try? SafetensorsFile.decode(SafetensorsFile.encode(tensors: file.tensors, metadata: file.metadata), source: "again")
        if again?.tensors.count != file.tensors.count { fatalError("safetensors round trip lost tensors") }
    }
    return 0
}
