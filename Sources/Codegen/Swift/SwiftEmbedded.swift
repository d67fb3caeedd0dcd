import Foundation

/// The Embedded Swift build of a generated package for a Cortex-M4 class target, as issue 9
/// promises it: `swiftc -target armv7em-none-none-eabi -enable-experimental-feature Embedded -wmo
/// -Osize -parse-as-library -no-allocations -c`. A check that the generated code needs no heap,
/// no Foundation and no libm, and the way to measure its code size.
public enum SwiftEmbedded {
    public static let flags = ["-target", "armv7em-none-none-eabi", "-enable-experimental-feature", "Embedded", "-wmo",
                               "-Osize", "-parse-as-library", "-no-allocations",
                               // Like the C build: no stack protector, whose guard symbols a bare-metal
                               // firmware would have to provide.
                               "-Xfrontend", "-disable-stack-protector"]

    /// `swiftc` next to `swift` (the same toolchain), else on the PATH.
    public static func swiftc(besides swift: String) -> String {
        let beside = ((CToolchain.realPath(swift) as NSString).deletingLastPathComponent as NSString).appendingPathComponent("swiftc")
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return CToolchain.resolve("swiftc", path: ProcessInfo.processInfo.environment["PATH"] ?? "") ?? "swiftc"
    }

    /// Writes `source` under `directory` and compiles `files` of it (e.g. the model and the
    /// runtime, leaving the weights to flash by other means) to one object; returns its path.
    public static func compile(_ source: SwiftSource, files: [String], swiftc: String, in directory: String) throws(CodegenError) -> String {
        try source.write(to: directory)
        let folder = (directory as NSString).appendingPathComponent(source.sourceFolder)
        let object = (directory as NSString).appendingPathComponent("\(source.program.typeName).armv7em.o")
        let result = try CToolchain.run(swiftc, flags + ["-module-name", source.program.typeName, "-c"] + files + ["-o", object], in: folder)
        guard result.status == 0 else {
            throw CodegenError("the Embedded Swift build failed (status \(result.status)):\n\(result.stderr)")
        }
        return object
    }
}
