import Foundation
import Testing
import Codegen

// What this machine has, found once. A test that needs something that may be missing declares
// it (`@Test(.needsCCompiler)`, `.needsQEMU`, ...), so without it the test is reported as
// skipped, with the reason, rather than passed or failed. The helpers that fetch a tool
// (`toolchain()`, `emulator()`, `swiftExecutable()`) throw a failure when called without it.

extension Trait where Self == ConditionTrait {
    static var needsCCompiler: Self { .enabled(if: hasCCompiler, "no C compiler (clang or $CC)") }
    static var needsLLVMNM: Self { .enabled(if: hasLLVMNM, "no llvm-nm beside the C compiler") }
    static var needsCortexM4Target: Self { .enabled(if: canCompileForCortexM4, "the C compiler cannot build for the Cortex-M4") }
    static var needsSanitizers: Self { .enabled(if: hasSanitizers, "the C compiler cannot link with -fsanitize=address,undefined") }
    static var needsQEMU: Self { .enabled(if: hasQEMU, "no emulator for the Cortex-M4 tests (qemu-system-arm)") }
    static var needsSwift: Self { .enabled(if: hasSwift, "no swift to build the generated packages") }
    static var needsSharedData: Self { .enabled(if: hasSharedData, "\(sharedData.path) is absent") }

    /// Slow checks and measurements that run only when `variable` is set (to `value`, if given).
    static func optIn(_ variable: String, value: String? = nil) -> Self {
        .enabled(if: value.map { ProcessInfo.processInfo.environment[variable] == $0 } ?? (ProcessInfo.processInfo.environment[variable] != nil),
                 "set \(variable)=1 to run")
    }
}

/// The C compiler (`$CC`, else clang), or why there is none.
let foundToolchain = Result { () throws(CodegenError) in try CToolchain.find() }
let hasCCompiler = (try? foundToolchain.get()) != nil

/// The toolchain: a test calling this declares `.needsCCompiler`.
func toolchain() throws -> CToolchain {
    try required(foundToolchain, "no C compiler", declare: ".needsCCompiler")
}

/// llvm-nm beside the compiler (symbol checks of Cortex-M4 objects).
let hasLLVMNM = (try? foundToolchain.get())?.tool("llvm-nm") != nil

/// The compiler has the ARM target: an empty file compiles with the Cortex-M4 flags.
let canCompileForCortexM4 = compilerAccepts(CToolchain.cortexM4Flags, link: false)

/// The flags of the AddressSanitizer and UBSan builds (lld when there is one).
let sanitizerFlags: [String] = {
    var flags = ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
    if (try? foundToolchain.get())?.tool("ld.lld") != nil { flags.append("-fuse-ld=lld") }
    return flags
}()

/// The sanitizer runtimes are installed: an empty program links with `sanitizerFlags`.
let hasSanitizers = compilerAccepts(sanitizerFlags, link: true)

/// qemu-system-arm (`$EEC_QEMU`, else on the PATH), or why there is none.
let foundQEMU = Result { () throws(CodegenError) in try QEMU.find() }
let hasQEMU = (try? foundQEMU.get()) != nil

func emulator() throws -> QEMU {
    try required(foundQEMU, "no emulator for the Cortex-M4 tests", declare: ".needsQEMU")
}

/// The `swift` that builds the Swift backend's packages, or why there is none.
let foundSwift = Result { () throws(CodegenError) in try SwiftHarness.findSwift() }
let hasSwift = (try? foundSwift.get()) != nil

func swiftExecutable() throws -> String {
    try required(foundSwift, "no swift", declare: ".needsSwift")
}

/// `../shared/data/cifar10` with the pre-trained ResNet-44 (absent on most machines).
let hasSharedData = FileManager.default.fileExists(atPath: sharedData.appendingPathComponent("resnet44a.safetensors").path)

/// What `found` holds, or a failure naming the condition the calling test should declare.
private func required<T>(_ found: Result<T, CodegenError>, _ missing: String, declare condition: String) throws -> T {
    do {
        return try found.get()
    } catch {
        throw TestFailure("\(missing) (the test should declare \(condition)): \(error)")
    }
}

/// Whether the compiler builds an empty program with `flags`: false means a missing target or
/// runtime on this machine, not a fault of the generated code.
private func compilerAccepts(_ flags: [String], link: Bool) -> Bool {
    guard let tools = try? foundToolchain.get() else { return false }
    let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("eec-cg-probe-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "int main(void) { return 0; }\n".write(toFile: (dir as NSString).appendingPathComponent("probe.c"), atomically: true, encoding: .utf8)
        try tools.compile(flags + (link ? ["-o", "probe"] : ["-c"]) + ["probe.c"], in: dir)
        return true
    } catch {
        return false
    }
}
