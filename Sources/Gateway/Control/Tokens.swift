#if canImport(Glibc)
import Glibc
#endif

/// Bearer tokens for the control API, from `control.tokens_file`: one per line, `NAME ROLE
/// TOKEN`, `#` starting a comment. The file holds secrets, so it must not be readable by group
/// or others; a file that is gets refused rather than trusted.
struct Tokens {
    enum Role: String, CaseIterable, Sendable {
        /// GET: metrics, status.
        case read
        /// Also every state-changing call.
        case admin
    }

    struct Token: Sendable {
        var name: String
        var role: Role
        var secret: [UInt8]
    }

    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    var tokens: [Token]

    static func load(path: String) throws(LoadError) -> Tokens {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw LoadError(description: "control tokens_file \(path): \(String(cString: strerror(errno)))")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw LoadError(description: "control tokens_file \(path) is readable by group or others (mode \(String(st.st_mode & 0o777, radix: 8))); it holds secrets: chmod 600 \(path)")
        }
        let text: String
        do { text = try readFile(path) } catch { throw LoadError(description: "control tokens_file: \(error)") }
        var tokens: [Token] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.isEmpty { continue }
            guard words.count == 3, let role = Role(rawValue: String(words[1])) else {
                throw LoadError(description: "\(path):\(i + 1): expected NAME ROLE TOKEN with ROLE read or admin")
            }
            guard words[2].utf8.count >= 16 else {
                throw LoadError(description: "\(path):\(i + 1): token '\(words[0])' is shorter than 16 characters")
            }
            guard !tokens.contains(where: { $0.name == String(words[0]) }) else {
                throw LoadError(description: "\(path):\(i + 1): token name '\(words[0])' is used twice")
            }
            tokens.append(Token(name: String(words[0]), role: role, secret: Array(words[2].utf8)))
        }
        return Tokens(tokens: tokens)
    }

    /// The token an `Authorization: Bearer …` header carries, compared in constant time.
    func match(authorization: String?) -> Token? {
        guard let header = authorization, header.hasPrefix("Bearer ") else { return nil }
        let given = Array(header.utf8.dropFirst(7))
        var found: Token?
        for t in tokens {
            var diff = UInt8(t.secret.count == given.count ? 0 : 1)
            for i in 0..<t.secret.count { diff |= t.secret[i] ^ (i < given.count ? given[i] : 0) }
            if diff == 0 { found = t }
        }
        return found
    }
}
