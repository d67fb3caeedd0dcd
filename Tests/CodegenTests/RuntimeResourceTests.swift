import XCTest
import Runtime

/// The C runtime ships as resources of the Runtime target and is read back through Bundle.module.
final class RuntimeResourceTests: XCTestCase {
    func testRuntimeFilesAreReadable() throws {
        let files = try CRuntime.files()
        XCTAssertEqual(files.map(\.name), ["eec_runtime.h", "eec_runtime.c"])
        XCTAssertTrue(files[0].text.contains("int eec_run("))
        XCTAssertTrue(files[1].text.contains("#include \"eec_runtime.h\""))
    }
}
