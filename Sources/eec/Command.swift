/// The commands of `eec`, declared as data. Everything a user sees of the command line (parsing,
/// the usage line, `eec CMD --help`, `eec help`, the README's command table checked by
/// CLIDeclarationTests, and every usage error) is generated from these declarations, so help
/// cannot drift from what is accepted.
///
/// Adding a command `eec foo`:
/// 1. In `FooCommand.swift`, declare its options once, as typed handles
///    (`enum FooOptions { static let out = Option<String?>.path("-o", "OUT", help: "...") }`; the kinds are in
///    Option.swift, shared ones such as `ExitOptions` and `DataOptions` in SharedOptions.swift),
///    then `let fooCommand = Command(name: "foo", summary: ..., positionals: .one("FILE"),
///    options: [FooOptions.out, ...], rules: [...]) { args, console in ... }` reading
///    `args[FooOptions.out]` (typed: `String?` here) and `args.file`.
/// 2. Cross-option rules (`.conflict`, `.together`, `.requires`, `.check { ... }`) go in `rules`:
///    they and every value check run before `run`, so a bad command line is exit status 2
///    before any file is read. Throw `UsageError` only for what depends on a file's content.
/// 3. Append it to `Driver.commands`, and add its row to the README's command table
///    (`eec help --markdown` prints every row); `swift test --filter CLIDeclarationTests` checks both.
struct Command: Sendable {
    var name: String
    /// One line, for `eec help` and the README.
    var summary: String
    var positionals: Positionals
    var options: [OptionSpec]
    var rules: [Rule]
    /// The paragraphs `--help` prints between the usage line and the options.
    var details: String
    var run: @Sendable (ParsedArguments, inout Console) throws -> Int32

    init(name: String, summary: String, positionals: Positionals = .one("FILE"), options: [any DeclaredOption] = [],
         rules: [Rule] = [], details: String = "", run: @escaping @Sendable (ParsedArguments, inout Console) throws -> Int32) {
        self.name = name
        self.summary = summary
        self.positionals = positionals
        self.options = options.map(\.spec)
        self.rules = rules
        self.details = details
        self.run = run
    }

    /// `eec train FILE --weights W --data X.npy -o OUT`: the positionals and the required options.
    var synopsis: String {
        (["eec", name, positionals.synopsis] + options.filter(\.required).map(\.synopsis)).filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// `usage: eec train FILE --weights W --data X.npy -o OUT [options]`.
    var usage: String { "usage: \(synopsis)\(options.contains { !$0.required } ? " [options]" : "")" }
}

/// The positional arguments a command takes.
enum Positionals: Sendable {
    case none
    /// Exactly one (`FILE`).
    case one(String)
    /// At least one (`FILE...`).
    case oneOrMore(String)
    /// Any number, none meaning a default (`[FILE...]`).
    case any(String)
    /// At most one (`[COMMAND]`).
    case optional(String)

    var synopsis: String {
        switch self {
        case .none: return ""
        case .one(let name): return name
        case .oneOrMore(let name): return "\(name)..."
        case .any(let name): return "[\(name)...]"
        case .optional(let name): return "[\(name)]"
        }
    }

    func check(_ values: [String]) throws(UsageError) {
        switch self {
        case .none:
            if let first = values.first { throw UsageError(message: "unexpected argument '\(first)'") }
        case .one(let name):
            guard values.count == 1 else {
                throw UsageError(message: values.isEmpty ? "missing \(name) argument" : "expected one \(name), found \(values.count) arguments")
            }
        case .oneOrMore(let name):
            if values.isEmpty { throw UsageError(message: "missing \(name) argument") }
        case .any:
            break
        case .optional(let name):
            if values.count > 1 { throw UsageError(message: "expected at most one \(name), found \(values.count) arguments") }
        }
    }
}

/// A rule between options, checked with the values before the command runs.
struct Rule: Sendable {
    var check: @Sendable (ParsedArguments) throws(UsageError) -> Void

    /// Options that must not be given together.
    static func conflict<A, B>(_ a: Option<A>, _ b: Option<B>, _ message: String? = nil) -> Rule {
        Rule { args throws(UsageError) in
            if args.has(a) && args.has(b) { throw UsageError(message: message ?? "\(a.name) and \(b.name) cannot go together; give one") }
        }
    }

    /// Options given both or neither.
    static func together<A, B>(_ a: Option<A>, _ b: Option<B>) -> Rule {
        Rule { args throws(UsageError) in
            if args.has(a) != args.has(b) { throw UsageError(message: "\(a.name) and \(b.name) go together") }
        }
    }

    /// `a` only means something with `b`.
    static func requires(_ a: any DeclaredOption, _ b: any DeclaredOption, _ why: String) -> Rule {
        Rule { args throws(UsageError) in
            if args.has(a) && !args.has(b) { throw UsageError(message: "\(a.spec.name) needs \(b.spec.synopsis): \(why)") }
        }
    }

    /// A rule that looks at values (`--emit c` needs `-o`).
    static func check(_ body: @escaping @Sendable (ParsedArguments) throws(UsageError) -> Void) -> Rule { Rule(check: body) }
}

/// Bad usage: printed with the command's usage line, exit status 2.
struct UsageError: Error {
    var message: String
}

/// An option as a command lists it, whatever its value type.
protocol DeclaredOption: Sendable {
    var spec: OptionSpec { get }
}

extension Option: DeclaredOption {}
