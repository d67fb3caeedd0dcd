import Testing
import IR

/// Malformed `.eeir` inputs and the exact diagnostics they produce: `file:line:col: severity: message`
/// for every diagnostic (so an extra, cascading error fails the test as surely as a wrong column),
/// and for some the whole rendered text with the source line and the caret.
@Suite struct DiagnosticsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var source: String
        var expected: [String]

        init(_ label: String, _ source: String, _ expected: [String]) {
            self.label = label
            self.source = source
            self.expected = expected
        }

        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case("unknown op, did you mean (swapped letters)",
             FrontEnd.prelude + "r = rleu(x)\n" + FrontEnd.tail,
             ["t.eeir:3:5: error: unknown op 'rleu'; did you mean 'relu'?"]),
        Case("unknown op, did you mean (extra underscore)",
             FrontEnd.prelude + "b = batch_norm(x)\n" + FrontEnd.tail,
             ["t.eeir:3:5: error: unknown op 'batch_norm'; did you mean 'batchnorm'?"]),
        Case("unknown op, no suggestion",
             FrontEnd.prelude + "r = frobnicate(x)\n" + FrontEnd.tail,
             ["t.eeir:3:5: error: unknown op 'frobnicate'"]),
        Case("unknown name",
             FrontEnd.prelude + "c = relu(y)\n" + FrontEnd.tail,
             ["t.eeir:3:10: error: unknown name 'y'"]),
        Case("unknown name, did you mean",
             FrontEnd.prelude + "conv1 = conv2d(x, out=4, kernel=3)\nbn1 = batchnorm(cnov1)\n" + FrontEnd.tail,
             ["t.eeir:4:17: error: unknown name 'cnov1'; did you mean 'conv1'?"]),
        Case("duplicate name",
             FrontEnd.prelude + "c = relu(x)\nc = relu(c)\n" + FrontEnd.tail,
             ["t.eeir:4:1: error: redefinition of 'c'",
              "t.eeir:3:1: note: previous definition of 'c' is here"]),
        Case("duplicate of the input name",
             FrontEnd.prelude + "x = relu(x)\n" + FrontEnd.tail,
             ["t.eeir:3:1: error: redefinition of 'x'",
              "t.eeir:2:7: note: previous definition of 'x' is here"]),
        Case("use before definition",
             FrontEnd.prelude + "a = relu(b)\nb = relu(x)\n" + FrontEnd.tail,
             ["t.eeir:3:10: error: 'b' is used before its definition",
              "t.eeir:4:1: note: 'b' is defined here"]),
        Case("missing attribute",
             FrontEnd.prelude + "c = conv2d(x, kernel=3)\n" + FrontEnd.tail,
             ["t.eeir:3:23: error: conv2d needs attribute 'out'"]),
        Case("unknown attribute, did you mean",
             FrontEnd.prelude + "c = conv2d(x, out=4, kernel=3, strid=2)\n" + FrontEnd.tail,
             ["t.eeir:3:32: error: unknown attribute 'strid' of conv2d; did you mean 'stride'?"]),
        Case("unknown attribute of an op without attributes",
             FrontEnd.prelude + "r = relu(x, inplace=true)\n" + FrontEnd.tail,
             ["t.eeir:3:13: error: unknown attribute 'inplace' of relu (it takes none)"]),
        Case("duplicate attribute",
             FrontEnd.prelude + "c = conv2d(x, out=4, kernel=3, out=8)\n" + FrontEnd.tail,
             ["t.eeir:3:32: error: duplicate attribute 'out'"]),
        Case("float for an int",
             FrontEnd.prelude + "c = conv2d(x, out=4.0, kernel=3)\n" + FrontEnd.tail,
             ["t.eeir:3:15: error: attribute 'out' of conv2d expects an integer, found a float"]),
        Case("list of 3 for a pair",
             FrontEnd.prelude + "c = conv2d(x, out=4, kernel=[3, 3, 3])\n" + FrontEnd.tail,
             ["t.eeir:3:22: error: attribute 'kernel' of conv2d expects one integer or [h, w], found a list of 3"]),
        Case("bool for an int",
             FrontEnd.prelude + "c = conv2d(x, out=true, kernel=3)\n" + FrontEnd.tail,
             ["t.eeir:3:15: error: attribute 'out' of conv2d expects an integer, found a boolean"]),
        Case("int for a bool",
             FrontEnd.prelude + "c = conv2d(x, out=4, kernel=3, bias=1)\n" + FrontEnd.tail,
             ["t.eeir:3:32: error: attribute 'bias' of conv2d expects true or false, found an integer"]),
        Case("list for a float",
             FrontEnd.prelude + "b = batchnorm(x, eps=[1, 2])\n" + FrontEnd.tail,
             ["t.eeir:3:18: error: attribute 'eps' of batchnorm expects a number, found a list"]),
        Case("float for a pair",
             FrontEnd.prelude + "c = conv2d(x, out=4, kernel=1.5)\n" + FrontEnd.tail,
             ["t.eeir:3:22: error: attribute 'kernel' of conv2d expects an integer or [h, w], found a float"]),
        Case("stride=0",
             FrontEnd.prelude + "c = conv2d(x, out=4, kernel=3, stride=0)\n" + FrontEnd.tail,
             ["t.eeir:3:32: error: attribute 'stride' of conv2d must be at least 1, found 0"]),
        Case("out=-1",
             FrontEnd.prelude + "c = conv2d(x, out=-1, kernel=3)\n" + FrontEnd.tail,
             ["t.eeir:3:15: error: attribute 'out' of conv2d must be at least 1, found -1"]),
        Case("pad=-1 in a pair",
             FrontEnd.prelude + "c = conv2d(x, out=4, kernel=3, pad=[1, -1])\n" + FrontEnd.tail,
             ["t.eeir:3:32: error: attribute 'pad' of conv2d must be at least 0, found -1"]),
        Case("out=2^40",
             FrontEnd.prelude + "c = conv2d(x, out=1099511627776, kernel=3)\n" + FrontEnd.tail,
             ["t.eeir:3:15: error: attribute 'out' of conv2d is out of range (1099511627776)"]),
        Case("eps=0",
             FrontEnd.prelude + "b = batchnorm(x, eps=0)\n" + FrontEnd.tail,
             ["t.eeir:3:18: error: eps must be positive"]),
        Case("add shape mismatch",
             "model m\ninput x: f32[1,3,32,32]\na = conv2d(x, out=16, kernel=3, pad=1)\nb = conv2d(x, out=32, kernel=3, stride=2, pad=1)\ns = add(a, b)\n" + FrontEnd.tail,
             ["t.eeir:5:12: error: add of [1,16,32,32] and [1,32,16,16]: shapes must be equal"]),
        Case("concat spatial mismatch",
             "model m\ninput x: f32[1,3,32,32]\na = conv2d(x, out=16, kernel=3, pad=1)\nb = conv2d(x, out=32, kernel=3, stride=2, pad=1)\ns = concat(a, b)\n" + FrontEnd.tail,
             ["t.eeir:5:15: error: concat of [1,16,32,32] and [1,32,16,16]: all but the channel axis must be equal"]),
        Case("linear on a 4-D tensor",
             FrontEnd.prelude + "l = linear(x, out=10)\n" + FrontEnd.tail,
             ["t.eeir:3:12: error: linear expects [N, features], found [1,3,8,8]; flatten it first"]),
        Case("conv kernel larger than the input",
             FrontEnd.prelude + "c = conv2d(x, out=4, kernel=9)\n" + FrontEnd.tail,
             ["t.eeir:3:22: error: conv2d window 9x9 does not fit the 8x8 input with padding 0x0"]),
        Case("groups not dividing the input channels",
             FrontEnd.prelude + "c = conv2d(x, out=4, kernel=3, groups=2)\n" + FrontEnd.tail,
             ["t.eeir:3:32: error: groups=2 does not divide the 3 input channels"]),
        Case("groups not dividing out",
             FrontEnd.prelude + "c = conv2d(x, out=4, kernel=3, groups=3)\n" + FrontEnd.tail,
             ["t.eeir:3:32: error: groups=3 does not divide out=4"]),
        Case("maxpool pad over half the kernel",
             FrontEnd.prelude + "m = maxpool(x, kernel=2, pad=2)\n" + FrontEnd.tail,
             ["t.eeir:3:26: error: pad should be at most half the kernel size (as PyTorch requires)"]),
        Case("add with one input",
             FrontEnd.prelude + "s = add(x)\n" + FrontEnd.tail,
             ["t.eeir:3:5: error: add expects 2 inputs, found 1"]),
        Case("output is not class logits",
             FrontEnd.prelude + "p = global_avg_pool(x)\noutput p\n",
             ["t.eeir:4:8: error: output 'p' must be class logits [1, classes], found [1,3,1,1]"]),
        Case("no output statement",
             FrontEnd.prelude + "p = global_avg_pool(x)\nf = flatten(p)\n",
             ["t.eeir:5:1: error: missing 'output NAME' statement at the end of the file"]),
        Case("duplicate output",
             FrontEnd.prelude + "p = global_avg_pool(x)\nf = flatten(p)\noutput f\noutput f\n",
             ["t.eeir:6:1: error: duplicate 'output' statement (the final exit is the one output)"]),
        Case("node after output",
             FrontEnd.prelude + "p = global_avg_pool(x)\nf = flatten(p)\noutput f\ng = relu(f)\n",
             ["t.eeir:6:1: error: node after 'output'; 'output' is the last statement"]),
        Case("duplicate model",
             "model m\nmodel n\ninput x: f32[1,3,8,8]\n" + FrontEnd.tail,
             ["t.eeir:2:1: error: duplicate 'model' statement"]),
        Case("model not the first statement",
             "input x: f32[1,3,8,8]\nmodel m\n" + FrontEnd.tail,
             ["t.eeir:2:1: error: 'model' must be the first statement"]),
        Case("input after a node",
             "model m\nc = relu(x)\ninput x: f32[1,3,8,8]\n" + FrontEnd.tail,
             ["t.eeir:3:1: error: 'input' must come before the nodes and exits (right after 'model')"]),
        Case("missing model",
             "input x: f32[1,3,8,8]\n" + FrontEnd.tail,
             ["t.eeir:1:1: error: missing 'model NAME' statement"]),
        Case("missing input",
             "model m\n" + FrontEnd.tail,
             ["t.eeir:1:1: error: missing 'input NAME: f32[...]' statement",
              "t.eeir:2:21: error: unknown name 'x'"]),
        Case("input with batch 2",
             "model m\ninput x: f32[2,3,8,8]\n" + FrontEnd.tail,
             ["t.eeir:2:13: error: input shape must be [1, C, ...] (batch 1; a batch is run sample by sample), found [2,3,8,8]"]),
        Case("input with an empty dimension",
             "model m\ninput x: f32[1,0,8,8]\n" + FrontEnd.tail,
             ["t.eeir:2:13: error: input dimension 0 is out of range"]),
        Case("input too large",
             "model m\ninput x: f32[1,65536,65536,2]\n" + FrontEnd.tail,
             ["t.eeir:2:13: error: input shape [1,65536,65536,2] is too large (more than 2^31 elements)"]),
        Case("wrong element type f16",
             "model m\ninput x: f16[1,3,8,8]\n" + FrontEnd.tail,
             ["t.eeir:2:10: error: unsupported element type 'f16'; only f32 is supported"]),
        Case("unexpected character",
             FrontEnd.prelude + "c = relu(x) @\n" + FrontEnd.tail,
             ["t.eeir:3:13: error: unexpected character '@'"]),
        Case("non-ASCII byte outside a comment",
             FrontEnd.prelude + "c = relu(x) é\n" + FrontEnd.tail,
             ["t.eeir:3:13: error: non-ASCII byte 0xC3 (only comments may hold non-ASCII text)"]),
        Case("control character",
             FrontEnd.prelude + "c = relu(x)\u{01}\n" + FrontEnd.tail,
             ["t.eeir:3:12: error: unexpected control character 0x01"]),
        Case("huge integer literal",
             FrontEnd.prelude + "c = conv2d(x, out=99999999999999999999, kernel=3)\n" + FrontEnd.tail,
             ["t.eeir:3:19: error: integer literal '99999999999999999999' is too large"]),
        Case("float literal out of range",
             FrontEnd.prelude + "b = batchnorm(x, eps=1e999)\n" + FrontEnd.tail,
             ["t.eeir:3:22: error: float literal '1e999' is out of range"]),
        Case("malformed number 3x",
             FrontEnd.prelude + "c = conv2d(x, out=3x, kernel=3)\n" + FrontEnd.tail,
             ["t.eeir:3:19: error: malformed number '3x'"]),
        Case("malformed number 1.",
             FrontEnd.prelude + "c = conv2d(x, out=1., kernel=3)\n" + FrontEnd.tail,
             ["t.eeir:3:19: error: malformed number '1.'"]),
        Case("missing ')'",
             FrontEnd.prelude + "c = conv2d(x, out=4, kernel=3\n" + FrontEnd.tail,
             ["t.eeir:3:30: error: expected ',' or ')' between arguments, found end of line"]),
        Case("missing ','",
             FrontEnd.prelude + "c = conv2d(x out=4, kernel=3)\n" + FrontEnd.tail,
             ["t.eeir:3:14: error: expected ',' or ')' between arguments, found 'out'"]),
        Case("missing '=' in an attribute",
             FrontEnd.prelude + "c = conv2d(x, out 4, kernel=3)\n" + FrontEnd.tail,
             ["t.eeir:3:19: error: expected '=' after attribute name 'out', found '4'"]),
        Case("missing '=' in a node",
             FrontEnd.prelude + "c relu(x)\n" + FrontEnd.tail,
             ["t.eeir:3:3: error: expected '=' after 'c', or a statement keyword (model, input, exit, segment, output)"]),
        Case("extra ','",
             FrontEnd.prelude + "c = conv2d(x, out=4, kernel=3,, pad=1)\n" + FrontEnd.tail,
             ["t.eeir:3:31: error: expected an input name or an attribute, found ','"]),
        Case("trailing tokens",
             FrontEnd.prelude + "c = relu(x) relu\n" + FrontEnd.tail,
             ["t.eeir:3:13: error: unexpected 'relu' at the end of the statement"]),
        Case("positional after keyword",
             FrontEnd.prelude + "c = conv2d(out=4, x, kernel=3)\n" + FrontEnd.tail,
             ["t.eeir:3:19: error: input 'x' after keyword attributes; inputs come first"]),
        Case("exit with a wrong field",
             FrontEnd.prelude + "p = global_avg_pool(x)\nf = flatten(p)\nh = linear(f, out=1)\nk = linear(f, out=10)\nexit e1(classifier=k, confidance=h)\no = linear(f, out=10)\noutput o\n",
             ["t.eeir:7:23: error: unknown exit field 'confidance'; expected 'classifier' or 'confidence'"]),
        Case("exit with a missing field",
             FrontEnd.prelude + "p = global_avg_pool(x)\nf = flatten(p)\nh = linear(f, out=1)\nk = linear(f, out=10)\nexit e1(classifier=k)\no = linear(f, out=10)\noutput o\n",
             ["t.eeir:7:21: error: exit 'e1' needs a 'confidence=' field"]),
        Case("exit classifier not matching the output",
             FrontEnd.prelude + "p = global_avg_pool(x)\nf = flatten(p)\nh = linear(f, out=1)\nk = linear(f, out=10)\nexit e1(classifier=k, confidence=h)\no = linear(f, out=100)\noutput o\n",
             ["t.eeir:7:20: error: exit 'e1' gives [1,10] logits but the output has [1,100]"]),
        Case("duplicate exit",
             FrontEnd.prelude + "p = global_avg_pool(x)\nf = flatten(p)\nh = linear(f, out=1)\nk = linear(f, out=10)\nexit e1(classifier=k, confidence=h)\nexit e1(classifier=k, confidence=h)\no = linear(f, out=10)\noutput o\n",
             ["t.eeir:8:6: error: redefinition of 'e1'",
              "t.eeir:7:6: note: previous definition of 'e1' is here"]),
        Case("exit after output",
             FrontEnd.prelude + "p = global_avg_pool(x)\nf = flatten(p)\nh = linear(f, out=1)\nk = linear(f, out=10)\no = linear(f, out=10)\noutput o\nexit e1(classifier=k, confidence=h)\n",
             ["t.eeir:9:1: error: 'exit' after 'output'"]),
        Case("empty file",
             "",
             ["t.eeir:1:1: error: missing 'model NAME' statement",
              "t.eeir:1:1: error: missing 'input NAME: f32[...]' statement",
              "t.eeir:1:1: error: missing 'output NAME' statement at the end of the file"]),
        Case("only comments",
             "# nothing\n# here\n",
             ["t.eeir:1:1: error: missing 'model NAME' statement",
              "t.eeir:1:1: error: missing 'input NAME: f32[...]' statement",
              "t.eeir:3:1: error: missing 'output NAME' statement at the end of the file"]),
        Case("only blank lines",
             "\n\n\n",
             ["t.eeir:1:1: error: missing 'model NAME' statement",
              "t.eeir:1:1: error: missing 'input NAME: f32[...]' statement",
              "t.eeir:4:1: error: missing 'output NAME' statement at the end of the file"]),
    ]

    /// Errors about an exit's operand should point at the operand, as they do for a node's inputs.
    /// They point at the exit's name instead: `Exit` keeps one location, not one per operand
    /// (Sources/IR/Graph/Graph.swift). The line and the message are right already.
    static let exitOperandCases: [Case] = [
        Case("exit with a wrong confidence shape",
             FrontEnd.prelude + "p = global_avg_pool(x)\nf = flatten(p)\nh = linear(f, out=1)\nk = linear(f, out=10)\nexit e1(classifier=k, confidence=k)\no = linear(f, out=10)\noutput o\n",
             ["t.eeir:7:34: error: exit confidence 'k' must be one logit [1,1], found [1,10]"]),
        Case("exit classifier not a matrix",
             FrontEnd.prelude + "p = global_avg_pool(x)\nf = flatten(p)\nh = linear(f, out=1)\nk = linear(f, out=10)\nexit e1(classifier=p, confidence=h)\no = linear(f, out=10)\noutput o\n",
             ["t.eeir:7:20: error: exit classifier 'p' must be [1, classes], found [1,3,1,1]"]),
        Case("exit with an unknown head",
             FrontEnd.prelude + "p = global_avg_pool(x)\nf = flatten(p)\nh = linear(f, out=1)\nk = linear(f, out=10)\nexit e1(classifier=kk, confidence=h)\no = linear(f, out=10)\noutput o\n",
             ["t.eeir:7:20: error: unknown name 'kk'; did you mean 'k'?"])
    ]

    @Test(arguments: exitOperandCases)
    func exitOperandDiagnostics(_ c: Case) {
        let actual = FrontEnd.diagnostics(c.source)
        func withoutColumn(_ line: String) -> String {
            let parts = line.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
            return parts.count == 4 ? "\(parts[0]):\(parts[1]):\(parts[3])" : line
        }
        #expect(actual.map(withoutColumn) == c.expected.map(withoutColumn))
        #expect(actual == c.expected)
    }

    @Test(arguments: cases)
    func exactDiagnostics(_ c: Case) {
        #expect(FrontEnd.diagnostics(c.source) == c.expected)
    }

    @Test func everyCaseIsDistinctAndFails() {
        #expect(Self.cases.count >= 30)
        #expect(Set(Self.cases.map(\.source)).count == Self.cases.count)
        for c in Self.cases {
            #expect(!c.expected.isEmpty, "\(c.label)")
            #expect(c.expected.first?.contains(": error: ") == true, "\(c.label)")
        }
    }

    // MARK: - More cases that need more than one line to say

    @Test func nodeReadingItselfIsAnErrorNotASilentCycle() {
        let source = FrontEnd.prelude + "a = relu(a)\np = global_avg_pool(a)\nf = flatten(p)\noutput f\n"
        #expect(FrontEnd.diagnostics(source) == ["t.eeir:3:10: error: 'a' is used in its own definition"])
    }

    @Test func unknownNameNeverSuggestsTheNodeBeingDefined() {
        // `n0` is a one-letter edit of `q0`, but suggesting it would suggest a cycle.
        let source = FrontEnd.prelude + "n0 = relu(q0)\n" + FrontEnd.tail
        #expect(FrontEnd.diagnostics(source) == ["t.eeir:3:11: error: unknown name 'q0'"])
    }

    @Test func suggestionIsDeterministicOnTies() {
        // `ab` is one edit from both `aa` and `bb`: the suggestion must not depend on hashing order.
        let source = FrontEnd.prelude + "bb = relu(x)\naa = relu(x)\nc = add(ab, aa)\n" + FrontEnd.tail
        #expect(FrontEnd.diagnostics(source) == ["t.eeir:5:9: error: unknown name 'ab'; did you mean 'aa'?"])
    }

    @Test func nonASCIIInsideCommentsIsAccepted() throws {
        var bytes = Array("# Résumé: naïve ☃ net\nmodel m\ninput x: f32[1,3,8,8] # größe ✓\n".utf8)
        bytes += [UInt8(ascii: "#"), 0xFF, 0xFE, 0x80, 0x00, UInt8(ascii: "\n")]  // not even UTF-8
        bytes += Array(FrontEnd.tail.utf8)
        guard case .success(let (graph, warnings)) = FrontEnd.load(bytes) else {
            Issue.record("did not load: \(FrontEnd.rendered(bytes))")
            return
        }
        #expect(warnings.isEmpty)
        #expect(graph.graph.headerComments == [" Résumé: naïve ☃ net"])
        #expect(graph.shape("f") == [1, 3])
    }

    @Test func crlfLineEndingsLoadAndKeepColumns() {
        let good = (FrontEnd.prelude + FrontEnd.tail).replacingOccurrences(of: "\n", with: "\r\n")
        #expect(FrontEnd.diagnostics(good).isEmpty)
        let bad = (FrontEnd.prelude + "c = relu(y)\n" + FrontEnd.tail).replacingOccurrences(of: "\n", with: "\r\n")
        #expect(FrontEnd.rendered(bad) == """
            t.eeir:3:10: error: unknown name 'y'
            c = relu(y)
                     ^

            """)
        // "found end of line" points right after the text, not after the '\r'.
        let open = (FrontEnd.prelude + "c = conv2d(x, out=4, kernel=3\n" + FrontEnd.tail).replacingOccurrences(of: "\n", with: "\r\n")
        #expect(FrontEnd.diagnostics(open) == ["t.eeir:3:30: error: expected ',' or ')' between arguments, found end of line"])
    }

    // MARK: - The full rendered text

    @Test func renderedUnknownName() {
        let source = FrontEnd.prelude + "layer1.0.conv1 = conv2d(relu0, out=16, kernel=3)\n" + FrontEnd.tail
        #expect(FrontEnd.rendered(source) == """
            t.eeir:3:25: error: unknown name 'relu0'
            layer1.0.conv1 = conv2d(relu0, out=16, kernel=3)
                                    ^

            """)
    }

    @Test func renderedRedefinitionWithNote() {
        let source = FrontEnd.prelude + "c = relu(x)\nc = relu(c)\n" + FrontEnd.tail
        #expect(FrontEnd.rendered(source) == """
            t.eeir:4:1: error: redefinition of 'c'
            c = relu(c)
            ^
            t.eeir:3:1: note: previous definition of 'c' is here
            c = relu(x)
            ^

            """)
    }

    @Test func renderedBadByteShowsAsQuestionMarks() {
        let source = FrontEnd.prelude + "c = relu(x) é\n" + FrontEnd.tail
        #expect(FrontEnd.rendered(source) == """
            t.eeir:3:13: error: non-ASCII byte 0xC3 (only comments may hold non-ASCII text)
            c = relu(x) ??
                        ^

            """)
    }

    @Test func renderedTabsKeepTheCaretAligned() {
        let source = FrontEnd.prelude + "c\t=\trelu(y)\n" + FrontEnd.tail
        #expect(FrontEnd.rendered(source) == """
            t.eeir:3:10: error: unknown name 'y'
            c = relu(y)
                     ^

            """)
    }

    @Test func renderedMissingAttributePointsAtTheClosingParen() {
        let source = FrontEnd.prelude + "c = conv2d(x, kernel=3)\n" + FrontEnd.tail
        #expect(FrontEnd.rendered(source) == """
            t.eeir:3:23: error: conv2d needs attribute 'out'
            c = conv2d(x, kernel=3)
                                  ^

            """)
    }

    @Test func renderedLongLinesAreCutAroundTheCaret() throws {
        // The error is 300 columns in: the line is shown from 100 columns before it, after "...".
        let line = "c = relu(x)" + String(repeating: " ", count: 288) + "@"
        let source = FrontEnd.prelude + line + "\n" + FrontEnd.tail
        let lines = FrontEnd.rendered(source).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "t.eeir:3:300: error: unexpected character '@'")
        let shown = Array(lines[1]), caret = Array(lines[2])
        #expect(shown.starts(with: "..."))
        #expect(shown.count <= 206)
        #expect(caret.last == "^" && caret.dropLast().allSatisfy { $0 == " " })
        #expect(shown[caret.count - 1] == "@")

        // An error near the start of a long line: the line is cut at 200 columns, with "...".
        let long = "c = relu(y)  #" + String(repeating: "x", count: 400)
        let rendered = FrontEnd.rendered(FrontEnd.prelude + long + "\n" + FrontEnd.tail)
        #expect(rendered == "t.eeir:3:10: error: unknown name 'y'\n" + long.prefix(200) + "...\n" + String(repeating: " ", count: 9) + "^\n")
    }

    @Test func renderedMissingOutputAtEndOfFile() {
        // The end of a file that ends in a newline is the start of the (empty) line after it.
        let source = FrontEnd.prelude + "p = global_avg_pool(x)\nf = flatten(p)\n"
        #expect(FrontEnd.rendered(source) == "t.eeir:5:1: error: missing 'output NAME' statement at the end of the file\n\n^\n")
    }

    // MARK: - Several errors, the cap, and no cascades

    @Test func severalErrorsAreAllReportedInSourceOrder() {
        // Syntax errors (lines 5, 6) come from the parser, the others from the verifier: the
        // report still reads top to bottom.
        let source = """
            model m
            input x: f32[1,3,8,8]
            a = relu(y)
            b = conv2d(a, out=0, kernel=3)
            c = foo(b)
            d = relu(x) $
            e = linear(x, out=10)
            p = global_avg_pool(x)
            f = flatten(p)
            output f

            """
        #expect(FrontEnd.diagnostics(source) == [
            "t.eeir:3:10: error: unknown name 'y'",
            "t.eeir:4:15: error: attribute 'out' of conv2d must be at least 1, found 0",
            "t.eeir:5:5: error: unknown op 'foo'",
            "t.eeir:6:13: error: unexpected character '$'",
            "t.eeir:7:12: error: linear expects [N, features], found [1,3,8,8]; flatten it first",
        ])
    }

    @Test func notesStayWithTheirErrorsWhenSorted() {
        let source = """
            model m
            input x: f32[1,3,8,8]
            a = relu(x)
            b = relu(x) (
            a = relu(x)
            c = relu(d)
            d = relu(x)
            p = global_avg_pool(x)
            f = flatten(p)
            output f

            """
        #expect(FrontEnd.diagnostics(source) == [
            "t.eeir:4:13: error: unexpected '(' at the end of the statement",
            "t.eeir:5:1: error: redefinition of 'a'",
            "t.eeir:3:1: note: previous definition of 'a' is here",
            "t.eeir:6:10: error: 'd' is used before its definition",
            "t.eeir:7:1: note: 'd' is defined here",
        ])
    }

    @Test func errorCapPrintsTheTooManyErrorsLine() {
        var source = FrontEnd.prelude
        for i in 0..<30 { source += "n\(i) = relu(q\(i)x)\n" }
        source += FrontEnd.tail
        let list = FrontEnd.diagnostics(source)
        #expect(list.count == DiagnosticList.defaultLimit)
        #expect(list.first == "t.eeir:3:11: error: unknown name 'q0x'")
        #expect(list.last == "t.eeir:22:12: error: unknown name 'q19x'")
        let rendered = FrontEnd.rendered(source)
        #expect(rendered.hasSuffix("n19 = relu(q19x)\n           ^\nerror: too many errors emitted (30 in all), stopping now\n"))
        #expect(rendered.components(separatedBy: ": error: ").count - 1 == 20)
    }

    @Test func errorCapCountsParserAndVerifierErrors() {
        var source = FrontEnd.prelude
        for i in 0..<15 { source += "s\(i) = relu(x) @\n" }
        for i in 0..<15 { source += "u\(i) = relu(nothing)\n" }
        source += FrontEnd.tail
        let rendered = FrontEnd.rendered(source)
        #expect(rendered.hasSuffix("error: too many errors emitted (30 in all), stopping now\n"))
        let list = FrontEnd.diagnostics(source)
        #expect(list.count == 20)
        #expect(list.first == "t.eeir:3:14: error: unexpected character '@'")
        #expect(list == list.sorted { a, b in
            let la = a.split(separator: ":"), lb = b.split(separator: ":")
            return (Int(la[1])!, Int(la[2])!) < (Int(lb[1])!, Int(lb[2])!)
        })
    }

    @Test func exactlyTheCapIsNotTooMany() {
        var source = FrontEnd.prelude
        for i in 0..<20 { source += "n\(i) = relu(q\(i)x)\n" }
        source += FrontEnd.tail
        #expect(FrontEnd.diagnostics(source).count == 20)
        #expect(!FrontEnd.rendered(source).contains("too many errors"))
    }

    @Test func syntaxErrorOnADefiningLineDoesNotCascade() {
        // `c` is used three times below its broken definition; only the definition is reported.
        let source = FrontEnd.prelude + """
            c = conv2d(x, out=4, kernel=3,, pad=1)
            r = relu(c)
            s = add(r, c)
            g = global_avg_pool(s)
            h = flatten(g)
            exit e(classifier=h, confidence=c)
            output h

            """
        #expect(FrontEnd.diagnostics(source) == ["t.eeir:3:31: error: expected an input name or an attribute, found ','"])
    }

    @Test func lexicalErrorOnADefiningLineDoesNotCascade() {
        let source = FrontEnd.prelude + "c = conv2d(x, out=4, kernel=3x)\nr = relu(c)\n" + FrontEnd.tail
        #expect(FrontEnd.diagnostics(source) == ["t.eeir:3:29: error: malformed number '3x'"])
    }

    @Test func verifierErrorOnANodeDoesNotCascade() {
        // A node that fails to type-check is reported once; its users are not.
        let source = FrontEnd.prelude + "c = conv2d(x, out=4, kernel=30)\nr = relu(c)\ns = add(r, c)\n" + FrontEnd.tail
        #expect(FrontEnd.diagnostics(source) == ["t.eeir:3:22: error: conv2d window 30x30 does not fit the 8x8 input with padding 0x0"])
    }

    @Test func brokenInputLineDoesNotCascade() {
        // Not "missing 'input' statement", and not "unknown name 'x'" on every use of it.
        for line in ["input x: f16[1,3,8,8]", "input x: f32[2,3,8,8]", "input x f32[1,3,8,8]", "input x: f32[1,3,8,8"] {
            let errors = FrontEnd.diagnostics("model m\n\(line)\nc = relu(x)\n" + FrontEnd.tail)
            #expect(errors.count == 1, "\(line): \(errors)")
            #expect(errors.first?.hasPrefix("t.eeir:2:") == true, "\(line): \(errors)")
        }
    }

    @Test func brokenModelAndOutputLinesDoNotCascade() {
        #expect(FrontEnd.diagnostics("model 3\ninput x: f32[1,3,8,8]\n" + FrontEnd.tail)
            == ["t.eeir:1:7: error: expected a model name after 'model', found '3'"])
        #expect(FrontEnd.diagnostics(FrontEnd.prelude + "p = global_avg_pool(x)\nf = flatten(p)\noutput f p\n")
            == ["t.eeir:5:10: error: unexpected 'p' at the end of the statement"])
    }
}
