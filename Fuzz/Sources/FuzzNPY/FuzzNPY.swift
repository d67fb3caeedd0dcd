import FuzzDriver
import IR

/// Any bytes as a `.npy` file: an array or a `FormatError`; arrays that decode are turned into
/// an image batch and labels as `eec run` would, which must also fail cleanly.
@_cdecl("FuzzNPY_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in test(bytes(data, size)) }
}

func test(_ input: [UInt8]) -> CInt {
    guard let array = try? NPYArray.decode(input, source: "fuzz.npy") else { return 0 }
    _ = try? ImageBatch.inputs(array, sampleShape: [3, 4, 4], source: "fuzz.npy")
    _ = try? ImageBatch.labels(array, classes: 10, source: "fuzz.npy")
    return 0
}
