import Addressing
import DNSWire
import Forwarder
import NetIsolation

/// A configuration that passed validation, with the routing snapshot built from it.
struct LoadedConfig {
    var path: String
    var config: GatewayConfig
    var routing: RoutingTable
    /// Warnings only; a loaded configuration has no errors.
    var warnings: [Diagnostic]
}

/// Why a configuration could not be loaded: every problem, in file order.
struct ConfigError: Error {
    var path: String
    var diagnostics: [Diagnostic]

    var lines: [String] { diagnostics.map { $0.formatted(path: path) } }
}

enum ConfigLoader {
    static let defaultPath = "/etc/dnsbridge/dnsbridge.yaml"

    /// Features that a later issue builds: `check` and `run` name each once when the file uses
    /// it, rather than accepting it silently. Remove an entry when its feature lands.
    enum NotYetBuilt: String {
        case encryptedTransport
    }

    /// Loads `path`; on failure prints every problem on stderr and returns nil.
    static func loadOrReport(path: String) -> LoadedConfig? {
        switch load(path: path) {
        case .success(let loaded): return loaded
        case .failure(let error):
            for line in error.lines { Output.err(line) }
            return nil
        }
    }

    static func load(path: String) -> Result<LoadedConfig, ConfigError> {
        let text: String
        do {
            text = try readFile(path)
        } catch {
            return .failure(ConfigError(path: path, diagnostics: [Diagnostic(severity: .error, line: 0, message: "\(error)")]))
        }
        return load(text: text, path: path)
    }

    static func load(text: String, path: String) -> Result<LoadedConfig, ConfigError> {
        let root: YAMLNode
        do {
            root = try YAMLDocument.parse(text)
        } catch {
            return .failure(ConfigError(path: path, diagnostics: [Diagnostic(severity: .error, line: error.line, message: error.message)]))
        }
        var reader = ConfigReader()
        let config = readTopLevel(root, &reader)
        let routing = config.flatMap { validate($0, &reader) }
        guard let config, let routing, !reader.diagnostics.hasErrors else {
            return .failure(ConfigError(path: path, diagnostics: reader.diagnostics.sorted))
        }
        return .success(LoadedConfig(path: path, config: config, routing: routing, warnings: reader.diagnostics.sorted))
    }

    private static func readTopLevel(_ root: YAMLNode, _ r: inout ConfigReader) -> GatewayConfig? {
        guard let m = r.mapping(root, what: "the configuration", allowed: ConfigReader.topLevelKeys) else { return nil }
        var c = GatewayConfig()
        if let n = m["workers"], let v = r.integer(n, what: "workers", range: 1...1024) {
            c.workers = Located(value: v, line: n.line)
        }
        if let n = m["tcp"], let v = r.readTCP(n) { c.tcp = v }
        if let n = m["status_socket"], let v = r.string(n, what: "status_socket") {
            if v.hasPrefix("/") { c.statusSocket = v } else { r.diagnostics.error(n.line, "status_socket must be an absolute path") }
        }
        if let n = m["endpoints"] {
            c.endpoints = r.list(n, what: "endpoints") { r, item in r.readEndpoint(item) } ?? []
        }
        if let n = m["pools"] {
            c.pools = r.list(n, what: "pools") { r, item in r.readPool(item) } ?? []
        }
        if let n = m["rules"] {
            c.rules = r.list(n, what: "rules") { r, item in r.readRule(item) } ?? []
        }
        if let n = m["cache"], let v = r.readCache(n) {
            c.cache = Located(value: v, line: n.line)
        }
        if let n = m["isolation"], let v = r.readIsolation(n) {
            c.isolation = Located(value: v, line: n.line)
        }
        if let n = m["control"], let v = r.readControl(n) {
            c.control = Located(value: v, line: n.line)
        }
        if let n = m["query_log"], let v = r.readQueryLog(n) {
            c.queryLog = Located(value: v, line: n.line)
        }
        if let isolation = c.isolation {
            r.warnAboutLockout(isolation.value, control: c.control?.value, line: m.keyLine("isolation"))
        }
        if m["endpoints"] == nil {
            r.diagnostics.error(m.line, "the configuration defines no endpoints (add an 'endpoints:' list)")
        }
        if m["pools"] == nil {
            r.diagnostics.error(m.line, "the configuration defines no pools (every endpoint needs a system_pool)")
        }
        let encrypted = c.pools.flatMap(\.targets).first { $0.spec.transport != .do53 }.map(\.line)
            ?? c.endpoints.first { $0.protocols.contains { $0 != .do53 } }.map(\.line)
        if let line = encrypted { notYetBuilt(.encryptedTransport, line: line, &r) }
        return c
    }

    private static func notYetBuilt(_ feature: NotYetBuilt, line: Int, _ r: inout ConfigReader) {
        switch feature {
        case .encryptedTransport: r.diagnostics.warning(line, "dot and doh are not implemented yet; ignored")
        }
    }

