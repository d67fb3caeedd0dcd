import Foundation

extension CortexM4Firmware {
    /// Flash and RAM of the linked image, from its section headers (`llvm-objdump -h`), and the
    /// library's own share of them from its objects.
    public struct Footprint: Sendable {
        /// The image: code (`.text`), read-only data (`.rodata`, unwind tables), initialized data
        /// (stored in flash, copied to RAM), zeroed data (`.bss`: the arena, the harness's input
        /// buffer) and the stack region.
        public var text: Int
        public var rodata: Int
        public var data: Int
        public var bss: Int
        public var stackRegion: Int
        /// The network's kernels and the runtime (`<model>.o`, `eec_runtime.o`), without the
        /// startup and the harness.
        public var networkText: Int
        /// `<model>_weights`, in `.rodata`.
        public var weights: Int
        public var arena: Int

        public var flash: Int { text + rodata + data }
        /// Static RAM, the stack region included (the measured high-water mark is a `Run`'s).
        public var ram: Int { data + bss + stackRegion }
    }

    public func footprint() throws(CodegenError) -> Footprint {
        let image = try sections(of: elf)
        func sum(_ sections: [String: Int], _ prefixes: [String]) -> Int {
            sections.filter { name, _ in prefixes.contains { name == $0 || name.hasPrefix($0 + ".") } }.values.reduce(0, +)
        }
        let object = { (name: String) in (self.directory as NSString).appendingPathComponent((name as NSString).deletingPathExtension + ".o") }
        let network = try sections(of: object(source.sourceName))
        let runtime = try sections(of: object("eec_runtime.c"))
        let weights = try sections(of: object(source.weightsName))
        return Footprint(text: sum(image, [".text"]), rodata: sum(image, [".rodata", ".ARM.exidx"]), data: sum(image, [".data"]),
                         bss: sum(image, [".bss"]), stackRegion: sum(image, [".stack"]),
                         networkText: sum(network, [".text"]) + sum(runtime, [".text"]), weights: sum(weights, [".rodata"]),
                         arena: source.program.arenaBytes)
    }

    /// Section sizes by name. Lines read: "  1 .text  00009b4e 00000000 TEXT".
    func sections(of path: String) throws(CodegenError) -> [String: Int] {
        guard let objdump = toolchain.tool("llvm-objdump") else {
            throw CodegenError("llvm-objdump not found next to \(toolchain.compiler) or on the PATH")
        }
        let result = try CToolchain.run(objdump, ["-h", path], in: directory)
        guard result.status == 0 else { throw CodegenError("llvm-objdump -h \(path) failed: \(result.stderr)") }
        var sizes: [String: Int] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, Int(fields[0]) != nil, fields[1].hasPrefix("."), let size = Int(fields[2], radix: 16) else { continue }
            sizes[String(fields[1]), default: 0] += size
        }
        return sizes
    }
}
