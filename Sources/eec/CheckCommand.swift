import IR

let checkCommand = Command(
    name: "check", summary: "parse and verify a .eeir file",
    details: """
        Prints nothing and exits 0 when FILE is valid (names, ops, attributes and shapes); otherwise
        prints every error as file:line:col with the line and a caret, and exits 1.
        """
) { args, console in
    _ = try loadGraph(args.file, &console)
    return ExitStatus.ok
}

enum FmtOptions {
    static let annotate = Option<Bool>.flag("--annotate", help: "end each node's line with its output shape, MACs and parameter count")
    static let out = Option<String?>.path("-o", "OUT", help: "write to OUT instead of standard output")
}

let fmtCommand = Command(
    name: "fmt", summary: "print a .eeir file in canonical form",
    options: [FmtOptions.annotate, FmtOptions.out],
    details: """
        The same graph always prints the same way, and the printed text parses back to itself
        (docs/IR.md).
        """
) { args, console in
    let graph = try loadGraph(args.file, &console)
    var annotate: Printer.Annotation?
    if args[FmtOptions.annotate] {
        annotate = { node in
            let cost = graph.cost(node)
            let params = graph.parameters(node).filter(\.learnable).reduce(0) { $0 + elementCount($1.shape) }
            var note = "f32\(Tensor.describe(graph.shape(node.name)))"
            if cost.macs > 0 { note += " macs=\(cost.macs)" }
            if params > 0 { note += " params=\(params)" }
            return note
        }
    }
    let text = Printer.print(graph.graph, annotate: annotate)
    if let out = args[FmtOptions.out] {
        try writeFile(out, text)
    } else {
        console.write(text)
    }
    return ExitStatus.ok
}
