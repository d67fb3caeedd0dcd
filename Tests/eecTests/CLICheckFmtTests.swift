import Foundation
import Testing
import IR
@testable import eec

/// `eec check` and `eec fmt` on the examples and on small files.
@Suite struct CLICheckFmtTests {
    @Test(arguments: CLI.exampleNames)
    func checkIsSilentOnAValidExample(name: String) {
        let r = CLI.run("check", CLI.example(name))
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.out.isEmpty, "\(r.transcript)")
        #expect(r.err.isEmpty, "\(r.transcript)")
    }

    static let withUnused = """
        model unused
        input x: f32[1,2,1,1]
        f = flatten(x)
        spare = relu(x)
        fc = linear(f, out=3)
        output fc

        """

    @Test func checkWarnsAboutUnusedNodes() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let file = try dir.write("unused.eeir", Self.withUnused)
        let r = CLI.run("check", file)
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.out.isEmpty)
        #expect(r.err == """
            \(file):4:1: warning: 'spare' is never used by the output or an exit
            spare = relu(x)
            ^

            """, "\(r.transcript)")
    }

    @Test func otherCommandsAlsoWarnOnStderrOnly() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let file = try dir.write("unused.eeir", Self.withUnused)
        let fmt = CLI.run("fmt", file)
        #expect(fmt.status == 0)
        #expect(fmt.out == Self.withUnused)
        #expect(fmt.err.contains("warning: 'spare' is never used"))
        let stats = CLI.run("stats", file, "--json")
        #expect(stats.status == 0)
        #expect(stats.err.contains("warning: 'spare' is never used"))
        _ = try CLI.jsonObject(stats.out)  // the warning did not leak into the JSON
    }

    @Test(arguments: CLI.exampleNames)
    func fmtReproducesEachExample(name: String) throws {
        let path = CLI.example(name)
        let r = CLI.run("fmt", path)
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.err.isEmpty)
        #expect(r.out == (try cliReadText(path)), "fmt output differs from \(name).eeir")
    }

    @Test(arguments: CLI.exampleNames)
    func annotatedOutputParsesAndFormatsBack(name: String) throws {
        let path = CLI.example(name)
        let plain = try cliReadText(path)
        let r = CLI.run("fmt", path, "--annotate")
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.out != plain)
        #expect(r.out.contains("  # f32["))

        // The annotated text is a valid file...
        switch VerifiedGraph.load(SourceFile(name: "\(name).annotated.eeir", text: r.out)) {
        case .success(let (graph, warnings)):
            #expect(warnings.isEmpty)
            #expect(graph.graph.model == name)
        case .failure(let diagnostics):
            Issue.record("annotated \(name) does not parse: \(diagnostics)")
        }
        // ...whose canonical form is the plain file: the annotations are regenerated, never kept.
        let dir = try CLITempDir()
        defer { dir.remove() }
        let annotated = try dir.write("annotated.eeir", r.out)
        let again = CLI.run("fmt", annotated)
        #expect(again.status == 0)
        #expect(again.out == plain)
        // And annotating twice gives the same text.
        let twice = CLI.run("fmt", annotated, "--annotate")
        #expect(twice.out == r.out)
    }

    @Test func annotationContent() throws {
        let r = CLI.run("fmt", CLI.example("resnet20"), "--annotate")
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.contains("conv1 = conv2d(x, out=16, kernel=3, pad=1, bias=false)  # f32[1,16,32,32] macs=442368 params=432"))
        #expect(lines.contains("linear = linear(flat, out=10)  # f32[1,10] macs=640 params=650"))
        #expect(lines.contains("relu1 = relu(bn1)  # f32[1,16,32,32]"))
    }

    @Test func fmtWritesOutputFile() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let out = dir.path("out.eeir")
        let r = CLI.run("fmt", CLI.example("vgg19"), "-o", out)
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.out.isEmpty)
        #expect(r.err.isEmpty)
        #expect(try dir.read("out.eeir") == (try cliReadText(CLI.example("vgg19"))))

        let annotatedOut = dir.path("annotated.eeir")
        let a = CLI.run("fmt", "-o", annotatedOut, "--annotate", CLI.example("resnet20"))
        #expect(a.status == 0)
        #expect(a.out.isEmpty)
        #expect(try dir.read("annotated.eeir") == CLI.run("fmt", "--annotate", CLI.example("resnet20")).out)
    }

    @Test func fmtToAnUnwritablePathIsAnInputError() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let out = dir.path("no/such/dir/out.eeir")
        let r = CLI.run("fmt", CLI.example("resnet20"), "-o", out)
        #expect(r.status == 1, "\(r.transcript)")
        #expect(r.err.hasPrefix("\(out): error: cannot write file"), "\(r.transcript)")
    }

    @Test func fmtCanonicalizesAMessyFile() throws {
        let dir = try CLITempDir()
        defer { dir.remove() }
        let file = try dir.write("messy.eeir", """
            model   messy
            input x : f32[ 1, 2, 1, 1 ]


            # the classifier
            f=flatten( x )   # trailing comment is dropped
            fc = linear(f, out = 3, bias = true)
            output fc
            """)
        let r = CLI.run("fmt", file)
        #expect(r.status == 0, "\(r.transcript)")
        #expect(r.out == """
            model messy
            input x: f32[1,2,1,1]

            # the classifier
            f = flatten(x)
            fc = linear(f, out=3)
            output fc

            """, "\(r.transcript)")
    }
}
