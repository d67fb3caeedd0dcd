import Testing
import Runtime

/// The C runtime ships as resources of the Runtime target and is read back through Bundle.module.
struct RuntimeResourceTests {
    @Test func runtimeFilesAreReadable() throws {
        let files = try CRuntime.files()
        #expect(files.map(\.name) == ["eec_runtime.h", "eec_runtime.c"])
        #expect(files[0].text.contains("int eec_run("))
        #expect(files[1].text.contains("#include \"eec_runtime.h\""))
    }
}
