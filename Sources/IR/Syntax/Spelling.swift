/// "Did you mean ...?" suggestions, by edit distance.
public enum Spelling {
    /// The candidate closest to `word`, if it is close enough to be a plausible typo.
    ///
    /// Swapped neighbours count as one edit (`rleu` → `relu`). A candidate that shares nothing
    /// with the word (`y` → `x`) is not a typo and is never suggested. Ties go to the candidate
    /// that sorts first, so the suggestion does not depend on the order of `candidates` (which
    /// is often a dictionary's, and so differs from run to run).
    public static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let w = Array(word.utf8.prefix(64))
        guard !w.isEmpty else { return nil }
        var best: (String, Int)?
        for candidate in candidates {
            let c = Array(candidate.utf8.prefix(64))
            if abs(c.count - w.count) > 2 { continue }
            let d = distance(w, c)
            guard d <= max(1, min(w.count, c.count) / 3), d < max(w.count, c.count) else { continue }
            if let (name, bestDistance) = best, d > bestDistance || (d == bestDistance && candidate >= name) { continue }
            best = (candidate, d)
        }
        return best?.0
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and transpositions
    /// of adjacent bytes each cost 1.
    static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var beforePrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                var d = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d = Swift.min(d, beforePrevious[j - 2] + 1) }
                current[j] = d
            }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[b.count]
    }
}
