/// The command line after the command word: positional words and `--option [value]` pairs.
/// Each command declares which options it takes; anything else is a usage error.
struct Arguments {
    var positional: [String] = []
    var values: [String: String] = [:]
    var flags: Set<String> = []

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    /// `valued` options take a value (`--config PATH` or `--config=PATH`); `switches` do not.
    init(_ words: [String], valued: Set<String>, switches: Set<String>) throws(UsageError) {
        var i = 0
        var onlyPositional = false
        while i < words.count {
            let w = words[i]
            i += 1
            if onlyPositional || !w.hasPrefix("-") || w == "-" {
                positional.append(w)
                continue
            }
            if w == "--" { onlyPositional = true; continue }
            if w == "-h" { flags.insert("help"); continue }
            var name = String(w.drop { $0 == "-" })
            var inline: String? = nil
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if valued.contains(name) {
                if let inline { values[name] = inline; continue }
                guard i < words.count else { throw UsageError(description: "option --\(name) needs a value") }
                values[name] = words[i]
                i += 1
            } else if switches.contains(name) || name == "help" {
                guard inline == nil else { throw UsageError(description: "option --\(name) takes no value") }
                flags.insert(name)
            } else {
                throw UsageError(description: "unknown option \(w)")
            }
        }
    }
}
