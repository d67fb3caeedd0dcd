import IR

/// How a network's exits were made: recorded by `eec train` in the safetensors `__metadata__`
/// (keys `eec.*`), so `calibrate`, `run` and `compile` rebuild the same exits without being told.
public struct ExitConfiguration: Equatable, Sendable {
    public var branches: Int
    public var distribution: Distribution
    public var block: ExitBlock
    public var convention: CostReport.Convention
    /// `--exit-after`: nil when every cut point is a candidate.
    public var candidateOps: Set<OpKind>?

    public init(branches: Int, distribution: Distribution = .fine, block: ExitBlock = .conv(2),
                convention: CostReport.Convention = .eenets, candidateOps: Set<OpKind>? = nil) {
        self.branches = branches
        self.distribution = distribution
        self.block = block
        self.convention = convention
        self.candidateOps = candidateOps
    }

    public var pass: InsertExits {
        InsertExits(branches: branches, distribution: distribution, block: block, convention: convention,
                    candidateOps: candidateOps)
    }

    /// The `__metadata__` entries.
    public var metadata: [String: String] {
        var out = [
            "eec.branches": String(branches), "eec.distribution": distribution.rawValue,
            "eec.exit_block": block.description, "eec.cost": convention.rawValue,
        ]
        if let candidateOps { out["eec.exit_after"] = candidateOps.map(\.name).sorted().joined(separator: ",") }
        return out
    }

    /// Reads the configuration back; nil when the file has none (a plain backbone).
    public init?(metadata: [String: String]) throws(ConfigurationError) {
        guard let branchText = metadata["eec.branches"] else { return nil }
        guard let branches = Int(branchText), branches >= 0 else { throw ConfigurationError("eec.branches", branchText) }
        let distributionText = metadata["eec.distribution"] ?? "fine"
        guard let distribution = Distribution(rawValue: distributionText) else { throw ConfigurationError("eec.distribution", distributionText) }
        let blockText = metadata["eec.exit_block"] ?? "conv2"
        guard let block = ExitBlock(blockText) else { throw ConfigurationError("eec.exit_block", blockText) }
        let costText = metadata["eec.cost"] ?? "eenets"
        guard let convention = CostReport.Convention(rawValue: costText) else { throw ConfigurationError("eec.cost", costText) }
        var ops: Set<OpKind>?
        if let text = metadata["eec.exit_after"] {
            var set = Set<OpKind>()
            for part in text.split(separator: ",") {
                guard let op = OpKind(rawValue: String(part)) else { throw ConfigurationError("eec.exit_after", text) }
                set.insert(op)
            }
            ops = set
        }
        self.init(branches: branches, distribution: distribution, block: block, convention: convention, candidateOps: ops)
    }

    /// Each setting the command line gave that differs from the recorded one.
    public func conflicts(with other: ExitConfiguration, given: Set<String>) -> [String] {
        var out: [String] = []
        if given.contains("--branches"), other.branches != branches { out.append("--branches \(other.branches) (trained with \(branches))") }
        if given.contains("--distribution"), other.distribution != distribution {
            out.append("--distribution \(other.distribution.rawValue) (trained with \(distribution.rawValue))")
        }
        if given.contains("--exit-block"), other.block != block { out.append("--exit-block \(other.block) (trained with \(block))") }
        if given.contains("--cost"), other.convention != convention { out.append("--cost \(other.convention.rawValue) (trained with \(convention.rawValue))") }
        if given.contains("--exit-after"), other.candidateOps != candidateOps { out.append("--exit-after (trained with \(metadata["eec.exit_after"] ?? "every cut point"))") }
        return out
    }
}

/// A recorded exit configuration that cannot be read.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var key: String
    public var value: String

    init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }

    public var description: String { "invalid metadata \(key)='\(value)'" }
}
