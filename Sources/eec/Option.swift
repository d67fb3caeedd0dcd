import Foundation

/// One command-line option, declared once: its name and aliases, the kind of value it takes
/// (and so how it is checked), its default and help. Parsing (`ParsedArguments`), the usage
/// line, `--help`, `eec help` and every usage error are generated from these declarations.
struct OptionSpec: Sendable {
    /// `--epochs`, or a short name such as `-o`.
    var name: String
    /// Other spellings accepted for the same option (`--input` for `--data`); documented in `--help`.
    var aliases: [String] = []
    /// What the value is called in usage and help (`N`, `X.npy`); nil for a switch.
    var placeholder: String?
    /// What a value must be, for errors: "a whole number from 1 to 100000".
    var expected: String
    /// The default, as help shows it; nil when there is none (or it depends on other options,
    /// which the help then says).
    var defaultText: String?
    var help: String
    /// Must be given (usage lines list it outside the brackets).
    var required = false
    /// Does its job alone (`--list-passes`): the positionals and required options are then not needed.
    var standalone = false
    /// Checks and converts a value; nil when it is not one.
    var convert: @Sendable (String) -> (any Sendable)?

    var isSwitch: Bool { placeholder == nil }
    var spellings: [String] { [name] + aliases }
    /// `--epochs N`, `--json`.
    var synopsis: String { placeholder.map { "\(name) \($0)" } ?? name }
}

/// A typed handle on a declared option: `parsed[TrainOptions.epochs]` is an `Int`. `Value` is
/// optional for options without a default (`parsed[RunOptions.labels]` is a `String?`).
struct Option<Value: Sendable>: Sendable {
    var spec: OptionSpec
    /// The value when the option is not given.
    var fallback: Value

    var name: String { spec.name }

    /// The same option with other help text (a shared option described for one command).
    func help(_ text: String) -> Option {
        var copy = self
        copy.spec.help = text
        return copy
    }

    /// The same option with other help text and another default shown (the command supplies
    /// that default itself).
    func help(_ text: String, defaultText: String?) -> Option {
        var copy = help(text)
        copy.spec.defaultText = defaultText
        return copy
    }

    /// The same option, doing its job alone: given, the command needs no FILE.
    func standalone() -> Option {
        var copy = self
        copy.spec.standalone = true
        return copy
    }

    /// The same option under extra spellings.
    func aliases(_ names: String...) -> Option {
        var copy = self
        copy.spec.aliases += names
        return copy
    }
}

extension Option {
    /// An option whose value is converted by `convert`, with the default `fallback`.
    init(_ name: String, _ placeholder: String?, expected: String, default fallback: Value, defaultText: String?,
         help: String, convert: @escaping @Sendable (String) -> Value?) {
        spec = OptionSpec(name: name, placeholder: placeholder, expected: expected, defaultText: defaultText, help: help,
                          convert: { text in
                              // For an optional Value, a failed conversion arrives as .some(nil): not a value either.
                              guard let value = convert(text), !((value as? any OptionalValue)?.isNone ?? false) else { return nil }
                              return value as any Sendable
                          })
        self.fallback = fallback
    }

    /// This option, required: always present once parsed, so read without a default
    /// (`unused` stands in for the value the parser never lets through).
    func required<Wrapped: Sendable>(unused: Wrapped) -> Option<Wrapped> where Value == Wrapped? {
        var spec = self.spec
        spec.required = true
        let convert = spec.convert
        // The stored value is an Optional in an existential; the cast looks through it.
        spec.convert = { text in convert(text).flatMap { $0 as? Wrapped }.map { $0 as any Sendable } }
        return Option<Wrapped>(spec: spec, fallback: unused)
    }
}

// MARK: - Value kinds

extension Option where Value == Bool {
    /// A switch: no value; true when given.
    static func flag(_ name: String, help: String) -> Option<Bool> {
        Option(name, nil, expected: "no value", default: false, defaultText: nil, help: help) { _ in true }
    }
}

extension Option where Value == Int {
    static func int(_ name: String, _ placeholder: String = "N", in range: ClosedRange<Int>, default fallback: Int, help: String) -> Option<Int> {
        Option(name, placeholder, expected: wholeNumber(range), default: fallback, defaultText: String(fallback), help: help) { wholeNumber($0, range) }
    }
}

extension Option where Value == Int? {
    /// A whole number without a default (the help says what happens without it).
    static func int(_ name: String, _ placeholder: String = "N", in range: ClosedRange<Int>, help: String) -> Option<Int?> {
        Option(name, placeholder, expected: wholeNumber(range), default: nil, defaultText: nil, help: help) { wholeNumber($0, range) }
    }
}

