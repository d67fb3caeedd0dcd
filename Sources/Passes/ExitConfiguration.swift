import IR

/// How a network's exits were made: recorded by `eec train` (and `eec calibrate -o`) in the
/// safetensors `__metadata__` (keys `eec.*`), so `calibrate`, `run` and `compile` rebuild the same
/// exits without being told.
///
/// A trained file records where its exits are by name (`eec.exit_at`), whatever rule placed
/// them, so the exits it holds tensors for are found again even if the placement rule changes.
public struct ExitConfiguration: Equatable, Sendable {
    public var branches: Int
    public var distribution: Distribution
    public var block: ExitBlock
    public var convention: CostReport.Convention
    /// `--exit-after`: nil when every cut point is a candidate.
    public var candidateOps: Set<OpKind>?
    public var sites: ExitSites
    public var confidence: ExitConfidence

    public init(branches: Int, distribution: Distribution = .fine, block: ExitBlock = .conv(2),
                convention: CostReport.Convention = .eenets, candidateOps: Set<OpKind>? = nil,
                sites: ExitSites = .distribution, confidence: ExitConfidence = .head) {
        self.branches = branches
        self.distribution = distribution
        self.block = block
        self.convention = convention
        self.candidateOps = candidateOps
        self.sites = sites
        self.confidence = confidence
    }

    /// True when the configuration asks for at least one exit.
    public var hasExits: Bool {
        switch sites {
        case .distribution: return branches > 0
        case .everyCandidate: return true
        case .named(let names): return !names.isEmpty
        }
    }

    /// How the exits were placed, for reports: "fine distribution", "every candidate", "named".
    public var sitesDescription: String {
        switch sites {
        case .distribution: return "\(distribution.rawValue) distribution"
        case .everyCandidate: return "at every candidate"
        case .named: return "after named nodes"
        }
    }

    public var pass: InsertExits {
        InsertExits(branches: branches, distribution: distribution, block: block, convention: convention,
                    candidateOps: candidateOps, sites: sites, confidence: confidence)
    }

    /// The same exits, named by the nodes they attach after (`attach`, in order): what a file records.
    public func resolved(attach: [String]) -> ExitConfiguration {
        var out = self
        out.sites = .named(attach)
        out.branches = attach.count
        return out
    }

    /// The `__metadata__` entries.
    public var metadata: [String: String] {
        var out = [
            "eec.branches": String(branches), "eec.distribution": distribution.rawValue,
            "eec.exit_block": block.description, "eec.cost": convention.rawValue,
            "eec.confidence": confidence.rawValue,
        ]
        if let candidateOps { out["eec.exit_after"] = candidateOps.map(\.name).sorted().joined(separator: ",") }
        switch sites {
        case .distribution: break
        case .everyCandidate: out["eec.exit_at"] = "all"
        case .named(let names): out["eec.exit_at"] = names.joined(separator: ",")
        }
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
        let confidenceText = metadata["eec.confidence"] ?? "head"
        guard let confidence = ExitConfidence(rawValue: confidenceText) else { throw ConfigurationError("eec.confidence", confidenceText) }
        var ops: Set<OpKind>?
        if let text = metadata["eec.exit_after"] {
            var set = Set<OpKind>()
            for part in text.split(separator: ",") {
                guard let op = OpKind(rawValue: String(part)) else { throw ConfigurationError("eec.exit_after", text) }
                set.insert(op)
            }
            ops = set
        }
        var sites = ExitSites.distribution
        if let text = metadata["eec.exit_at"] {
            let names = text.split(separator: ",").map(String.init)
            if text == "all" {
                sites = .everyCandidate
            } else {
                guard names.count == branches else { throw ConfigurationError("eec.exit_at", text) }
                sites = .named(names)
            }
        }
        self.init(branches: branches, distribution: distribution, block: block, convention: convention,
                  candidateOps: ops, sites: sites, confidence: confidence)
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

/// Thresholds recorded by `eec calibrate -o` (`eec.thresholds`, one probability per exit).
public enum RecordedThresholds {
    public static let key = "eec.thresholds"

    public static func metadata(_ thresholds: [Double]) -> [String: String] {
        [key: thresholds.map { String($0) }.joined(separator: ",")]
    }

    /// nil when the file records none.
    public static func read(_ metadata: [String: String]) throws(ConfigurationError) -> [Double]? {
        guard let text = metadata[key] else { return nil }
        if text.isEmpty { return [] }
        var out: [Double] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let t = Double(part), t >= 0, t <= 1 else { throw ConfigurationError(key, text) }
            out.append(t)
        }
        return out
    }
}
