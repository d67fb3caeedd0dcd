import Foundation
import Testing
import IR

/// The canonical printer (docs/IR.md, "Canonical form"): the examples are committed in it, it is a
/// fixed point of parse-then-print (with or without annotations), comments and blank lines are
/// kept as documented, attributes are canonicalized, and exits sit right after their heads.
@Suite struct PrinterTests {
    static let examples = FrontEnd.exampleFiles().map(\.lastPathComponent)

    static func example(_ name: String) throws -> String {
        try FrontEnd.text(FrontEnd.packageRoot.appendingPathComponent("examples").appendingPathComponent(name))
    }

    /// Loads text that must be valid.
    static func graph(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> VerifiedGraph {
        switch FrontEnd.load(text) {
        case .success(let (graph, _)): return graph
        case .failure(let list):
            Issue.record("does not load:\n\(list.rendered(in: SourceFile(name: FrontEnd.fileName, text: text)))", sourceLocation: sourceLocation)
            throw list
        }
    }

    static func fmt(_ text: String, annotated: Bool = false) throws -> String {
        let g = try graph(text)
        return Printer.print(g.graph, annotate: annotated ? FrontEnd.annotation(for: g) : nil)
    }

    // MARK: - Examples

    @Test func thereAreExamples() {
        #expect(Self.examples.count >= 3)
        #expect(Self.examples.contains("resnet20.eeir"))
    }

    @Test(arguments: examples)
    func exampleIsInCanonicalForm(_ name: String) throws {
        let text = try Self.example(name)
        #expect(try Self.fmt(text) == text)
    }

    @Test(arguments: examples)
    func exampleIsAFixedPointWithAnnotations(_ name: String) throws {
        let text = try Self.example(name)
        let annotated = try Self.fmt(text, annotated: true)
        #expect(annotated != text)
        // Every node line carries its note; the note is regenerated, not accumulated, on reprint.
        let g = try Self.graph(text)
        for node in g.graph.nodes {
            #expect(annotated.contains("\(Printer.line(node))  # f32\(Tensor.describe(g.shape(node.name)))"), "\(node.name)")
        }
        #expect(try Self.fmt(annotated, annotated: true) == annotated)
        // End-of-line comments are dropped: the plain print of the annotated text is the file again.
        #expect(try Self.fmt(annotated) == text)
    }

    @Test(arguments: examples)
    func exampleWithCRLFAndNoiseFormatsBack(_ name: String) throws {
        // CRLF line ends, extra blank lines, trailing blanks and end-of-line comments all go.
        let text = try Self.example(name)
        var noisy = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.isEmpty {
                noisy += "\r\n \t\r\n\r\n"
            } else if line.hasPrefix("#") {
                noisy += line + "  \r\n"
            } else {
                noisy += line.replacingOccurrences(of: ", ", with: " ,\t") + "   # note ☃\r\n"
            }
        }
        #expect(try Self.fmt(noisy) == text)
    }

    // MARK: - Attributes

