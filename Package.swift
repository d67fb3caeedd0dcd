// swift-tools-version: 6.1
// eec: an early-exit network compiler. No package dependencies, by design.
//
// No target has unsafe flags, so other packages can depend on these libraries by version
// (tools/check-dependency shows it). The tests run the reference interpreter on whole networks,
// which is ~11x slower at -Onone: run them optimized with `swift test -Xswiftc -O` (the README's
// test command, and .ci/run's).
import PackageDescription

let package = Package(
    name: "eec",
    products: [
        .executable(name: "eec", targets: ["eec"]),
        .library(name: "IR", targets: ["IR"]),
        .library(name: "Passes", targets: ["Passes"]),
        .library(name: "Codegen", targets: ["Codegen"]),
        .library(name: "Runtime", targets: ["Runtime"]),
        .library(name: "Quantize", targets: ["Quantize"]),
        .library(name: "Import", targets: ["Import"]),
    ],
    targets: [
        // The graph IR: syntax, ops (shape, cost, reference semantics), verifier, tensors and file formats.
        .target(name: "IR", path: "Sources/IR"),
        // Transformations and analyses over the IR, one pass per file.
        .target(name: "Passes", dependencies: ["IR"], path: "Sources/Passes"),
        // Post-training int8 quantization: the integer semantics (defined once, for the reference
        // and the generated code), calibration ranges, the quantized network and its file, and the
        // bit-exact int8 reference interpreter.
        .target(name: "Quantize", dependencies: ["IR", "Passes"], path: "Sources/Quantize"),
        // Code generators (C, Swift) for a segmented, planned graph.
        .target(name: "Codegen", dependencies: ["IR", "Passes", "Runtime", "Quantize"], path: "Sources/Codegen"),
        // The early-exit runtime: decision rules shared by the interpreter and the generated code.
        // The C runtime (Sources/Runtime/c) is copied as a resource, never compiled into this target:
        // the C backend writes it next to every generated network.
        .target(name: "Runtime", path: "Sources/Runtime", resources: [.copy("c")]),
        // PTEE training of exit heads on a frozen backbone, and threshold calibration.
        .target(name: "Training", dependencies: ["IR", "Passes", "Runtime"], path: "Sources/Training"),
        // ONNX import: a protobuf decoder and the translation of ONNX graphs into eec graphs and weights.
        .target(name: "Import", dependencies: ["IR"], path: "Sources/Import"),
        // The command-line driver.
        .executableTarget(name: "eec", dependencies: ["IR", "Passes", "Codegen", "Runtime", "Training", "Quantize", "Import"], path: "Sources/eec"),
        .testTarget(name: "IRTests", dependencies: ["IR"], path: "Tests/IRTests"),
        .testTarget(name: "PassesTests", dependencies: ["IR", "Passes"], path: "Tests/PassesTests", exclude: ["Fixtures"]),
        .testTarget(name: "TrainingTests", dependencies: ["IR", "Passes", "Training"], path: "Tests/TrainingTests"),
        .testTarget(name: "QuantizeTests", dependencies: ["IR", "Passes", "Quantize"], path: "Tests/QuantizeTests"),
        .testTarget(name: "CodegenTests", dependencies: ["IR", "Passes", "Codegen", "Runtime", "Quantize"], path: "Tests/CodegenTests"),
        .testTarget(name: "ImportTests", dependencies: ["Import", "IR", "Codegen", "Passes"], path: "Tests/ImportTests"),
        .testTarget(name: "eecTests", dependencies: ["eec", "IR", "Passes", "Training"], path: "Tests/eecTests"),
    ]
)
