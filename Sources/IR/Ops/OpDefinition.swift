/// Everything the compiler knows about one op, kept together: its attributes, shape rule,
/// parameters (and how to seed them), cost, reference semantics, and what the passes need to know
/// about it. Each op lives in its own file in this folder; docs/adding-an-op.md says how to add one.
/// Only the first five requirements have no default.
public protocol OpDefinition: Sendable {
    /// How the op is spelled in `.eeir`.
    static var name: String { get }
    /// Allowed number of inputs.
    static var arity: ClosedRange<Int> { get }
    /// Keyword attributes, in the order the printer writes them.
    static var attributes: [AttributeSpec] { get }

    /// The output shape, or an error saying which input or attribute is wrong.
    static func outputShape(inputs: [[Int]], attributes: Attributes) throws(OpError) -> [Int]
    /// The tensors the op reads from the weights file, as `<node>.<name>`.
    static func parameters(inputs: [[Int]], attributes: Attributes) -> [ParameterSpec]
    /// Work done for one sample, in both conventions.
    static func cost(inputs: [[Int]], output: [Int], attributes: Attributes) -> Cost
    /// Reference semantics: plain loops, float32 storage, float64 accumulation.
    /// `parameters` come in the order of `parameters(inputs:attributes:)`.
    static func evaluate(inputs: [Tensor], parameters: [Tensor], attributes: Attributes,
                         outputShape: [Int]) -> Tensor

    /// A ReLU that is the only reader of this op's output may be fused into it, by setting its
    /// `relu` attribute (FuseReLU). Default: true exactly when the op has a `relu` bool attribute.
    static var acceptsFusedReLU: Bool { get }
    /// True when this op, as the only reader of a `producer` node, belongs to that node's layer
    /// (a BatchNorm after a conv, a ReLU after a conv, BatchNorm, add or linear): no exit is
    /// attached between the two, as the reference code never cuts there and the fusion passes may
    /// merge them. Default: false.
    static func continuesLayer(after producer: OpKind) -> Bool
    /// An exit may be attached after this op (ExitCandidates). Default: true; false where an exit
    /// would only repeat the final classifier (after the global pool).
    static var exitMayFollow: Bool { get }
}

extension OpDefinition {
    public static var attributes: [AttributeSpec] { [] }
    public static func parameters(inputs: [[Int]], attributes: Attributes) -> [ParameterSpec] { [] }
    public static var acceptsFusedReLU: Bool {
        attributes.contains { $0.name == "relu" && $0.kind == .bool }
    }
    public static func continuesLayer(after producer: OpKind) -> Bool { false }
    public static var exitMayFollow: Bool { true }
}

/// One keyword attribute of an op.
public struct AttributeSpec: Sendable {
    public enum Kind: Sendable {
        case int, pair, float, bool
    }

    /// What happens when the attribute is not written.
    public enum Default: Sendable {
        /// It must be written.
        case required
        /// This value is used, and the printer leaves the attribute out when it has it.
        case value(AttributeValue)
        /// The op computes it from the other attributes (pooling stride = kernel).
        case derived
    }

    public var name: String
    public var kind: Kind
    public var defaultValue: Default
    /// Smallest allowed value of an integer (every element, for a pair).
    public var minimum: Int?

    public init(_ name: String, _ kind: Kind, _ defaultValue: Default = .required, minimum: Int? = nil) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.minimum = minimum
    }
}

/// A weight tensor an op needs.
public struct ParameterSpec: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    /// Trained (counted in `params`), as opposed to BatchNorm's running statistics.
    public var learnable: Bool
    /// How `WeightBinder.seeded` fills it when there is no weights file.
    public var seeded: SeededInit

    public init(_ name: String, _ shape: [Int], learnable: Bool = true, seeded: SeededInit = .fanIn) {
        self.name = name
        self.shape = shape
        self.learnable = learnable
        self.seeded = seeded
    }
}

/// The distribution a seeded parameter is drawn from (uniform, deterministic per tensor name).
public enum SeededInit: Equatable, Sendable {
    /// ±√(6 / fan_in), fan_in = elements per slice of the first axis (per output channel):
    /// Kaiming-uniform, for conv weights.
    case kaiming
    /// ±1 / √fan_in, fan_in of the op's first parameter (its weight): PyTorch's default for
    /// linear layers and for biases.
    case fanIn
    /// [low, high), for statistics kept away from the identity (BatchNorm).
    case uniform(Float, Float)
}

/// Work per sample. `macs` counts multiply-accumulates of conv (+ bias adds) and linear layers;
/// `eenets` is the ptflops-style count of the EENets/PTEEnet code: `macs` plus 2 per BatchNorm
/// element, 1 per ReLU element and 1 per pooled input element.
public struct Cost: Equatable, Sendable {
    public var macs: Int
    public var eenets: Int

    public init(macs: Int = 0, eenets: Int = 0) {
        self.macs = macs
        self.eenets = eenets
    }

    public static let zero = Cost()

    public static func + (a: Cost, b: Cost) -> Cost {
        Cost(macs: a.macs.saturatingAdd(b.macs), eenets: a.eenets.saturatingAdd(b.eenets))
    }

    public static func += (a: inout Cost, b: Cost) { a = a + b }
}

/// Why an op cannot be applied, and where to point the caret.
public struct OpError: Error, Equatable, Sendable {
    public enum Place: Equatable, Sendable {
        case op
        case input(Int)
        case attribute(String)
    }

    public var message: String
    public var place: Place

    public init(_ message: String, at place: Place = .op) {
        self.message = message
        self.place = place
    }
}

extension Int {
    /// Costs and sizes saturate instead of trapping: the verifier rejects huge tensors, but a sum
    /// over 100,000 nodes of big ones must still not crash.
    public func saturatingAdd(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? Int.max : Int.min) : sum
    }

    public func saturatingMul(_ other: Int) -> Int {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) != (other < 0) ? Int.min : Int.max) : product
    }
}

/// Number of elements of a shape (saturating).
public func elementCount(_ shape: [Int]) -> Int {
    shape.reduce(1) { $0.saturatingMul($1) }
}
