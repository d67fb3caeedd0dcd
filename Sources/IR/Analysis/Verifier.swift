/// Checks a parsed graph: names defined once and before use, ops applied to the right number of
/// inputs, attributes known and well typed, shapes compatible, exits and output well formed.
/// Every problem is reported (up to the diagnostic cap) with the location of the token at fault.
public enum Verifier {
    /// Checks `graph`, adding to `diagnostics`. Returns the shape of every value it could infer.
    public static func verify(_ graph: Graph, poisoned: Set<String> = [],
                              diagnostics: inout DiagnosticList) -> [String: [Int]] {
        var checker = Checker(graph: graph, poisoned: poisoned)
        checker.run(&diagnostics)
        diagnostics.sortByLocation()
        return checker.shapes
    }
}

private struct Checker {
    let graph: Graph
    var poisoned: Set<String>
    var shapes: [String: [Int]] = [:]
    var definedAt: [String: SourceLocation?] = [:]
    let laterNames: [String: Int]
    let unknownLocation = SourceLocation(line: 1, column: 1)

    init(graph: Graph, poisoned: Set<String>) {
        self.graph = graph
        self.poisoned = poisoned
        self.laterNames = graph.nodeIndex()
    }

    mutating func run(_ d: inout DiagnosticList) {
        if !graph.input.name.isEmpty {
            shapes[graph.input.name] = graph.input.shape
            definedAt[graph.input.name] = graph.input.location
        }
        // Past the cap, errors are still counted (for the "N in all" line) but not described.
        for (index, node) in graph.nodes.enumerated() {
            check(node, index: index, &d)
        }
        checkExits(&d)
        checkOutput(&d)
        checkSegments(&d)
    }

    /// Segments must chain from the graph input to the graph output, and each must be a real
    /// cut: its backbone nodes read nothing from before the segment but its input.
    mutating func checkSegments(_ d: inout DiagnosticList) {
        guard !graph.segments.isEmpty, !d.hasErrors else { return }
        let index = laterNames
        var expectedInput = graph.input.name
        var previousEnd = -1
        let backbone = graph.backbone(index: index)
        for segment in graph.segments {
            let at = segment.location ?? unknownLocation
            guard segment.input == expectedInput else {
                d.error("segment '\(segment.name)' reads '\(segment.input)', expected '\(expectedInput)' (the previous segment's output)", at: at)
                return
            }
            guard let end = index[segment.output], end > previousEnd, backbone[end] else {
                d.error("segment '\(segment.name)' output '\(segment.output)' is not a backbone node after '\(segment.input)'", at: at)
                return
            }
            for i in (previousEnd + 1)...end where backbone[i] {
                for input in graph.nodes[i].inputs where input != segment.input {
                    if let j = index[input], j > previousEnd, j <= end { continue }
                    d.error("segment '\(segment.name)' is not a cut: '\(graph.nodes[i].name)' reads '\(input)' from outside it", at: at)
                    return
                }
            }
            expectedInput = segment.output
            previousEnd = end
        }
        if expectedInput != graph.output.name {
            d.error("the last segment must end at the output '\(graph.output.name)', not '\(expectedInput)'", at: graph.segments.last?.location ?? unknownLocation)
        }
    }

    /// Resolves a use of `name`; reports it when undefined. Returns nil when no shape is known.
    mutating func resolve(_ name: String, at location: SourceLocation?, usedBy index: Int?, _ d: inout DiagnosticList) -> [Int]? {
        if let shape = shapes[name] { return shape }
        if poisoned.contains(name) || definedAt[name] != nil { return nil }
        let at = location ?? unknownLocation
        if let index, laterNames[name] == index {
            d.error("'\(name.prefix(80))' is used in its own definition", at: at)
        } else if let later = laterNames[name], later >= (index ?? 0) {
            d.error("'\(name)' is used before its definition", at: at)
            if let where_ = graph.nodes[later].locations?.name { d.note("'\(name)' is defined here", at: where_) }
        } else {
            var message = "unknown name '\(name.prefix(80))'"
            if !d.isFull, let guess = Spelling.closest(to: name, in: definedAt.keys) { message += "; did you mean '\(guess)'?" }
            d.error(message, at: at)
        }
        return nil
    }

    mutating func check(_ node: Node, index: Int, _ d: inout DiagnosticList) {
        let loc = node.locations
        let nameLocation = loc?.name ?? unknownLocation
        if let previous = definedAt[node.name] {
            d.error("redefinition of '\(node.name.prefix(80))'", at: nameLocation)
            if let previous { d.note("previous definition of '\(node.name.prefix(80))' is here", at: previous) }
            return
        }

        var inputShapes: [[Int]] = []
        var complete = true
        for (i, input) in node.inputs.enumerated() {
            if let shape = resolve(input, at: loc?.inputs[i], usedBy: index, &d) {
                inputShapes.append(shape)
            } else {
                complete = false
            }
        }
        // Defined only now, so that a node reading itself is an error (not a silent cycle) and is
        // never offered as a "did you mean" for its own inputs.
        definedAt[node.name] = loc?.name
        let def = node.op.definition
        if !def.arity.contains(node.inputs.count) {
            let expected = def.arity.lowerBound == def.arity.upperBound
                ? "\(def.arity.lowerBound) input\(def.arity.lowerBound == 1 ? "" : "s")"
                : "at least \(def.arity.lowerBound) input\(def.arity.lowerBound == 1 ? "" : "s")"
            d.error("\(def.name) expects \(expected), found \(node.inputs.count)", at: loc?.op ?? nameLocation)
            complete = false
        }
        if !checkAttributes(node, def, &d) { complete = false }
        guard complete else {
            poisoned.insert(node.name)
            return
        }
        do throws(OpError) {
            let shape = try def.outputShape(inputs: inputShapes, attributes: node.attributes)
            try checkSize(shape, what: "output")
            for p in def.parameters(inputs: inputShapes, attributes: node.attributes) {
                try checkSize(p.shape, what: "parameter '\(p.name)'")
            }
            shapes[node.name] = shape
        } catch {
            let at: SourceLocation?
            switch error.place {
            case .op: at = loc?.op
            case .input(let i): at = loc.flatMap { i < $0.inputs.count ? $0.inputs[i] : $0.op }
            case .attribute(let name): at = loc?.attributes[name] ?? loc?.closingParen
            }
            d.error(error.message, at: at ?? nameLocation)
            poisoned.insert(node.name)
        }
    }