    @Test func attributesAreCanonicalized() throws {
        let text = """
            model m
            input x: f32[1,3,8,8]
            c = conv2d(x,kernel=[3, 3],out=8,stride=[1, 1],pad=[1,1],dilation=1,groups=1,bias=true,relu=false)
            d  =  conv2d( c , out = 8 , kernel = [3, 1] , stride = [2, 2] , pad = [1, 0] , bias = false )
            b = batchnorm(d, eps=1)
            b2 = batchnorm(b, eps=0.00001)
            b3 = batchnorm(b2, eps=1E-3)
            b4 = batchnorm(b3, eps=2.50e-7)
            m = maxpool(b4, kernel=[2, 2], stride=2)
            a = avgpool(m, kernel=2, stride=1, pad=0)
            s = add(a, a, relu=false)
            p = global_avg_pool(s)
            f = flatten(p)
            l = linear(f, bias=true, out=10, relu=true)
            output l
            """
        #expect(try Self.fmt(text) == """
            model m
            input x: f32[1,3,8,8]
            c = conv2d(x, out=8, kernel=3, pad=1)
            d = conv2d(c, out=8, kernel=[3, 1], stride=2, pad=[1, 0], bias=false)
            b = batchnorm(d, eps=1.0)
            b2 = batchnorm(b)
            b3 = batchnorm(b2, eps=0.001)
            b4 = batchnorm(b3, eps=2.5e-07)
            m = maxpool(b4, kernel=2)
            a = avgpool(m, kernel=2, stride=1)
            s = add(a, a)
            p = global_avg_pool(s)
            f = flatten(p)
            l = linear(f, out=10, relu=true)
            output l

            """)
    }

    @Test func poolingStrideIsLeftOutOnlyWhenItEqualsTheKernel() throws {
        let text = """
            model m
            input x: f32[1,3,8,8]
            a = maxpool(x, kernel=[2, 1], stride=[2, 1])
            b = maxpool(x, kernel=[2, 1], stride=2)
            c = avgpool(x, kernel=2, stride=[2, 2], pad=1)
            d = avgpool(x, kernel=3, stride=[3, 1])
            e = concat(a, a)
            output f
            """.replacingOccurrences(of: "output f", with: "p = global_avg_pool(x)\nf = flatten(p)\noutput f")
        #expect(try Self.fmt(text) == """
            model m
            input x: f32[1,3,8,8]
            a = maxpool(x, kernel=[2, 1])
            b = maxpool(x, kernel=[2, 1], stride=2)
            c = avgpool(x, kernel=2, pad=1)
            d = avgpool(x, kernel=3, stride=[3, 1])
            e = concat(a, a)
            p = global_avg_pool(x)
            f = flatten(p)
            output f

            """)
        // Dropping the stride does not change the shapes.
        let before = try Self.graph(text), after = try Self.graph(try Self.fmt(text))
        #expect(before.shapes == after.shapes)
    }

    @Test(arguments: [0.1, 0.001, 1e-5 * 3, 0.30000000000000004, 1e-300, 123456789.125, 2.0, 1e20])
    func floatsPrintShortestAndReadBack(_ eps: Double) throws {
        let text = FrontEnd.prelude + "b = batchnorm(x, eps=\(eps))\np = global_avg_pool(b)\nf = flatten(p)\noutput f\n"
        let printed = try Self.fmt(text)
        #expect(printed == text, "Swift's description is the shortest round-trip form")
        guard case .float(let value)? = try Self.graph(printed).graph.nodes[0].attributes["eps"] else {
            Issue.record("eps is not a float")
            return
        }
        #expect(value == eps)
    }

    @Test func graphsBuiltInCodePrintCanonically() throws {
        let graph = Graph(
            model: "built",
            input: Input(name: "x", shape: [1, 3, 8, 8]),
            nodes: [
                Node(name: "c", op: .conv2d, inputs: ["x"],
                     attributes: Attributes(["kernel": .ints([3, 3]), "out": .int(4), "stride": .ints([1, 1]), "bias": .bool(false)])),
                Node(name: "b", op: .batchnorm, inputs: ["c"], attributes: Attributes(["eps": .int(2)])),
                Node(name: "p", op: .globalAvgPool, inputs: ["b"]),
                Node(name: "f", op: .flatten, inputs: ["p"]),
                Node(name: "h", op: .linear, inputs: ["f"], attributes: Attributes(["out": .int(1)])),
                Node(name: "k", op: .linear, inputs: ["f"], attributes: Attributes(["out": .int(10)])),
            ],
            exits: [Exit(name: "e", classifier: "k", confidence: "h")],
            output: Output(name: "k"))
        let verified = try VerifiedGraph(graph)
        let text = Printer.print(verified.graph)
        #expect(text == """
            model built
            input x: f32[1,3,8,8]
            c = conv2d(x, out=4, kernel=3, bias=false)
            b = batchnorm(c, eps=2.0)
            p = global_avg_pool(b)
            f = flatten(p)
            h = linear(f, out=1)
            k = linear(f, out=10)
            exit e(classifier=k, confidence=h)
            output k

            """)
        // It parses back to the same graph (locations aside), attribute values canonicalized.
        let again = try Self.graph(text)
        #expect(again.shapes == verified.shapes)
        #expect(Printer.print(again.graph) == text)
    }

    @Test func unknownAttributesPrintLastAndSorted() {
        // Only graphs that failed verification have them, but printing one must not lose them.
        let node = Node(name: "r", op: .relu, inputs: ["x"], attributes: Attributes(["zeta": .int(1), "alpha": .ints([3, 3]), "mid": .bool(true)]))
        #expect(Printer.line(node) == "r = relu(x, alpha=3, mid=true, zeta=1)")
    }

    // MARK: - Comments and blank lines

    @Test func commentsAndBlankLines() throws {
        let text = """


            # header 1
            #header 2 (no space)
            #
            model m
            # about the input
            input x: f32[1,3,8,8]



            # stem
            # two lines
            c = conv2d(x, out=4, kernel=3)  # end-of-line comment, dropped
            r = relu(c)
            \t
            # head
            p = global_avg_pool(r)
            f = flatten(p)
            # the output
            output f


            # trailing 1

            # trailing 2


            """
        let expected = """
            # header 1
            #header 2 (no space)
            model m
            # about the input
            input x: f32[1,3,8,8]

            # stem
            # two lines
            c = conv2d(x, out=4, kernel=3)
            r = relu(c)

            # head
            p = global_avg_pool(r)
            f = flatten(p)
            # the output
            output f

            # trailing 1
            #
            # trailing 2

            """
        #expect(try Self.fmt(text) == expected)
        #expect(try Self.fmt(expected) == expected)
        let g = try Self.graph(text).graph
        #expect(g.headerComments == [" header 1", "header 2 (no space)"])
        #expect(g.input.trivia == Trivia(comments: [" about the input"]))
        #expect(g.nodes[0].trivia == Trivia(blankLineBefore: true, comments: [" stem", " two lines"]))
        #expect(g.nodes[1].trivia == Trivia())
        #expect(g.nodes[2].trivia == Trivia(blankLineBefore: true, comments: [" head"]))
        #expect(g.output.trivia == Trivia(comments: [" the output"]))
        #expect(g.trailingComments == [" trailing 1", "", " trailing 2"])
    }

    @Test func commentBlocksStayWithTheirStatement() throws {
        // A comment block and the blank line before it belong to the next statement: a blank line
        // between the block and the statement is dropped, one inside the block stays (as "#").
        let text = FrontEnd.prelude + """
            c = relu(x)

            # about d

            d = relu(c)
            # part one

            # part two
            e = relu(d)
            p = global_avg_pool(e)
            f = flatten(p)
            output f
            """
        #expect(try Self.fmt(text) == FrontEnd.prelude + """
            c = relu(x)

            # about d
            d = relu(c)
            # part one
            #
            # part two
            e = relu(d)
            p = global_avg_pool(e)
            f = flatten(p)
            output f

            """)
    }

    @Test func blankLineBetweenModelAndInputIsKept() throws {
        let text = "model m\n\n\ninput x: f32[1,3,8,8]\n\n" + FrontEnd.tail
        #expect(try Self.fmt(text) == "model m\n\ninput x: f32[1,3,8,8]\n\n" + FrontEnd.tail)
    }

    @Test func annotationClosureOutputIsAppendedAndRegenerated() throws {
        let text = FrontEnd.prelude + "c = conv2d(x, out=4, kernel=3)  # stale note\n" + FrontEnd.tail.replacingOccurrences(of: "(x)", with: "(c)")
        let g = try Self.graph(text)
        let annotated = Printer.print(g.graph) { $0.op == .conv2d ? "conv \($0.name)" : nil }
        #expect(annotated == FrontEnd.prelude + """
            c = conv2d(x, out=4, kernel=3)  # conv c
            p = global_avg_pool(c)
            f = flatten(p)
            output f

            """)
        let again = try Self.graph(annotated)
        #expect(Printer.print(again.graph) { $0.op == .conv2d ? "conv \($0.name)" : nil } == annotated)
        // The standard annotation: shape, MACs, parameters.
        #expect(try Self.fmt(text, annotated: true) == FrontEnd.prelude + """
            c = conv2d(x, out=4, kernel=3)  # f32[1,4,6,6] macs=4032 params=112
            p = global_avg_pool(c)  # f32[1,4,1,1]
            f = flatten(p)  # f32[1,4]
            output f

            """)
    }

    // MARK: - Exits

    @Test func exitsGoRightAfterTheLaterOfTheirHeads() throws {
        let text = """
            model m
            input x: f32[1,3,8,8]
            # the second exit, written first
            exit e2(confidence=h2, classifier=k2)
            p = global_avg_pool(x)
            f = flatten(p)
            h1 = linear(f, out=1)
            k2 = linear(f, out=10)
            k1 = linear(f, out=10)
            exit e3(classifier=k1, confidence=h1)
            h2 = linear(f, out=1)
            o = linear(f, out=10)

            exit e1(classifier=k1, confidence=h1)
            output o
            """
        let expected = """
            model m
            input x: f32[1,3,8,8]
            p = global_avg_pool(x)
            f = flatten(p)
            h1 = linear(f, out=1)
            k2 = linear(f, out=10)
            k1 = linear(f, out=10)
            exit e3(classifier=k1, confidence=h1)

            exit e1(classifier=k1, confidence=h1)
            h2 = linear(f, out=1)
            # the second exit, written first
            exit e2(classifier=k2, confidence=h2)
            o = linear(f, out=10)
            output o

            """
        #expect(try Self.fmt(text) == expected)
        #expect(try Self.fmt(expected) == expected)
        #expect(try Self.fmt(expected, annotated: true) == Self.fmt(Self.fmt(expected, annotated: true), annotated: true))
    }

    // MARK: - Idempotence on messy input

    static let messy: [String] = [
        FrontEnd.prelude + FrontEnd.tail,
        "\n\n#a\n\n#b\n\n\nmodel   m   # x\n#c\n\n\ninput x :f32[ 1 , 3 , 8 , 8 ]\n\n\n#d\n\n#e\n\n\n" + FrontEnd.tail + "\n\n#z\n\n",
        "model m\ninput x: f32[1,3,8,8]\nexit e(confidence=h, classifier=k)\np = global_avg_pool(x)\nf = flatten(p)\n#k\nk = linear(f, out=3)\n\nh = linear(f, out=1)\noutput k\n#\n#\n",
        // Statement keywords are names too.
        "model model\ninput input: f32[1,3,8,8]\nexit = relu(input)\nmodel.1 = global_avg_pool(exit)\noutput = flatten(model.1)\nsegment = linear(output, out=1)\nexit exit.0(classifier=output, confidence=segment)\noutput output\n",
        "model m\r\ninput x: f32[1,3,8,8]\r\nc=conv2d(x,out=6,kernel=[1,1],stride=[1,1],groups=3,relu=true)#x\r\nd=channel_pad(c,before=1,after=0)\r\ns=subsample(d,stride=3)\r\nq=sigmoid(s)\r\nw=softmax(q)\r\np=global_avg_pool(w)\r\nf=flatten(p)\r\noutput f",
    ]

    @Test(arguments: messy.indices)
    func formatIsIdempotent(_ i: Int) throws {
        let once = try Self.fmt(Self.messy[i])
        #expect(try Self.fmt(once) == once)
        let annotated = try Self.fmt(Self.messy[i], annotated: true)
        #expect(try Self.fmt(annotated, annotated: true) == annotated)
        #expect(try Self.fmt(annotated) == once)
        // The printed graph is the parsed graph: same statements (attributes up to canonical
        // spelling), same trivia, same shapes.
        let ga = try Self.graph(Self.messy[i]), gb = try Self.graph(once)
        let a = ga.graph, b = gb.graph
        #expect(a.nodes.map { Printer.line($0) } == b.nodes.map { Printer.line($0) })
        #expect(a.nodes.map(\.trivia) == b.nodes.map(\.trivia))
        #expect(a.input == b.input && a.output == b.output && a.model == b.model)
        #expect(ga.shapes == gb.shapes)
        #expect(a.headerComments == b.headerComments && a.trailingComments == b.trailingComments)
        #expect(Set(a.exits.map(\.name)) == Set(b.exits.map(\.name)))
    }
}
