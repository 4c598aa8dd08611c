import Addressing
import DNSWire

/// The typed decoder: reads YAML nodes into Swift values, recording each problem with its line
/// and carrying on, so that every problem in a file is reported in one pass. Each `read…`
/// returns nil after recording why when the value is unusable.
struct ConfigReader {
    var diagnostics = Diagnostics()

    /// A mapping whose keys have been checked against the keys a section allows.
    struct Mapping {
        let line: Int
        let pairs: [String: (keyLine: Int, value: YAMLNode)]
        subscript(key: String) -> YAMLNode? {
            guard let v = pairs[key]?.value, !v.isNull else { return nil }
            return v
        }
        func keyLine(_ key: String) -> Int { pairs[key]?.keyLine ?? line }
    }

    /// Reads a mapping, reporting unknown keys (with the nearest allowed key), duplicate keys, and
    /// missing required keys. `what` names the section in messages ("endpoint", "pool target").
    mutating func mapping(_ node: YAMLNode, what: String, allowed: [String], required: [String] = []) -> Mapping? {
        guard case .mapping(let pairs) = node.value else {
            diagnostics.error(node.line, "\(what) must be a mapping of keys to values, found \(describe(node))")
            return nil
        }
        var seen: [String: (keyLine: Int, value: YAMLNode)] = [:]
        for (k, v) in pairs {
            guard case .scalar(let key, _) = k.value else {
                diagnostics.error(k.line, "\(what) keys must be plain words")
                continue
            }
            if let earlier = seen[key] {
                diagnostics.error(k.line, "duplicate key '\(key)' in \(what) (first at line \(earlier.keyLine))")
                continue
            }
            guard allowed.contains(key) else {
                let hint = nearest(key, in: allowed).map { "; did you mean '\($0)'?" } ?? "; valid keys: \(allowed.joined(separator: ", "))"
                diagnostics.error(k.line, "unknown key '\(key)' in \(what)\(hint)")
                continue
            }
            seen[key] = (k.line, v)
        }
        let mapping = Mapping(line: node.line, pairs: seen)
        for key in required where mapping[key] == nil {
            diagnostics.error(node.line, "\(what) is missing required key '\(key)'")
        }
        return mapping
    }

    /// Reads a sequence; a single scalar where a list is expected is an error, not a one-item list,
    /// so that `addresses: 10.0.0.1:53` gets pointed out.
    mutating func sequence(_ node: YAMLNode, what: String) -> [YAMLNode]? {
        guard case .sequence(let items) = node.value else {
            diagnostics.error(node.line, "\(what) must be a list, found \(describe(node))")
            return nil
        }
        return items
    }

    mutating func string(_ node: YAMLNode, what: String) -> String? {
        guard case .scalar(let s, _) = node.value else {
            diagnostics.error(node.line, "\(what) must be a string, found \(describe(node))")
            return nil
        }
        guard !s.isEmpty else {
            diagnostics.error(node.line, "\(what) must not be empty")
            return nil
        }
        return s
    }

