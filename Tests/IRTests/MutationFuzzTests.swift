import Foundation
import Testing
import IR

/// Seeded mutation testing of the front end: thousands of broken variants of the examples and of
/// small valid files go through `VerifiedGraph.load`. None may crash or hang; a failure must come
/// with well-placed errors; a success must survive `CostReport` and print back to itself.
@Suite struct MutationFuzzTests {
    /// Small valid files that, between them, use every op, attribute kind, exits and comments.
    static let snippets: [String] = [
        FrontEnd.prelude + FrontEnd.tail,
        """
        # every op once
        model allops
        input x: f32[1,4,16,16]

        # stem
        c1 = conv2d(x, out=8, kernel=[3, 3], stride=1, pad=1, dilation=1, groups=1, bias=true)
        b1 = batchnorm(c1, eps=0.001)
        r1 = relu(b1)
        c2 = conv2d(r1, out=8, kernel=[3, 1], pad=[1, 0], groups=2, bias=false)
        a1 = add(c2, r1, relu=true)
        m1 = maxpool(a1, kernel=2)
        v1 = avgpool(a1, kernel=3, stride=2, pad=1)
        k1 = concat(m1, v1, m1)
        s1 = subsample(r1, stride=2)
        p1 = channel_pad(s1, before=4, after=12)
        k2 = concat(k1, p1)

        # exit 1
        g1 = global_avg_pool(k2)
        f1 = flatten(g1)
        e1c = linear(f1, out=10)
        e1h = linear(f1, out=1)
        exit e1(classifier=e1c, confidence=e1h)

        c3 = conv2d(k2, out=16, kernel=3, stride=2, pad=1, dilation=2, relu=true)
        q = sigmoid(c3)
        g2 = global_avg_pool(q)
        f2 = flatten(g2)
        o = linear(f2, out=10, bias=false)
        sm = softmax(o)
        output sm

        # the end
        """,
        """
        model exits
        input img: f32[1,3,32,32]
        stem = conv2d(img, out=16, kernel=3, pad=1)
        h1.pool = global_avg_pool(stem)
        h1.flat = flatten(h1.pool)
        h1.fc = linear(h1.flat, out=100)
        h1.conf = linear(h1.flat, out=1)
        exit early(classifier=h1.fc, confidence=h1.conf)
        deep = conv2d(stem, out=32, kernel=3, stride=2, pad=1)
        deep.relu = relu(deep)
        pool = global_avg_pool(deep.relu)
        flat = flatten(pool)
        fc = linear(flat, out=100)
        output fc
        """,
        """
        model lists
        input x: f32[1,2,9,7]
        c = conv2d(x, out=6, kernel=[3, 2], stride=[2, 1], pad=[1, 0], dilation=[1, 2], groups=2)
        m = maxpool(c, kernel=[2, 1], stride=[1, 1], pad=[1, 0])
        b = batchnorm(m, eps=1e-3)
        g = global_avg_pool(b)
        f = flatten(g)
        l = linear(f, out=3, relu=true)
        output l
        """,
    ]

    /// Values a mutated integer becomes: the edges of every range check.
    static let extremes = [
        "0", "-1", "1", "2", "-0", "2147483647", "2147483648", "4294967296", "1099511627776",
        "4611686018427387904", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
        "99999999999999999999", String(repeating: "9", count: 300), "1e308", "1e999", "-2.5E3", "0.0", "3x", "1.",
    ]

    /// Bytes a mutation inserts: structure, whitespace, and bytes that are not text.
    static let nastyBytes: [UInt8] = [0x00, 0xFF, 0x80, 0xC3, 0xFE, 0x7F, 0x0D, 0x09, 0x0A, 0x1B] + Array("#=(),[]:.-_\"".utf8)

    /// Byte sequences that are not UTF-8: a lone lead byte, truncated sequences, a surrogate, an overlong '/'.
    static let invalidUTF8: [[UInt8]] = [[0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xFF, 0xFE]]

