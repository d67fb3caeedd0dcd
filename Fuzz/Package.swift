// swift-tools-version: 6.1
// eec's libFuzzer targets, a package of their own so `swift build` of eec never builds them.
// Build and run them with tools/fuzz (it passes -sanitize=fuzzer,address to every module).
import PackageDescription

let package = Package(
    name: "eec-fuzz",
    dependencies: [.package(name: "eec", path: "..")],
    targets: [
        // libFuzzer's driver, called from each target's entry point.
        .target(name: "FuzzDriver"),
        // The .eeir front end: parse, verify, cost.
        .executableTarget(name: "FuzzEEIR", dependencies: ["FuzzDriver", .product(name: "IR", package: "eec")]),
        // safetensors decoding.
        .executableTarget(name: "FuzzSafetensors", dependencies: ["FuzzDriver", .product(name: "IR", package: "eec")]),
        // .npy decoding and conversion to image batches.
        .executableTarget(name: "FuzzNPY", dependencies: ["FuzzDriver", .product(name: "IR", package: "eec")]),
        // ONNX import: the protobuf decoder, constant folding and the translation.
        .executableTarget(name: "FuzzONNX", dependencies: ["FuzzDriver", .product(name: "IR", package: "eec"),
                                                           .product(name: "Import", package: "eec")]),
        // The whole compile pipeline on graphs that verify: passes, memory plan, C emission.
        .executableTarget(name: "FuzzCompile", dependencies: ["FuzzDriver", .product(name: "IR", package: "eec"),
                                                              .product(name: "Passes", package: "eec"),
                                                              .product(name: "Codegen", package: "eec")]),
    ]
)
