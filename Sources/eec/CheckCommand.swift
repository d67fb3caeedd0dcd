import IR

let checkCommand = Command(
    name: "check",
    help: """
        usage: eec check FILE

        Parses and verifies FILE: names, ops, attributes and shapes. Prints nothing and exits 0
        when FILE is valid; otherwise prints every error as file:line:col and exits 1.
        """
) { args, console in
    _ = try loadGraph(try args.file(), &console)
    return ExitStatus.ok
}

let fmtCommand = Command(
    name: "fmt",
    help: """
        usage: eec fmt FILE [--annotate] [-o OUT]

        Prints FILE in canonical form (docs/IR.md): the same graph always prints the same way,
        and the printed text parses back to itself.

          --annotate   end each node's line with its output shape, MACs and parameter count
          -o OUT       write to OUT instead of standard output
        """,
    valued: ["-o"],
    switches: ["--annotate"]
) { args, console in
    let graph = try loadGraph(try args.file(), &console)
    var annotate: Printer.Annotation?
    if args.flags.contains("--annotate") {
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
    if let out = args.options["-o"] {
        try writeFile(out, text)
    } else {
        console.write(text)
    }
    return ExitStatus.ok
}
