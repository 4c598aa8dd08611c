import Addressing

/// The ruleset in nft's own syntax, as `dnsbridge isolation plan` prints it and `nft -f` loads
/// it. The text loads to exactly the objects `apply` programs through netlink.
public enum NFTSyntax {
    /// The whole table, preceded by the commands that replace it in one transaction when given
    /// to `nft -f` (creating it first, so the delete cannot fail).
    public static func script(_ r: Ruleset) -> String {
        "table \(Ruleset.family) \(Ruleset.tableName)\ndelete table \(Ruleset.family) \(Ruleset.tableName)\n" + table(r)
    }

    public static func table(_ r: Ruleset) -> String {
        var out = "table \(Ruleset.family) \(Ruleset.tableName) {\n"
        for set in r.sets {
            out += "\tset \(set.name) {\n"
            out += "\t\ttype \(set.family == .v4 ? "ipv4_addr" : "ipv6_addr")\n"
            out += "\t\tflags interval\n"
            out += "\t\telements = { \(set.ranges.map(element).joined(separator: ", ")) }\n"
            out += "\t}\n\n"
        }
        for (i, chain) in r.chains.enumerated() {
            out += "\tchain \(chain.name) {\n"
            if let hook = chain.hook {
                out += "\t\ttype filter hook \(hook.hook.rawValue) priority \(hook.priority == .raw ? "raw" : "filter"); policy accept;\n"
            }
            for rule in chain.rules { out += "\t\t\(self.rule(rule))\n" }
            out += "\t}\n"
            if i < r.chains.count - 1 { out += "\n" }
        }
        return out + "}\n"
    }

    static func element(_ range: AddressRange) -> String {
        if let p = AddressRanges.asPrefix(range) {
            return p.prefixLength == (range.first.isV4 ? 32 : 128) ? "\(p.network)" : "\(p)"
        }
        return "\(range.first)-\(range.last)"
    }

    static func rule(_ r: FilterRule) -> String {
        var words = r.matches.map(match)
        words.append("counter")
        switch r.verdict {
        case .accept: words.append("accept")
        case .drop: words.append("drop")
        case .return: words.append("return")
        case .jump(let chain): words.append("jump \(chain)")
        case .notrack: words.append("notrack")
        }
        words.append("comment \(quoted(r.comment))")
        return words.joined(separator: " ")
    }

    static func match(_ m: FilterMatch) -> String {
        switch m {
        case .loopback(let inbound): return "\(inbound ? "iif" : "oif") \"lo\""
        case .interface(let name, let inbound): return "\(inbound ? "iifname" : "oifname") \(quoted(name))"
        case .established: return "ct state established,related"
        case .family(let f): return "meta nfproto \(f == .v4 ? "ipv4" : "ipv6")"
        case .l4proto(let t): return "meta l4proto \(t.rawValue)"
        case .prefix(let p, let d):
            let full = p.prefixLength == (p.network.isV4 ? 32 : 128)
            return "\(p.network.isV4 ? "ip" : "ip6") \(d == .source ? "saddr" : "daddr") \(full ? "\(p.network)" : "\(p)")"
        case .addressSet(let name, let f, let d):
            return "\(f == .v4 ? "ip" : "ip6") \(d == .source ? "saddr" : "daddr") @\(name)"
        case .port(let t, let range, let d): return "\(t.rawValue) \(d == .source ? "sport" : "dport") \(range)"
        case .icmpv6(let type): return "icmpv6 type \(type.nftName)"
        }
    }

    /// Comments are limited to 128 octets by nft; quotes would end them.
    static func quoted(_ s: String) -> String {
        "\"" + String(Comments.clean(s)) + "\""
    }
}

enum Comments {
    static let maxLength = 128

    static func clean(_ s: String) -> Substring {
        var text = s.replacingAll("\"", with: "'")
        while text.utf8.count > maxLength { text.removeLast() }
        return Substring(text)
    }
}

extension String {
    fileprivate func replacingAll(_ a: Character, with b: String) -> String {
        var out = ""
        for ch in self { if ch == a { out += b } else { out.append(ch) } }
        return out
    }
}