    mutating func integer(_ node: YAMLNode, what: String, range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let s, true) = node.value, let n = Int(s) else {
            diagnostics.error(node.line, "\(what) must be an integer, found \(describe(node))")
            return nil
        }
        guard range.contains(n) else {
            diagnostics.error(node.line, "\(what) must be between \(range.lowerBound) and \(range.upperBound), found \(n)")
            return nil
        }
        return n
    }

    mutating func bool(_ node: YAMLNode, what: String) -> Bool? {
        if case .scalar(let s, true) = node.value {
            switch s.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: break
            }
        }
        diagnostics.error(node.line, "\(what) must be true or false, found \(describe(node))")
        return nil
    }

    /// One of an enum's raw values, listing them all when the value is not one.
    mutating func choice<E: RawRepresentable & CaseIterable>(_ node: YAMLNode, what: String, as: E.Type) -> E?
    where E.RawValue == String {
        guard let s = string(node, what: what) else { return nil }
        if let v = E(rawValue: s.lowercased()) { return v }
        let all = E.allCases.map(\.rawValue)
        let hint = nearest(s, in: all).map { "; did you mean '\($0)'?" } ?? ""
        diagnostics.error(node.line, "\(what) '\(s)' is not one of \(all.joined(separator: ", "))\(hint)")
        return nil
    }

    mutating func duration(_ node: YAMLNode, what: String) -> ConfigDuration? {
        guard let s = string(node, what: what) else { return nil }
        guard let d = ConfigDuration(parsing: s) else {
            diagnostics.error(node.line, "\(what) '\(s)' is not a duration (write e.g. 500ms, 2s, 1m, 1h, 1d, or 1m30s)")
            return nil
        }
        return d
    }

    mutating func socketAddress(_ node: YAMLNode, what: String, defaultPort: UInt16) -> SocketAddress? {
        guard let s = string(node, what: what) else { return nil }
        do {
            return try SocketAddress(parsing: s, defaultPort: defaultPort)
        } catch {
            diagnostics.error(node.line, "\(what): \(error)")
            return nil
        }
    }

    mutating func ipAddress(_ node: YAMLNode, what: String) -> IPAddress? {
        guard let s = string(node, what: what) else { return nil }
        guard let ip = IPAddress(s) else {
            diagnostics.error(node.line, "\(what) '\(s)' is not an IPv4 or IPv6 address")
            return nil
        }
        return ip
    }

    mutating func cidr(_ node: YAMLNode, what: String) -> CIDR? {
        guard let s = string(node, what: what) else { return nil }
        do {
            return try CIDR(parsing: s)
        } catch {
            diagnostics.error(node.line, "\(what): \(error)")
            return nil
        }
    }

    mutating func domain(_ node: YAMLNode, what: String) -> DNSName? {
        guard let s = string(node, what: what) else { return nil }
        do {
            return try DNSName(s)
        } catch {
            diagnostics.error(node.line, "\(what) '\(s)' is not a domain name (labels of 1-63 octets, at most 255 in all)")
            return nil
        }
    }

    /// `53` or `"1024-65535"`.
    mutating func portRange(_ node: YAMLNode, what: String) -> PortRange? {
        guard case .scalar(let s, _) = node.value, let r = PortRange(parsing: s) else {
            diagnostics.error(node.line, "\(what) must be a port (1-65535) or a range such as 1024-65535, found \(describe(node))")
            return nil
        }
        return r
    }

    /// Reads each item of a list with `read`, dropping the unusable ones (already reported).
    mutating func list<T>(_ node: YAMLNode, what: String, _ read: (inout ConfigReader, YAMLNode) -> T?) -> [T]? {
        guard let items = sequence(node, what: what) else { return nil }
        var out: [T] = []
        out.reserveCapacity(items.count)
        for item in items {
            if let v = read(&self, item) { out.append(v) }
        }
        return out
    }

    func describe(_ node: YAMLNode) -> String {
        switch node.value {
        case .scalar(let s, let plain):
            if node.isNull { return "nothing" }
            return plain ? "'\(s)'" : "the string \"\(s)\""
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }
}

/// A configuration duration: `500ms`, `2s`, `1m`, `1h`, `1d`, or a sum such as `1m30s`.
struct ConfigDuration: Hashable, Sendable, CustomStringConvertible {
    var milliseconds: Int64

    init(milliseconds: Int64) { self.milliseconds = milliseconds }

    init?(parsing text: String) {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        var rest = Substring(text.trimmingSpaces())
        var total: Int64 = 0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let n = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix { $0.isLetter }
            guard let unit = units.first(where: { $0.0 == letters }) else { return nil }
            rest = rest.dropFirst(letters.count)
            let (product, overflow) = n.multipliedReportingOverflow(by: unit.1)
            guard !overflow else { return nil }
            total += product
        }
        milliseconds = total
    }

    var seconds: Int64 { milliseconds / 1000 }

    var description: String {
        let parts: [(Int64, String)] = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1000, "s"), (1, "ms")]
        if milliseconds == 0 { return "0s" }
        var rest = milliseconds, out = ""
        for (size, name) in parts where rest >= size {
            out += "\(rest / size)\(name)"
            rest %= size
        }
        return out
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
