import IR

/// What an imported node may be named after, kept until the whole graph is translated: a node
/// alone in its PyTorch module is named after the module (`layer1.0.conv1`), others after module
/// and op (`layer1.0.relu_1`).
struct NamingHint {
    /// The PyTorch module path (`layer1.0.conv1`), from the classic exporter's node name
    /// (`/layer1/layer1.0/conv1/Conv`) or the dynamo exporter's `pkg.torch.onnx.name_scopes`.
    var scope: String?
    /// The op part of that name (`Conv`, `Relu_1`, `relu_1`).
    var leaf: String
    /// `layer1.0.conv1` when the weight initializer is `layer1.0.conv1.weight`.
    var weightPrefix: String?
    /// The node name as written, or its op type when it has none.
    var fallback: String

    init(_ node: ONNXNode, weightInitializer: String? = nil) {
        fallback = node.name.isEmpty ? node.opType.lowercased() : node.name
        leaf = node.opType
        if node.name.hasPrefix("/") {
            // Classic exporter: scopes are module names, each either relative (`conv1`) or, for
            // children of containers, qualified (`layer1.0` under `layer1`).
            var parts = node.name.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            leaf = parts.popLast() ?? node.opType
            var path = ""
            for part in parts {
                path = path.isEmpty || part.hasPrefix(path + ".") ? part : path + "." + part
            }
            scope = path
        } else if let scopes = node.metadata["pkg.torch.onnx.name_scopes"].map(Self.pythonStrings), let last = scopes.last {
            // Dynamo exporter: qualified module paths, then the FX node name (`['', 'layer1', 'layer1.0', 'relu_1']`).
            // FX numbers nodes across the whole graph (relu_7); without the number the name depends only on
            // the module, and a second relu in it becomes relu_1 when names are made unique, as the classic
            // exporter numbers them (Relu, Relu_1): both exports of a network get the same names.
            leaf = Self.withoutCounter(last)
            scope = scopes.dropLast().last { !$0.isEmpty } ?? ""
        }
        if let weightInitializer, weightInitializer.hasSuffix(".weight"), !weightInitializer.contains(":") {
            weightPrefix = String(weightInitializer.dropLast(".weight".count))
        }
    }

    /// `relu_12` → `relu`; `conv2d` stays.
    static func withoutCounter(_ name: String) -> String {
        guard let underscore = name.lastIndex(of: "_"), underscore != name.startIndex,
              name[name.index(after: underscore)...].allSatisfy(\.isNumber), name.index(after: underscore) != name.endIndex
        else { return name }
        return String(name[..<underscore])
    }

    /// `['', 'layer1', 'relu_1']` → ["", "layer1", "relu_1"]; nil-free, tolerant of odd text.
    static func pythonStrings(_ text: String) -> [String] {
        let inner = text.trimming("[] ")
        return inner.split(separator: ",", omittingEmptySubsequences: false).map {
            String($0).trimming(" '\"")
        }
    }
}

extension String {
    fileprivate func trimming(_ set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let c = s.first, chars.contains(c) { s = s.dropFirst() }
        while let c = s.last, chars.contains(c) { s = s.dropLast() }
        return String(s)
    }
}

/// Final, valid and unique names for the translated nodes, deterministic in node order.
enum NodeNaming {
    static func names(for nodes: [NamingHint], inputName: String) -> [String] {
        var perScope: [String: Int] = [:]
        for hint in nodes { if let scope = hint.scope, !scope.isEmpty { perScope[scope, default: 0] += 1 } }
        var used: Set<String> = [inputName]
        var names: [String] = []
        for hint in nodes {
            var base: String
            if let prefix = hint.weightPrefix, let valid = sanitize(prefix) {
                base = valid
            } else if let scope = hint.scope, let valid = sanitize(scope) {
                base = perScope[scope] == 1 ? valid : valid + "." + (sanitize(hint.leaf.lowercased()) ?? "node")
            } else if let scope = hint.scope, scope.isEmpty, let leaf = sanitize(hint.leaf.lowercased()) {
                base = leaf
            } else {
                base = sanitize(hint.fallback) ?? "node"
            }
            base = String(base.prefix(1000))
            var name = base
            var k = 1
            while used.contains(name) {
                name = "\(base)_\(k)"
                k += 1
            }
            used.insert(name)
            names.append(name)
        }
        return names
    }

    /// A valid `.eeir` name (`[A-Za-z_][A-Za-z0-9_]*` then `.segment`s of `[A-Za-z0-9_]+`):
    /// other characters become `_`, empty segments are dropped, a leading digit gets a `_`.
    static func sanitize(_ text: String) -> String? {
        let segments = text.split(separator: ".", omittingEmptySubsequences: true).map { segment in
            String(String.UnicodeScalarView(segment.unicodeScalars.map { scalar in
                scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_") ? scalar : "_"
            }))
        }
        guard var first = segments.first else { return nil }
        if let c = first.unicodeScalars.first, ("0"..."9").contains(c) { first = "_" + first }
        return ([first] + segments.dropFirst()).joined(separator: ".")
    }
}