    func checkSize(_ shape: [Int], what: String) throws(OpError) {
        guard shape.allSatisfy({ $0 >= 1 }) else {
            throw OpError("\(what) shape \(Tensor.describe(shape)) has an empty dimension")
        }
        guard elementCount(shape) <= ShapeRules.maxElements else {
            throw OpError("\(what) shape \(Tensor.describe(shape)) is too large (more than 2^31 elements)")
        }
    }

    /// Unknown, ill-typed, out-of-range and missing attributes. Returns false if any is wrong.
    func checkAttributes(_ node: Node, _ def: any OpDefinition.Type, _ d: inout DiagnosticList) -> Bool {
        var ok = true
        let specs = def.attributes
        let loc = node.locations
        for key in node.attributes.values.keys.sorted(by: { (loc?.attributes[$0] ?? unknownLocation) < (loc?.attributes[$1] ?? unknownLocation) }) {
            let at = loc?.attributes[key] ?? loc?.op ?? unknownLocation
            guard let spec = specs.first(where: { $0.name == key }) else {
                var message = "unknown attribute '\(key.prefix(60))' of \(def.name)"
                if specs.isEmpty {
                    message += " (it takes none)"
                } else if let guess = Spelling.closest(to: key, in: specs.map(\.name)) {
                    message += "; did you mean '\(guess)'?"
                }
                d.error(message, at: at)
                ok = false
                continue
            }
            if let value = node.attributes[key], let problem = Self.typeProblem(value, spec) {
                d.error("attribute '\(key)' of \(def.name) \(problem)", at: at)
                ok = false
            }
        }
        for spec in specs {
            if case .required = spec.defaultValue, node.attributes[spec.name] == nil {
                d.error("\(def.name) needs attribute '\(spec.name)'", at: loc?.closingParen ?? loc?.op ?? unknownLocation)
                ok = false
            }
        }
        return ok
    }

    static func typeProblem(_ value: AttributeValue, _ spec: AttributeSpec) -> String? {
        let limit = 1 << 31
        func range(_ v: Int) -> String? {
            if let minimum = spec.minimum, v < minimum { return "must be at least \(minimum), found \(v)" }
            if v > limit { return "is out of range (\(v))" }
            return nil
        }
        switch (spec.kind, value) {
        case (.int, .int(let v)): return range(v)
        case (.pair, .int(let v)): return range(v)
        case (.pair, .ints(let v)):
            guard v.count == 2 else { return "expects one integer or [h, w], found a list of \(v.count)" }
            return range(v[0]) ?? range(v[1])
        case (.float, .float(let v)): return v.isFinite ? nil : "must be finite"
        case (.float, .int): return nil
        case (.bool, .bool): return nil
        case (.int, _): return "expects an integer, found \(value.kindName)"
        case (.pair, _): return "expects an integer or [h, w], found \(value.kindName)"
        case (.float, _): return "expects a number, found \(value.kindName)"
        case (.bool, _): return "expects true or false, found \(value.kindName)"
        }
    }

    mutating func checkExits(_ d: inout DiagnosticList) {
        var seen: [String: SourceLocation?] = [:]
        for exit in graph.exits {
            let at = exit.location ?? unknownLocation
            if let previous = seen[exit.name] ?? definedAt[exit.name] {
                d.error("redefinition of '\(exit.name.prefix(80))'", at: at)
                if let previous { d.note("previous definition of '\(exit.name.prefix(80))' is here", at: previous) }
            }
            seen[exit.name] = exit.location
            let n = graph.nodes.count
            let classifierAt = exit.operandLocations?.first ?? at
            let confidenceAt = exit.operandLocations?.last ?? at
            if let shape = resolve(exit.classifier, at: classifierAt, usedBy: n, &d), shape.count != 2 {
                d.error("exit classifier '\(exit.classifier)' must be [1, classes], found \(Tensor.describe(shape))", at: classifierAt)
            }
            if let shape = resolve(exit.confidence, at: confidenceAt, usedBy: n, &d), shape != [1, 1] {
                d.error("exit confidence '\(exit.confidence)' must be one logit [1,1], found \(Tensor.describe(shape))", at: confidenceAt)
            }
        }
    }

    mutating func checkOutput(_ d: inout DiagnosticList) {
        guard !graph.output.name.isEmpty else { return }
        let at = graph.output.location ?? unknownLocation
        guard let shape = resolve(graph.output.name, at: at, usedBy: graph.nodes.count, &d) else { return }
        guard shape.count == 2 else {
            d.error("output '\(graph.output.name)' must be class logits [1, classes], found \(Tensor.describe(shape))", at: at)
            return
        }
        for exit in graph.exits {
            if let c = shapes[exit.classifier], c.count == 2, c != shape {
                d.error("exit '\(exit.name)' gives \(Tensor.describe(c)) logits but the output has \(Tensor.describe(shape))", at: exit.operandLocations?.first ?? exit.location ?? at)
            }
        }
    }
}
