import DNSWire
import Forwarder
import FoundationEssentials

/// Turns explanations into the text people read and the JSON machines read. Both carry the same
/// facts; the JSON shape is stable for scripts.
struct ExplainRenderer {
    let table: RoutingTable
    /// Live health from the running gateway, when one answered on the status socket.
    let live: StatusReport?

    func text(_ explanations: [Explanation]) -> String {
        var out: [String] = []
        for x in explanations {
            let e = table.endpoints[x.endpoint]
            if !out.isEmpty { out.append("") }
            out.append("\(x.name) \(x.type) on endpoint \(e.name) (\(e.direction.rawValue), \(e.addresses.map(\.description).joined(separator: ", ")))")
            out.append("  suffixes considered, most specific first:")
            let width = x.candidates.map { $0.suffix.description.count }.max() ?? 1
            for c in x.candidates {
                let pad = String(repeating: " ", count: width - c.suffix.description.count)
                let rules = c.rules.isEmpty ? "no rule" : c.rules.map(describe).joined(separator: "; ")
                let chosen = c.rules.contains { $0.rule == x.route.rule } ? "   <- chosen" : ""
                out.append("    \(c.suffix)\(pad)  \(rules)\(chosen)")
            }
            let pool = table.pools[x.route.pool]
            switch x.reason {
            case .forwardRule:
                let r = table.rules[x.route.rule!]
                out.append("  rule:    \(r.name) (\(r.domain)), the most specific rule that applies to \(e.name)")
                out.append("  action:  forward to pool \(pool.name)")
            case .systemRule:
                let r = table.rules[x.route.rule!]
                out.append("  rule:    \(r.name) (\(r.domain)), the most specific rule that applies to \(e.name)")
                out.append("  action:  system: resolve through \(e.name)'s system pool")
            case .noRule:
                out.append("  rule:    none applies to \(e.name)")
                out.append("  action:  system: resolve through \(e.name)'s system pool")
            }
            out.append("  pool:    \(pool.name), policy \(pool.policy.rawValue)")
            for t in pool.targets {
                var line = "  target:  \(t.address) \(t.transport.rawValue) weight \(t.weight) priority \(t.priority)"
                if let n = t.tlsName { line += " tls_name \(n)" }
                if let h = live?.target(pool: pool.name, address: t.address.description) {
                    line += ", \(h.state)" + (h.srtt_ms.map { ", srtt \(StatusCommand.format($0)) ms" } ?? "")
                }
                out.append(line)
            }
            if live == nil { out.append("  health:  not live (no running gateway answered on the status socket)") }
        }
        return out.joined(separator: "\n")
    }

    private func describe(_ c: Explanation.CandidateRule) -> String {
        let r = table.rules[c.rule]
        var s = "\(r.name) (\(actionText(r.action)))"
        if !c.appliesToEndpoint {
            let names = (r.endpoints ?? []).map { table.endpoints[$0].name }.joined(separator: ", ")
            s += " [not this endpoint: applies to \(names)]"
        }
        return s
    }

    private func actionText(_ a: RuleAction) -> String {
        switch a {
        case .forward(let p): return "forward to \(table.pools[p].name)"
        case .system: return "system"
        }
    }

    // MARK: JSON

    struct JSONExplanation: Encodable {
        var name: String
        var type: String
        var endpoint: String
        var direction: String
        var candidates: [JSONCandidate]
        var rule: JSONRule?
        var reason: String
        var action: String
        var pool: JSONPool
    }
    struct JSONCandidate: Encodable {
        var suffix: String
        var rules: [JSONRule]
    }
    struct JSONRule: Encodable {
        var name: String
        var domain: String
        var action: String
        var pool: String?
        var endpoints: [String]?
        var applies: Bool
    }
    struct JSONPool: Encodable {
        var name: String
        var policy: String
        var targets: [JSONTarget]
    }
    struct JSONTarget: Encodable {
        var address: String
        var transport: String
        var tls_name: String?
        var weight: Int
        var priority: Int
        /// From the running gateway; absent when none answered.
        var state: String?
        var srtt_ms: Double?
    }

    func json(_ explanations: [Explanation]) -> String {
        let values = explanations.map { x -> JSONExplanation in
            let e = table.endpoints[x.endpoint]
            let pool = table.pools[x.route.pool]
            return JSONExplanation(
                name: x.name.description, type: x.type.description, endpoint: e.name, direction: e.direction.rawValue,
                candidates: x.candidates.map { c in
                    JSONCandidate(suffix: c.suffix.description, rules: c.rules.map { jsonRule($0.rule, applies: $0.appliesToEndpoint) })
                },
                rule: x.route.rule.map { jsonRule($0, applies: true) },
                reason: x.reason.rawValue,
                action: x.reason == .forwardRule ? "forward" : "system",
                pool: JSONPool(name: pool.name, policy: pool.policy.rawValue, targets: pool.targets.map {
                    let h = live?.target(pool: pool.name, address: $0.address.description)
                    return JSONTarget(address: $0.address.description, transport: $0.transport.rawValue, tls_name: $0.tlsName,
                                      weight: $0.weight, priority: $0.priority, state: h?.state, srtt_ms: h?.srtt_ms)
                }))
        }
        return JSONText.pretty(["explanations": values])
    }

    private func jsonRule(_ index: Int, applies: Bool) -> JSONRule {
        let r = table.rules[index]
        var pool: String? = nil
        if case .forward(let p) = r.action { pool = table.pools[p].name }
        return JSONRule(name: r.name, domain: r.domain.description, action: pool == nil ? "system" : "forward", pool: pool,
                        endpoints: r.endpoints.map { $0.map { table.endpoints[$0].name } }, applies: applies)
    }
}
