import DNSWire

/// One immutable routing snapshot: endpoints, pools, rules and the trie over them. A reload
/// builds a new table and swaps it whole, so a query sees one configuration, never a mix.
public final class RoutingTable: Sendable {
    public let endpoints: [EndpointSpec]
    public let pools: [PoolSpec]
    public let rules: [Rule]
    public let trie: RuleTrie

    /// Builds the snapshot. Inputs are already validated (indices in range, no two rules with
    /// the same domain on one endpoint); the configuration layer reports those problems.
    public init(endpoints: [EndpointSpec], pools: [PoolSpec], rules: [Rule]) {
        self.endpoints = endpoints
        self.pools = pools
        self.rules = rules
        var trie = RuleTrie()
        for (i, rule) in rules.enumerated() {
            trie.insert(rule.domain, rule: Int32(i), endpoints: rule.endpoints)
        }
        self.trie = trie
    }

    /// The decision for a name arriving at an endpoint.
    public struct Route: Equatable, Sendable {
        /// The matched rule, or nil when none applies.
        public var rule: Int?
        /// The pool that will answer.
        public var pool: Int

        public init(rule: Int?, pool: Int) { self.rule = rule; self.pool = pool }
    }

    /// Routes `name` received on `endpoint`: the most specific applicable rule's pool, or the
    /// endpoint's system pool for `system` rules and names no rule matches.
    public func route(_ name: DNSName, endpoint: Int) -> Route {
        let matched = trie.longestMatch(name, endpoint: endpoint).map(Int.init)
        return Route(rule: matched, pool: pool(for: matched, endpoint: endpoint))
    }

    /// Same as `route(_:endpoint:)` for an uncompressed name straight from a packet.
    public func route(wire: UnsafeRawBufferPointer, endpoint: Int) -> Route {
        let matched = trie.longestMatch(wire: wire, endpoint: endpoint).map(Int.init)
        return Route(rule: matched, pool: pool(for: matched, endpoint: endpoint))
    }

    @inline(__always) private func pool(for rule: Int?, endpoint: Int) -> Int {
        if let r = rule, case .forward(let p) = rules[r].action { return p }
        return endpoints[endpoint].systemPool
    }

    public func endpointIndex(named name: String) -> Int? { endpoints.firstIndex { $0.name == name } }
}