    /// Cross-references: names unique, every referenced pool and endpoint defined, no two rules
    /// with one domain on one endpoint. Builds the routing snapshot when all is well.
    private static func validate(_ c: GatewayConfig, _ r: inout ConfigReader) -> RoutingTable? {
        var poolIndex: [String: Int] = [:]
        for (i, p) in c.pools.enumerated() {
            if let first = poolIndex[p.name] {
                r.diagnostics.error(p.line, "duplicate pool name '\(p.name)' (first at line \(c.pools[first].line))")
            } else {
                poolIndex[p.name] = i
            }
            var seen: [String: Int] = [:]
            for t in p.targets {
                let key = "\(t.spec.address)/\(t.spec.transport.rawValue)"
                if let first = seen[key] {
                    r.diagnostics.error(t.line, "pool '\(p.name)' lists target \(t.spec.address) (\(t.spec.transport.rawValue)) twice (first at line \(first))")
                }
                seen[key] = t.line
            }
        }
        var endpointIndex: [String: Int] = [:]
        var addressOwner: [SocketAddress: (String, Int)] = [:]
        for (i, e) in c.endpoints.enumerated() {
            if let first = endpointIndex[e.name] {
                r.diagnostics.error(e.line, "duplicate endpoint name '\(e.name)' (first at line \(c.endpoints[first].line))")
            } else {
                endpointIndex[e.name] = i
            }
            if poolIndex[e.systemPool.value] == nil {
                r.diagnostics.error(e.systemPool.line, "endpoint '\(e.name)' has system_pool '\(e.systemPool.value)', which is not a defined pool\(suggest(e.systemPool.value, poolIndex.keys))")
            }
            for a in e.addresses {
                if let (owner, line) = addressOwner[a.value] {
                    r.diagnostics.error(a.line, "address \(a.value) is already used by endpoint '\(owner)' (line \(line))")
                }
                addressOwner[a.value] = (e.name, a.line)
            }
        }
        var ruleNames: [String: Int] = [:]
        var rules: [Rule] = []
        rules.reserveCapacity(c.rules.count)
        for rule in c.rules {
            if let first = ruleNames[rule.name] {
                r.diagnostics.error(rule.line, "duplicate rule name '\(rule.name)' (first at line \(first))")
            }
            ruleNames[rule.name] = rule.line
            var action = RuleAction.system
            if rule.action == .forward, let pool = rule.pool {
                if let p = poolIndex[pool.value] {
                    action = .forward(pool: p)
                } else {
                    r.diagnostics.error(pool.line, "rule '\(rule.name)' forwards to pool '\(pool.value)', which is not defined\(suggest(pool.value, poolIndex.keys))")
                }
            }
            var endpoints: [Int]? = nil
            if let names = rule.endpoints {
                endpoints = []
                for n in names {
                    if let e = endpointIndex[n.value] {
                        endpoints!.append(e)
                    } else {
                        r.diagnostics.error(n.line, "rule '\(rule.name)' names endpoint '\(n.value)', which is not defined\(suggest(n.value, endpointIndex.keys))")
                    }
                }
            }
            rules.append(Rule(name: rule.name, domain: rule.domain, action: action, endpoints: endpoints))
        }
        checkSameDomain(c, rules, endpointCount: c.endpoints.count, &r)
        warnUnusedPools(c, poolIndex: poolIndex, &r)
        guard !r.diagnostics.hasErrors else { return nil }
        let endpoints = c.endpoints.map { e in
            EndpointSpec(name: e.name, direction: e.direction, addresses: e.addresses.map(\.value), protocols: e.protocols,
                         allow: e.allow, sourceAddresses: e.sourceAddresses, systemPool: poolIndex[e.systemPool.value]!)
        }
        let pools = c.pools.map { p in
            PoolSpec(name: p.name, policy: p.policy, targets: p.targets.map(\.spec),
                     healthCheck: healthCheck(for: p, rules: c.rules), retry: p.retry)
        }
        return RoutingTable(endpoints: endpoints, pools: pools, rules: rules)
    }

    /// Every pool is health-checked. The probe question defaults to the first domain a rule
    /// forwards to the pool, with SOA — a question its servers are there to answer — and to
    /// `. SOA` for a pool no rule forwards to (a system pool: recursive resolvers answer it).
    /// Never `. NS`, which private resolvers often refuse.
    private static func healthCheck(for pool: PoolConfig, rules: [RuleConfig]) -> HealthCheckSpec {
        var spec = pool.healthCheck?.value ?? HealthCheckSpec()
        if spec.query == nil {
            let domain = rules.first { $0.action == .forward && $0.pool?.value == pool.name }?.domain ?? .root
            spec.query = Question(name: domain, type: .soa)
        }
        return spec
    }

    /// Two rules with the same domain that share an endpoint would make the choice between them
    /// arbitrary: reported with both names.
    private static func checkSameDomain(_ c: GatewayConfig, _ rules: [Rule], endpointCount: Int, _ r: inout ConfigReader) {
        var byDomain: [DNSName: [Int]] = [:]
        for (i, rule) in rules.enumerated() { byDomain[rule.domain, default: []].append(i) }
        for (domain, indices) in byDomain where indices.count > 1 {
            for (k, later) in indices.enumerated() {
                for earlier in indices[..<k] {
                    let a = Set(rules[earlier].endpoints ?? Array(0..<endpointCount))
                    let b = Set(rules[later].endpoints ?? Array(0..<endpointCount))
                    let shared = a.intersection(b).sorted()
                    guard !shared.isEmpty else { continue }
                    let names = shared.map { "'\(c.endpoints[$0].name)'" }.joined(separator: ", ")
                    r.diagnostics.error(c.rules[later].line, "rules '\(rules[earlier].name)' (line \(c.rules[earlier].line)) and '\(rules[later].name)' both match \(domain) on endpoint \(names); give each domain one rule per endpoint")
                }
            }
        }
    }

    private static func warnUnusedPools(_ c: GatewayConfig, poolIndex: [String: Int], _ r: inout ConfigReader) {
        var used = Set(c.endpoints.map(\.systemPool.value))
        for rule in c.rules { if let p = rule.pool { used.insert(p.value) } }
        for p in c.pools where !used.contains(p.name) {
            r.diagnostics.warning(p.line, "pool '\(p.name)' is used by no rule and no endpoint")
        }
    }

    private static func suggest<S: Sequence>(_ word: String, _ names: S) -> String where S.Element == String {
        nearest(word, in: Array(names)).map { "; did you mean '\($0)'?" } ?? ""
    }
}
