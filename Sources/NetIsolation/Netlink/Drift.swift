import CNFTables

/// One rule's counter in the live table.
public struct RuleCounter: Sendable {
    public var chain: String
    public var comment: String
    public var packets: UInt64
    public var bytes: UInt64
}

/// How the live table differs from the plan, each difference in words an operator can act on.
public enum Drift: Equatable, CustomStringConvertible, Sendable {
    case tableMissing
    case chainMissing(String)
    case chainExtra(String)
    case chainChanged(String, expected: String, live: String)
    case ruleMissing(chain: String, comment: String)
    case ruleExtra(chain: String, comment: String)
    case ruleChanged(chain: String, comment: String)
    case rulesReordered(chain: String)
    case setMissing(String)
    case setExtra(String)
    case setChanged(String, what: String)

    public var description: String {
        switch self {
        case .tableMissing: return "table inet dnsbridge is missing"
        case .chainMissing(let c): return "missing chain \(c)"
        case .chainExtra(let c): return "extra chain \(c)"
        case .chainChanged(let c, let e, let l): return "chain \(c) changed: planned \(e), live \(l)"
        case .ruleMissing(let c, let r): return "missing rule in chain \(c): \"\(r)\""
        case .ruleExtra(let c, let r): return "extra rule in chain \(c): \"\(r)\""
        case .ruleChanged(let c, let r): return "changed rule in chain \(c): \"\(r)\""
        case .rulesReordered(let c): return "rules of chain \(c) are out of order"
        case .setMissing(let s): return "missing set \(s)"
        case .setExtra(let s): return "extra set \(s)"
        case .setChanged(let s, let what): return "set \(s) changed: \(what)"
        }
    }
}

extension NetlinkTable {
    /// Reads the live table back and compares it with `ruleset`: empty when they agree.
    public static func verify(against ruleset: Ruleset) -> Result<[Drift], NetlinkError> {
        LiveTable.read().map { live in
            guard let live else { return [.tableMissing] }
            return DriftFinder.compare(expected: image(of: ruleset), live: live)
        }
    }

    /// Packets and bytes each rule of the live table has counted, by chain and comment (rules
    /// sharing a comment summed), in table order.
    public static func counters() -> Result<[RuleCounter], NetlinkError> {
        LiveTable.counters().map { rows in
            var out: [RuleCounter] = []
            for row in rows {
                if let i = out.firstIndex(where: { $0.chain == row.chain && $0.comment == row.comment }) {
                    out[i].packets += row.packets
                    out[i].bytes += row.bytes
                } else {
                    out.append(row)
                }
            }
            return out
        }
    }

    /// The planned table in the canonical form `LiveTable` reads the kernel's into: the same
    /// libnftnl objects `replace` sends, printed by libnftnl.
    static func image(of ruleset: Ruleset) -> TableImage {
        var image = TableImage()
        for chain in ruleset.chains {
            let c = nftnl_chain_alloc()!
            defer { nftnl_chain_free(c) }
            fill(c, chain)
            let rules = chain.rules.map { r -> TableImage.Rule in
                let rule = makeRule(r, chain: chain.name, setIDs: [:])
                defer { nftnl_rule_free(rule) }
                return Image.rule(rule)
            }
            image.chains.append(TableImage.Chain(name: chain.name, base: Image.base(c), rules: rules))
        }
        for set in ruleset.sets {
            let s = nftnl_set_alloc()!
            defer { nftnl_set_free(s) }
            fill(s, set)
            image.sets.append(TableImage.Set(name: set.name, shape: Image.shape(s),
                                             elements: intervalElements(set).map { Image.element($0.key, end: $0.end) }.sorted()))
        }
        return image
    }
}

enum DriftFinder {
    static func compare(expected: TableImage, live: TableImage) -> [Drift] {
        var drift: [Drift] = []
        let liveChains = Dictionary(live.chains.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for chain in expected.chains {
            guard let other = liveChains[chain.name] else { drift.append(.chainMissing(chain.name)); continue }
            if chain.base != other.base { drift.append(.chainChanged(chain.name, expected: chain.base, live: other.base)) }
            drift += compareRules(chain: chain.name, expected: chain.rules, live: other.rules)
        }
        let planned = Set(expected.chains.map(\.name))
        for chain in live.chains where !planned.contains(chain.name) { drift.append(.chainExtra(chain.name)) }

        let liveSets = Dictionary(live.sets.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for set in expected.sets {
            guard let other = liveSets[set.name] else { drift.append(.setMissing(set.name)); continue }
            if set.shape != other.shape { drift.append(.setChanged(set.name, what: "planned \(set.shape), live \(other.shape)")) }
            if set.elements != other.elements {
                let missing = Set(set.elements).subtracting(other.elements).count
                let extra = Set(other.elements).subtracting(set.elements).count
                drift.append(.setChanged(set.name, what: "\(missing) planned elements missing, \(extra) extra"))
            }
        }
        let plannedSets = Set(expected.sets.map(\.name))
        for set in live.sets where !plannedSets.contains(set.name) { drift.append(.setExtra(set.name)) }
        return drift
    }

    /// Rules are matched whole first; what is left pairs up by comment (changed), or is missing
    /// or extra. Order matters — the first match decides — so equal contents in another order are
    /// drift too.
    static func compareRules(chain: String, expected: [TableImage.Rule], live: [TableImage.Rule]) -> [Drift] {
        guard expected != live else { return [] }
        var unmatchedLive = live
        var unmatchedExpected: [TableImage.Rule] = []
        for rule in expected {
            if let i = unmatchedLive.firstIndex(of: rule) { unmatchedLive.remove(at: i) } else { unmatchedExpected.append(rule) }
        }
        if unmatchedExpected.isEmpty && unmatchedLive.isEmpty { return [.rulesReordered(chain: chain)] }
        var drift: [Drift] = []
        for rule in unmatchedExpected {
            if let i = unmatchedLive.firstIndex(where: { $0.comment == rule.comment }) {
                unmatchedLive.remove(at: i)
                drift.append(.ruleChanged(chain: chain, comment: rule.comment))
            } else {
                drift.append(.ruleMissing(chain: chain, comment: rule.comment))
            }
        }
        for rule in unmatchedLive { drift.append(.ruleExtra(chain: chain, comment: rule.comment)) }
        return drift
    }
}
