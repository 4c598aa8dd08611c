import DNSWire

/// Why a name goes where it goes on one endpoint: every suffix that was considered with the
/// rules found there, the rule chosen, and the pool that answers. Built for `dnsbridge explain`;
/// it reads the same trie the data path uses, so it cannot disagree with it.
public struct Explanation: Sendable {
    public enum Reason: String, Sendable {
        /// A forward rule matched.
        case forwardRule = "forward-rule"
        /// A system rule matched: the endpoint's system pool answers.
        case systemRule = "system-rule"
        /// No rule applies: the endpoint's system pool answers.
        case noRule = "no-rule"
    }

    public struct CandidateRule: Sendable {
        public var rule: Int
        /// False when the rule is bound to other endpoints only.
        public var appliesToEndpoint: Bool
    }

    public struct Candidate: Sendable {
        public var suffix: DNSName
        public var rules: [CandidateRule]
    }

    public var name: DNSName
    public var type: RecordType
    public var endpoint: Int
    /// Most specific first, ending at the root.
    public var candidates: [Candidate]
    public var route: RoutingTable.Route
    public var reason: Reason
}

extension RoutingTable {
    public func explain(_ name: DNSName, type: RecordType, endpoint: Int) -> Explanation {
        let route = self.route(name, endpoint: endpoint)
        let candidates = trie.candidates(name).map { entry in
            Explanation.Candidate(suffix: entry.suffix, rules: entry.rules.map { r in
                let rule = rules[Int(r)]
                return Explanation.CandidateRule(rule: Int(r),
                                                 appliesToEndpoint: rule.endpoints?.contains(endpoint) ?? true)
            })
        }
        let reason: Explanation.Reason
        if let r = route.rule {
            reason = rules[r].action == .system ? .systemRule : .forwardRule
        } else {
            reason = .noRule
        }
        return Explanation(name: name, type: type, endpoint: endpoint, candidates: candidates,
                           route: route, reason: reason)
    }
}