extension Option where Value == UInt64 {
    static func uint64(_ name: String, _ placeholder: String = "N", default fallback: UInt64, help: String) -> Option<UInt64> {
        Option(name, placeholder, expected: "a non-negative integer", default: fallback, defaultText: String(fallback), help: help) { UInt64($0) }
    }
}

extension Option where Value == Double {
    static func number(_ name: String, _ placeholder: String, in range: ClosedRange<Double>, default fallback: Double, help: String) -> Option<Double> {
        Option(name, placeholder, expected: realNumber(range), default: fallback, defaultText: String(format: "%g", fallback), help: help) { realNumber($0, range) }
    }
}

extension Option where Value == Double? {
    static func number(_ name: String, _ placeholder: String, in range: ClosedRange<Double>, help: String) -> Option<Double?> {
        Option(name, placeholder, expected: realNumber(range), default: nil, defaultText: nil, help: help) { realNumber($0, range) }
    }
}

extension Option where Value == String? {
    /// A file or folder to read or write.
    static func path(_ name: String, _ placeholder: String, help: String) -> Option<String?> {
        Option(name, placeholder, expected: "a path", default: nil, defaultText: nil, help: help) { $0.isEmpty ? nil : $0 }
    }
}

extension Option where Value == [String]? {
    /// Names separated by commas, none empty.
    static func names(_ name: String, _ placeholder: String, help: String) -> Option<[String]?> {
        Option(name, placeholder, expected: "names separated by commas", default: nil, defaultText: nil, help: help) { text in
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            return parts.contains(where: \.isEmpty) ? nil : parts
        }
    }
}

extension Option where Value == [Float]? {
    /// Finite numbers separated by commas (`0.485,0.456,0.406`).
    static func numbers(_ name: String, _ placeholder: String, help: String) -> Option<[Float]?> {
        Option(name, placeholder, expected: "comma-separated numbers", default: nil, defaultText: nil, help: help) { text in
            var values: [Float] = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let v = Float(part.trimmingCharacters(in: .whitespaces)), v.isFinite else { return nil }
                values.append(v)
            }
            return values
        }
    }
}

extension Option where Value == SampleRange? {
    /// `A:B`, either end may be left out.
    static func range(_ name: String, help: String) -> Option<SampleRange?> {
        Option(name, "A:B", expected: "A:B with 0 <= A < B", default: nil, defaultText: nil, help: help) { SampleRange($0) }
    }
}

/// One of a fixed set of names.
extension Option {
    static func choice(_ name: String, _ placeholder: String? = nil, _ cases: [(String, Value)], default fallback: Value,
                       defaultName: String?, help: String) -> Option {
        let names = cases.map(\.0)
        let table = cases
        return Option(name, placeholder ?? names.joined(separator: "|"), expected: "one of \(names.joined(separator: ", "))",
                      default: fallback, defaultText: defaultName, help: help) { text in table.first { $0.0 == text }?.1 }
    }

}

extension Option where Value: RawRepresentable & CaseIterable, Value.RawValue == String {
    /// One of an enumeration's cases, by raw value.
    static func choice(_ name: String, _ placeholder: String? = nil, default fallback: Value, help: String) -> Option {
        choice(name, placeholder, Value.allCases.map { ($0.rawValue, $0) }, default: fallback, defaultName: fallback.rawValue, help: help)
    }
}

/// Lets a generic conversion tell a `nil` inside an optional `Value` from a value.
private protocol OptionalValue {
    var isNone: Bool { get }
}

extension Optional: OptionalValue {
    var isNone: Bool { self == nil }
}

/// `--samples A:B`: samples A..<B of a data file; B defaults to the end, A to 0.
struct SampleRange: Sendable, Equatable {
    var lower: Int
    var upper: Int?

    init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = parts[0].isEmpty ? 0 : Int(parts[0]), a >= 0 else { return nil }
        if parts[1].isEmpty {
            upper = nil
        } else {
            guard let b = Int(parts[1]), b > a else { return nil }
            upper = b
        }
        lower = a
    }

    /// The range within a file of `count` samples (empty when A is past the end).
    func clamped(count: Int) -> Range<Int> {
        let high = min(upper ?? count, count)
        return min(lower, high)..<high
    }
}

private func wholeNumber(_ range: ClosedRange<Int>) -> String { "a whole number from \(range.lowerBound) to \(range.upperBound)" }

private func wholeNumber(_ text: String, _ range: ClosedRange<Int>) -> Int? {
    guard let value = Int(text), range.contains(value) else { return nil }
    return value
}

private func realNumber(_ range: ClosedRange<Double>) -> String { "a number from \(String(format: "%g", range.lowerBound)) to \(String(format: "%g", range.upperBound))" }

private func realNumber(_ text: String, _ range: ClosedRange<Double>) -> Double? {
    guard let value = Double(text), range.contains(value) else { return nil }
    return value
}
