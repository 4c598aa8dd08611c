/// One problem found in a configuration file, printed as `PATH:LINE: message` (or
/// `PATH:LINE: warning: message`), the form editors and CI logs link to.
struct Diagnostic: Equatable, Sendable {
    enum Severity: Sendable { case error, warning }
    var severity: Severity
    var line: Int
    var message: String

    func formatted(path: String) -> String {
        severity == .error ? "\(path):\(line): \(message)" : "\(path):\(line): warning: \(message)"
    }
}

/// Collects every problem instead of stopping at the first, so one `check` shows them all.
struct Diagnostics: Sendable {
    private(set) var items: [Diagnostic] = []

    mutating func error(_ line: Int, _ message: String) {
        items.append(Diagnostic(severity: .error, line: line, message: message))
    }
    mutating func warning(_ line: Int, _ message: String) {
        items.append(Diagnostic(severity: .warning, line: line, message: message))
    }

    var hasErrors: Bool { items.contains { $0.severity == .error } }
    var errors: [Diagnostic] { items.filter { $0.severity == .error } }
    var warnings: [Diagnostic] { items.filter { $0.severity == .warning } }

    /// In file order, so the output reads top to bottom.
    var sorted: [Diagnostic] {
        items.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }.map(\.element)
    }
}

/// Levenshtein distance, for "did you mean" suggestions on unknown keys.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.utf8), y = Array(b.utf8)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous = Array(0...y.count)
    var current = Array(repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        current[0] = i
        for j in 1...y.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[y.count]
}

/// The closest of `candidates` to `word`, if close enough to be a plausible typo.
func nearest(_ word: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0)) }.min { $0.1 < $1.1 }
    guard let (best, distance) = scored, distance <= max(2, word.count / 3) else { return nil }
    return best
}