    static let words = ["model", "input", "output", "exit", "segment", "true", "false", "f32", "f16", "classifier", "confidence"]
        + OpKind.allCases.map(\.name)
        + OpKind.allCases.flatMap { $0.definition.attributes.map(\.name) }

    struct Stats {
        var inputs = 0
        var loaded = 0
        var failed = 0
        var printed = 0
    }

    @Test(.timeLimit(.minutes(2)))
    func seededMutationsNeverCrashAndRoundTrip() throws {
        var seeds: [[UInt8]] = Self.snippets.map { Array($0.utf8) }
        for url in FrontEnd.exampleFiles() { seeds.append(try FrontEnd.bytes(url)) }
        #expect(seeds.count >= 5)
        for seed in seeds { #expect(FrontEnd.diagnostics(seed).isEmpty, "a seed does not load") }

        // EEC_FUZZ_SEED and EEC_FUZZ_ITERATIONS run a longer or different campaign by hand; the
        // default (8,000 inputs: about 9 s with IR at -Onone, 4 s at -O) is what CI runs.
        let environment = ProcessInfo.processInfo.environment
        var rng = SplitMix64(seed: environment["EEC_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0xEEC_F022)
        var stats = Stats()
        let iterations = environment["EEC_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 8000
        let elapsed = FrontEnd.seconds {
            for iteration in 0..<iterations {
                // Mostly the small seeds (fast, and about half of their mutants still load); the
                // examples every fourth time.
                let seed = iteration % 4 == 3
                    ? seeds[Self.snippets.count + Int(rng.next() % UInt64(seeds.count - Self.snippets.count))]
                    : seeds[Int(rng.next() % UInt64(Self.snippets.count))]
                var bytes = seed
                let count = 1 + Int(rng.next() % 3)
                for _ in 0..<count { bytes = Self.mutate(bytes, &rng) }
                Self.check(bytes, iteration: iteration, annotate: iteration % 8 == 0, &stats)
            }
        }
        stats.inputs = iterations
        // Enough of both outcomes that both paths were exercised.
        #expect(stats.loaded > iterations / 10, "only \(stats.loaded) of \(iterations) mutants loaded")
        #expect(stats.failed > iterations / 3, "only \(stats.failed) of \(iterations) mutants failed")
        #expect(elapsed < 60 * max(1, Double(iterations) / 8000), "\(iterations) mutants took \(elapsed) s")
        print("mutation fuzz: \(iterations) inputs, \(stats.loaded) loaded, \(stats.failed) rejected, \(String(format: "%.2f", elapsed)) s")
    }

    /// Loads one input and checks whatever comes out.
    static func check(_ bytes: [UInt8], iteration: Int, annotate: Bool, _ stats: inout Stats) {
        let source = SourceFile(name: FrontEnd.fileName, bytes: bytes)
        switch VerifiedGraph.load(source) {
        case .failure(let list):
            stats.failed += 1
            #expect(list.hasErrors, "iteration \(iteration)")
            #expect(list.items.first?.severity == .error, "iteration \(iteration)")
            #expect(list.items.filter { $0.severity == .error }.count == min(list.errorCount, list.limit), "iteration \(iteration)")
            for item in list.items {
                let line = item.location.line
                let inRange = line >= 1 && line <= source.lineStarts.count
                #expect(inRange, "iteration \(iteration): \(item)")
                if inRange {
                    let start = source.lineStarts[line - 1]
                    let end = line < source.lineStarts.count ? source.lineStarts[line] - 1 : bytes.count
                    #expect(item.location.column >= 1 && item.location.column <= end - start + 1, "iteration \(iteration): \(item)")
                }
            }
            let text = list.rendered(in: source)
            #expect(text.hasPrefix("\(FrontEnd.fileName):"), "iteration \(iteration)")
        case .success(let (graph, warnings)):
            stats.loaded += 1
            #expect(warnings.allSatisfy { $0.severity == .warning }, "iteration \(iteration)")
            for convention in CostReport.Convention.allCases {
                let report = CostReport(graph, convention: convention)
                #expect(report.rows.count == graph.graph.nodes.count)
                #expect(report.total.macs >= 0 && report.total.eenets >= report.total.macs, "iteration \(iteration)")
            }
            let annotation = annotate ? FrontEnd.annotation(for: graph) : nil
            let printed = Printer.print(graph.graph, annotate: annotation)
            switch FrontEnd.load(printed) {
            case .failure(let list):
                Issue.record("iteration \(iteration): the print does not load:\n\(list.rendered(in: SourceFile(name: "print", text: printed)))\n\(printed)")
            case .success(let (again, _)):
                stats.printed += 1
                #expect(Printer.print(again.graph, annotate: annotate ? FrontEnd.annotation(for: again) : nil) == printed,
                        "iteration \(iteration): print is not a fixed point")
                #expect(again.shapes == graph.shapes, "iteration \(iteration)")
            }
        }
    }

    // MARK: - Mutations

    /// Applies one random mutation, byte-level or token-level.
    static func mutate(_ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(rng.next() % UInt64(n)) }
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        func joined() -> [UInt8] { Array(lines.joined(separator: [UInt8(ascii: "\n")])) }
        let position = below(bytes.count + 1)
        switch below(20) {
        case 0:  // delete a line
            if !lines.isEmpty { lines.remove(at: below(lines.count)) }
            return joined()
        case 1:  // duplicate a line
            if !lines.isEmpty { let i = below(lines.count); lines.insert(lines[i], at: below(lines.count + 1)) }
            return joined()
        case 2:  // swap two lines
            if lines.count > 1 { lines.swapAt(below(lines.count), below(lines.count)) }
            return joined()
        case 3:  // flip one bit
            guard !bytes.isEmpty else { return bytes }
            var out = bytes
            out[below(out.count)] ^= UInt8(1) << UInt8(below(8))
            return out
        case 4:  // overwrite a byte with a nasty one
            guard !bytes.isEmpty else { return bytes }
            var out = bytes
            out[below(out.count)] = nastyBytes[below(nastyBytes.count)]
            return out
        case 5:  // insert random bytes
            var out = bytes
            out.insert(contentsOf: (0..<(1 + below(8))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: position)
            return out
        case 6:  // insert invalid UTF-8
            var out = bytes
            out.insert(contentsOf: invalidUTF8[below(invalidUTF8.count)], at: position)
            return out
        case 7:  // delete a byte range
            var out = bytes
            let length = min(out.count - min(position, out.count), 1 + below(12))
            if length > 0 { out.removeSubrange(position..<(position + length)) }
            return out
        case 8:  // truncate
            return Array(bytes.prefix(position))
        case 9:  // insert a blank line or a comment line (any bytes but a newline, not even UTF-8)
            let text: [UInt8] = below(3) == 0 ? [] : [UInt8(ascii: "#")] + (0..<below(12)).map { _ in
                let b = UInt8(truncatingIfNeeded: rng.next())
                return b == UInt8(ascii: "\n") ? UInt8(ascii: " ") : b
            }
            lines.insert(text, at: below(lines.count + 1))
            return joined()
        case 10:  // an end-of-line comment, or spaces, tabs and a '\r'
            guard !lines.isEmpty else { return bytes }
            let i = below(lines.count)
            lines[i] += below(2) == 0 ? Array("  # \(rng.next()) é".utf8) : [0x20, 0x09, 0x0D]
            return joined()
        case 11:  // respace a line: no spaces, or extra ones after punctuation
            guard !lines.isEmpty else { return bytes }
            let i = below(lines.count)
            guard lines[i].first != UInt8(ascii: "#") else { return bytes }
            if below(2) == 0 {
                lines[i] = lines[i].flatMap { b -> [UInt8] in
                    b == UInt8(ascii: ",") || b == UInt8(ascii: "=") || b == UInt8(ascii: "(") ? [b, 0x20, 0x09] : [b]
                }
            } else if let hash = lines[i].firstIndex(of: UInt8(ascii: "#")) {
                lines[i] = Array(lines[i][..<hash].filter { $0 != 0x20 }) + lines[i][hash...]
            } else {
                // Spaces inside `model m` or `input x: f32` matter; elsewhere they do not.
                let text = String(decoding: lines[i], as: UTF8.self)
                if text.contains(" = ") { lines[i] = Array(text.replacingOccurrences(of: " ", with: "").utf8) }
            }
            return joined()
        default:
            break
        }
        // Token-level mutations on one non-empty line.
        let candidates = lines.indices.filter { !lines[$0].isEmpty && lines[$0].first != UInt8(ascii: "#") }
        guard !candidates.isEmpty else { return bytes }
        let l = candidates[below(candidates.count)]
        let tokens = tokenize(lines[l])
        guard !tokens.isEmpty else { return bytes }
        var line = lines[l]
        switch below(9) {
        case 7:  // an integer becomes a small one (often still valid)
            let numbers = tokens.filter { isNumberStart(line[$0.lowerBound]) }
            guard !numbers.isEmpty else { return bytes }
            line.replaceSubrange(numbers[below(numbers.count)], with: Array(String(below(17)).utf8))
        case 8:  // reverse the attributes of a node (order does not matter)
            guard let open = line.firstIndex(of: UInt8(ascii: "(")), let close = line.lastIndex(of: UInt8(ascii: ")")), open < close,
                  line.contains(UInt8(ascii: "=")) else { return bytes }
            let text = String(decoding: line[(open + 1)..<close], as: UTF8.self)
            guard !text.contains("[") else { return bytes }
            let parts = text.components(separatedBy: ", ")
            let inputs = parts.filter { !$0.contains("=") }, attributes = parts.filter { $0.contains("=") }
            line.replaceSubrange((open + 1)..<close, with: Array((inputs + attributes.reversed()).joined(separator: ", ").utf8))
        case 0:  // an integer becomes an extreme value
            let numbers = tokens.filter { isNumberStart(line[$0.lowerBound]) }
            let target = numbers.isEmpty ? tokens[below(tokens.count)] : numbers[below(numbers.count)]
            line.replaceSubrange(target, with: Array(extremes[below(extremes.count)].utf8))
        case 1:  // a name becomes another name of the file, an op, a keyword or an attribute
            let names = tokens.filter { Lexer0.isNameStart(line[$0.lowerBound]) }
            guard !names.isEmpty else { return bytes }
            let pool = fileNames(lines)
            let word = below(3) == 0 ? words[below(words.count)] : pool[below(pool.count)]
            line.replaceSubrange(names[below(names.count)], with: Array(word.utf8))
        case 2:  // delete a token
            line.removeSubrange(tokens[below(tokens.count)])
        case 3:  // duplicate a token
            let t = tokens[below(tokens.count)]
            line.insert(contentsOf: Array(line[t]), at: t.upperBound)
        case 4:  // swap two tokens
            let a = tokens[below(tokens.count)], b = tokens[below(tokens.count)]
            guard a != b else { return bytes }
            let (first, second) = a.lowerBound < b.lowerBound ? (a, b) : (b, a)
            guard first.upperBound <= second.lowerBound else { return bytes }
            let x = Array(line[first]), y = Array(line[second])
            line.replaceSubrange(second, with: x)
            line.replaceSubrange(first, with: y)
        case 5:  // add an attribute before the last ')'
            guard let close = line.lastIndex(of: UInt8(ascii: ")")) else { return bytes }
            let key = below(4) == 0 ? "zz" : words[below(words.count)]
            let value = below(2) == 0 ? extremes[below(extremes.count)] : ["true", "[3, 3]", "[1, 2, 3]", "[]", "x", "0.5"][below(6)]
            line.insert(contentsOf: Array(", \(key)=\(value)".utf8), at: close)
        default:  // an integer becomes an extreme value, again (the most productive mutation)
            let numbers = tokens.filter { isNumberStart(line[$0.lowerBound]) }
            guard !numbers.isEmpty else { return bytes }
            line.replaceSubrange(numbers[below(numbers.count)], with: Array(extremes[below(extremes.count)].utf8))
        }
        lines[l] = line
        return joined()
    }

    /// Token ranges of a line, roughly as the lexer sees them: names (with dots), numbers, and
    /// single bytes for everything else but spaces.
    static func tokenize(_ line: [UInt8]) -> [Range<Int>] {
        var tokens: [Range<Int>] = []
        var i = 0
        while i < line.count {
            let b = line[i]
            if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { i += 1; continue }
            if b == UInt8(ascii: "#") { break }
            let start = i
            if Lexer0.isNameStart(b) || isNumberStart(b) {
                i += 1
                while i < line.count, Lexer0.isNameStart(line[i]) || Lexer0.isDigit(line[i]) || line[i] == UInt8(ascii: ".") { i += 1 }
            } else {
                i += 1
            }
            tokens.append(start..<i)
        }
        return tokens
    }

    static func isNumberStart(_ b: UInt8) -> Bool { Lexer0.isDigit(b) || b == UInt8(ascii: "-") }

    /// The names written in a file (for mutations that make a use refer to another node).
    static func fileNames(_ lines: [[UInt8]]) -> [String] {
        var names: [String] = []
        for line in lines.prefix(64) {
            for t in tokenize(line) where Lexer0.isNameStart(line[t.lowerBound]) { names.append(String(decoding: line[t], as: UTF8.self)) }
        }
        return names.isEmpty ? ["x"] : names
    }

    /// Byte classes (the lexer's own are internal to IR).
    enum Lexer0 {
        static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        static func isNameStart(_ b: UInt8) -> Bool {
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || b == UInt8(ascii: "_")
        }
    }
}

/// Inputs built to be slow, huge or absurd: each must end in a clean diagnostic (or a clean load)
/// quickly, without trapping and without allocating what the file asks for.
@Suite struct PathologicalInputTests {
    @Test func emptyFile() {
        #expect(FrontEnd.diagnostics("") == [
            "t.eeir:1:1: error: missing 'model NAME' statement",
            "t.eeir:1:1: error: missing 'input NAME: f32[...]' statement",
            "t.eeir:1:1: error: missing 'output NAME' statement at the end of the file",
        ])
    }

    @Test func invalidUTF8Everywhere() {
        // 2,000 lines of bytes ≥ 0x80: one error per line, capped.
        var rng = SplitMix64(seed: 7)
        var bytes: [UInt8] = []
        for _ in 0..<2000 {
            bytes += (0..<40).map { _ in UInt8(0x80 + rng.next() % 0x80) }
            bytes.append(UInt8(ascii: "\n"))
        }
        let list = FrontEnd.diagnostics(bytes)
        #expect(list.count == 20)
        // (The "missing model" errors come last and are past the cap.)
        #expect(list.allSatisfy { $0.hasSuffix("(only comments may hold non-ASCII text)") && $0.contains(":1: error: non-ASCII byte 0x") })
        #expect(FrontEnd.rendered(bytes).hasSuffix("error: too many errors emitted (2003 in all), stopping now\n"))

        // One line of them, then a valid file with invalid UTF-8 in every comment.
        #expect(FrontEnd.diagnostics([0xFF, 0xC3, 0x28, 0xA0]).first == "t.eeir:1:1: error: non-ASCII byte 0xFF (only comments may hold non-ASCII text)")
        var commented: [UInt8] = []
        for line in (FrontEnd.prelude + FrontEnd.tail).split(separator: "\n") {
            commented += [UInt8(ascii: "#"), 0xFF, 0xC0, 0xAF, 0xED, 0xA0, 0x80, UInt8(ascii: "\n")] + Array(line.utf8) + Array(" #\u{FF}".utf8) + [0xFE, UInt8(ascii: "\n")]
        }
        #expect(FrontEnd.diagnostics(commented).isEmpty)
    }

    @Test func randomBytesOfEveryValue() {
        // Half a megabyte of uniformly random bytes (NUL, newlines and all).
        var rng = SplitMix64(seed: 99)
        let bytes = (0..<(1 << 19)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        var list: [String] = []
        let time = FrontEnd.seconds { list = FrontEnd.diagnostics(bytes) }
        #expect(list.count == 20)
        #expect(FrontEnd.rendered(bytes).contains("error: too many errors emitted ("))
        #expect(time < 5, "\(time) s")
    }

    @Test func tenThousandCharacterName() {
        let long = String(repeating: "a", count: 10_000)
        #expect(FrontEnd.diagnostics(FrontEnd.prelude + "\(long) = relu(x)\n" + FrontEnd.tail)
            == ["t.eeir:3:1: error: name is longer than 1024 characters"])
        #expect(FrontEnd.diagnostics(FrontEnd.prelude + "r = relu(\(long))\n" + FrontEnd.tail)
            == ["t.eeir:3:10: error: name is longer than 1024 characters"])
        // The limit is 1,024 bytes, dots included.
        let most = String(repeating: "b", count: 1000) + "." + String(repeating: "7", count: 23)
        #expect(most.utf8.count == 1024)
        #expect(FrontEnd.diagnostics(FrontEnd.prelude + "\(most) = relu(x)\np = global_avg_pool(\(most))\nf = flatten(p)\noutput f\n").isEmpty)
        #expect(FrontEnd.diagnostics(FrontEnd.prelude + "\(most)8 = relu(x)\n" + FrontEnd.tail)
            == ["t.eeir:3:1: error: name is longer than 1024 characters"])
    }

    @Test func thousandDigitNumbers() {
        let digits = String(repeating: "7", count: 1000)
        let shown = String(repeating: "7", count: 40) + "..."
        #expect(FrontEnd.diagnostics(FrontEnd.prelude + "c = conv2d(x, out=\(digits), kernel=3)\n" + FrontEnd.tail)
            == ["t.eeir:3:19: error: integer literal '\(shown)' is too large"])
        #expect(FrontEnd.diagnostics(FrontEnd.prelude + "c = conv2d(x, out=-\(digits), kernel=3)\n" + FrontEnd.tail)
            == ["t.eeir:3:19: error: integer literal '-\(shown.dropLast(4))...' is too large"])
        #expect(FrontEnd.diagnostics(FrontEnd.prelude + "b = batchnorm(x, eps=\(digits).5)\n" + FrontEnd.tail)
            == ["t.eeir:3:22: error: float literal '\(shown)' is out of range"])
        // A thousand digits that are a small float are fine.
        #expect(FrontEnd.diagnostics(FrontEnd.prelude + "b = batchnorm(x, eps=0.\(String(repeating: "0", count: 998))1e995)\n"
            + "p = global_avg_pool(b)\nf = flatten(p)\noutput f\n").isEmpty)
    }

    @Test func absurdSizesAreErrorsNotAllocations() {
        var list: [String] = []
        let time = FrontEnd.seconds {
            list = FrontEnd.diagnostics(FrontEnd.prelude + "c = conv2d(x, out=1099511627776, kernel=3)\np = global_avg_pool(c)\nf = flatten(p)\noutput f\n")
        }
        #expect(list == ["t.eeir:3:15: error: attribute 'out' of conv2d is out of range (1099511627776)"])
        #expect(time < 1)
        #expect(FrontEnd.diagnostics(FrontEnd.prelude + "c = conv2d(x, out=1073741824, kernel=3)\np = global_avg_pool(c)\nf = flatten(p)\noutput f\n")
            == ["t.eeir:3:5: error: output shape [1,1073741824,6,6] is too large (more than 2^31 elements)"])
        #expect(FrontEnd.diagnostics(FrontEnd.prelude + "p = global_avg_pool(x)\nf = flatten(p)\nl = linear(f, out=2147483648)\noutput l\n")
            == ["t.eeir:5:5: error: parameter 'weight' shape [2147483648,3] is too large (more than 2^31 elements)"])
        #expect(FrontEnd.diagnostics(FrontEnd.prelude + "c = conv2d(x, out=4, kernel=3, pad=4611686018427387904)\n" + FrontEnd.tail)
            == ["t.eeir:3:32: error: attribute 'pad' of conv2d is out of range (4611686018427387904)"])
        #expect(FrontEnd.diagnostics(FrontEnd.prelude + "c = channel_pad(x, before=2147483648, after=2147483648)\n" + FrontEnd.tail)
            == ["t.eeir:3:5: error: output shape [1,4294967299,8,8] is too large (more than 2^31 elements)"])
        #expect(FrontEnd.diagnostics("model m\ninput x: f32[1,2147483648,2147483648,2147483648]\n" + FrontEnd.tail)
            == ["t.eeir:2:13: error: input shape [1,2147483648,2147483648,2147483648] is too large (more than 2^31 elements)"])
    }

    @Test func hundredThousandNodeChain() throws {
        var text = FrontEnd.prelude + "n0 = relu(x)\n"
        for i in 1..<100_000 { text += "n\(i) = relu(n\(i - 1))\n" }
        text += "p = global_avg_pool(n99999)\nf = flatten(p)\noutput f\n"
        let bytes = Array(text.utf8)
        var result: Result<(VerifiedGraph, [Diagnostic]), DiagnosticList>?
        let loadTime = FrontEnd.seconds { result = FrontEnd.load(bytes) }
        guard case .success(let (graph, warnings))? = result else {
            Issue.record("the chain does not load")
            return
        }
        #expect(warnings.isEmpty)
        #expect(graph.graph.nodes.count == 100_002)
        var printed = ""
        let restTime = FrontEnd.seconds {
            let report = CostReport(graph)
            #expect(report.total.eenets == 100_000 * 192 + 192)
            printed = Printer.print(graph.graph)
        }
        #expect(printed == text)
        // Measured at about 0.35 s (load) and 0.15 s (cost and print) in a debug build.
        #expect(loadTime < 5, "load took \(loadTime) s")
        #expect(restTime < 10, "cost and print took \(restTime) s")
        print("100,000-node chain: load \(String(format: "%.2f", loadTime)) s, cost and print \(String(format: "%.2f", restTime)) s")
    }

    @Test func hundredThousandLinesOfGarbage() {
        var text = ""
        for i in 0..<100_000 { text += "@@ garbage \(i) ((\n" }
        let bytes = Array(text.utf8)
        var rendered = ""
        let time = FrontEnd.seconds { rendered = FrontEnd.rendered(bytes) }
        #expect(rendered.hasPrefix("t.eeir:1:1: error: unexpected character '@'\n@@ garbage 0 ((\n^\n"))
        #expect(rendered.hasSuffix("error: too many errors emitted (100003 in all), stopping now\n"))
        #expect(rendered.components(separatedBy: ": error: ").count - 1 == 20)
        #expect(time < 5, "\(time) s")
        print("100,000 lines of garbage: \(String(format: "%.2f", time)) s")
    }

    @Test func hundredThousandUnknownNames() {
        // Every node reads an undefined name: past the cap, no "did you mean" search is done.
        var text = FrontEnd.prelude
        for i in 0..<100_000 { text += "n\(i) = relu(q\(i))\n" }
        text += FrontEnd.tail
        var rendered = ""
        let time = FrontEnd.seconds { rendered = FrontEnd.rendered(text) }
        #expect(rendered.hasSuffix("error: too many errors emitted (100000 in all), stopping now\n"))
        #expect(time < 5, "\(time) s")
    }

    @Test func oneHugeLine() {
        let line = String(repeating: "(", count: 1 << 20)
        let rendered = FrontEnd.rendered(FrontEnd.prelude + line + "\n" + FrontEnd.tail)
        #expect(rendered == "t.eeir:3:1: error: expected a statement, found '('\n" + String(repeating: "(", count: 200) + "...\n^\n")
    }

    @Test func wideConcat() {
        let inputs = Array(repeating: "x", count: 20_000).joined(separator: ", ")
        let text = FrontEnd.prelude + "c = concat(\(inputs))\np = global_avg_pool(c)\nf = flatten(p)\noutput f\n"
        guard case .success(let (graph, _)) = FrontEnd.load(text) else {
            Issue.record("a 20,000-input concat does not load")
            return
        }
        #expect(graph.shape("c") == [1, 60_000, 8, 8])
        #expect(Printer.print(graph.graph) == text)
    }
}
