import Addressing
import DNSWire
import Forwarder
import NetIsolation

/// Readers for each section of the file. Each records its problems in the reader and returns
/// what it could make sense of; cross-references between sections are checked in `ConfigLoader`.
extension ConfigReader {
    static let topLevelKeys = ["endpoints", "pools", "rules", "cache", "isolation", "control", "query_log", "workers", "tcp", "status_socket"]

    mutating func readEndpoint(_ node: YAMLNode) -> EndpointConfig? {
        guard let m = mapping(node, what: "endpoint",
                              allowed: ["name", "direction", "addresses", "protocols", "allow", "source_addresses", "system_pool"],
                              required: ["name", "direction", "addresses", "system_pool"]) else { return nil }
        let name = m["name"].flatMap { string($0, what: "endpoint name") }
        let direction = m["direction"].flatMap { choice($0, what: "direction", as: Direction.self) }
        let addresses = m["addresses"].flatMap { n in
            list(n, what: "addresses") { r, item in
                r.socketAddress(item, what: "address", defaultPort: 53).map { Located(value: $0, line: item.line) }
            }
        }
        if let a = addresses, a.isEmpty, let n = m["addresses"] {
            diagnostics.error(n.line, "endpoint needs at least one address")
        }
        let protocols = m["protocols"].flatMap { n in
            list(n, what: "protocols") { r, item in r.choice(item, what: "protocol", as: Transport.self) }
        } ?? [.do53]
        if m["protocols"] != nil, protocols.isEmpty, let n = m["protocols"] {
            diagnostics.error(n.line, "endpoint needs at least one protocol")
        }
        let allow = m["allow"].flatMap { n in list(n, what: "allow") { r, item in r.cidr(item, what: "allow") } }
            ?? EndpointConfig.defaultAllow.map { try! CIDR(parsing: $0) }
        let sources = m["source_addresses"].flatMap { n in
            list(n, what: "source_addresses") { r, item in r.ipAddress(item, what: "source address") }
        } ?? []
        let systemPool = m["system_pool"].flatMap { n in string(n, what: "system_pool").map { Located(value: $0, line: n.line) } }
        guard let name, let direction, let addresses, let systemPool else { return nil }
        return EndpointConfig(line: node.line, name: name, direction: direction, addresses: addresses,
                              protocols: protocols, allow: allow, sourceAddresses: sources, systemPool: systemPool)
    }

    mutating func readPool(_ node: YAMLNode) -> PoolConfig? {
        guard let m = mapping(node, what: "pool", allowed: ["name", "policy", "targets", "health_check", "retry"],
                              required: ["name", "targets"]) else { return nil }
        let name = m["name"].flatMap { string($0, what: "pool name") }
        let policy = m["policy"].flatMap { choice($0, what: "policy", as: PoolPolicy.self) } ?? .firstAvailable
        let targets = m["targets"].flatMap { n in list(n, what: "targets") { r, item in r.readTarget(item) } }
        if let t = targets, t.isEmpty, let n = m["targets"] {
            diagnostics.error(n.line, "pool '\(name ?? "?")' has no targets")
        }
        let health = m["health_check"].flatMap { n in readHealthCheck(n).map { Located(value: $0, line: n.line) } }
        let retry = m["retry"].flatMap { readRetry($0) } ?? RetrySpec()
        guard let name, let targets else { return nil }
        return PoolConfig(line: node.line, name: name, policy: policy, targets: targets, healthCheck: health, retry: retry)
    }

    mutating func readTarget(_ node: YAMLNode) -> TargetConfig? {
        guard let m = mapping(node, what: "target", allowed: ["address", "transport", "tls_name", "weight", "priority"],
                              required: ["address"]) else { return nil }
        let transport = m["transport"].flatMap { choice($0, what: "transport", as: Transport.self) } ?? .do53
        let address = m["address"].flatMap { socketAddress($0, what: "target address", defaultPort: transport.defaultPort) }
        let tlsName = m["tls_name"].flatMap { string($0, what: "tls_name") }
        if tlsName != nil, transport == .do53, let n = m["tls_name"] {
            diagnostics.error(n.line, "tls_name needs transport dot or doh")
        }
        let weight = m["weight"].flatMap { integer($0, what: "weight", range: 1...65_535) } ?? 1
        let priority = m["priority"].flatMap { integer($0, what: "priority", range: 0...255) } ?? 0
        guard let address else { return nil }
        return TargetConfig(line: node.line, spec: TargetSpec(address: address, transport: transport, tlsName: tlsName,
                                                              weight: weight, priority: priority))
    }

    mutating func readHealthCheck(_ node: YAMLNode) -> HealthCheckSpec? {
        guard let m = mapping(node, what: "health_check",
                              allowed: ["interval", "timeout", "query", "fall", "rise", "healthy_rcodes"]) else {
            return nil
        }
        var spec = HealthCheckSpec()
        if let n = m["interval"], let d = duration(n, what: "interval") {
            if d.milliseconds < 100 { diagnostics.error(n.line, "interval must be at least 100ms") }
            spec.intervalMilliseconds = d.milliseconds
        }
        if let n = m["timeout"], let d = duration(n, what: "timeout") {
            if d.milliseconds < 1 { diagnostics.error(n.line, "timeout must be more than 0") }
            spec.timeoutMilliseconds = d.milliseconds
        }
        if spec.timeoutMilliseconds > spec.intervalMilliseconds {
            diagnostics.error(m.keyLine("timeout"), "health_check timeout (\(ConfigDuration(milliseconds: spec.timeoutMilliseconds))) must not exceed its interval (\(ConfigDuration(milliseconds: spec.intervalMilliseconds)))")
        }
        if let n = m["fall"], let v = integer(n, what: "fall", range: 1...100) { spec.fall = v }
        if let n = m["rise"], let v = integer(n, what: "rise", range: 1...100) { spec.rise = v }
        if let n = m["healthy_rcodes"], let codes = list(n, what: "healthy_rcodes", { r, item -> UInt16? in
            guard let text = r.string(item, what: "rcode") else { return nil }
            guard let code = RCode(text), code.rawValue < 16 else {
                r.diagnostics.error(item.line, "'\(text)' is not an RCODE a health check can see (e.g. NOERROR, NXDOMAIN, SERVFAIL, REFUSED)")
                return nil
            }
            return code.rawValue
        }) {
            if codes.isEmpty { diagnostics.error(n.line, "healthy_rcodes must name at least one RCODE") }
            spec.healthyRCodes = codes.reduce(0) { $0 | 1 << $1 }
        }
        if let n = m["query"], let q = mapping(n, what: "health_check query", allowed: ["name", "type"], required: ["name"]) {
            let name = q["name"].flatMap { domain($0, what: "health_check query name") }
            var type = RecordType.soa
            if let t = q["type"], let s = string(t, what: "health_check query type") {
                if let parsed = RecordType(s) { type = parsed } else {
                    diagnostics.error(t.line, "'\(s)' is not a record type (write e.g. SOA, A, TYPE65)")
                }
            }
            if let name { spec.query = Question(name: name, type: type) }
        }
        return spec
    }

    mutating func readRetry(_ node: YAMLNode) -> RetrySpec? {
        guard let m = mapping(node, what: "retry", allowed: ["tries", "budget", "min_try_timeout", "max_try_timeout"]) else {
            return nil
        }
        var r = RetrySpec()
        if let n = m["tries"], let v = integer(n, what: "tries", range: 1...10) { r.tries = v }
        if let n = m["budget"], let d = duration(n, what: "budget") { r.budgetMilliseconds = d.milliseconds }
        if let n = m["min_try_timeout"], let d = duration(n, what: "min_try_timeout") { r.minTryTimeoutMilliseconds = d.milliseconds }
        if let n = m["max_try_timeout"], let d = duration(n, what: "max_try_timeout") { r.maxTryTimeoutMilliseconds = d.milliseconds }
        if r.minTryTimeoutMilliseconds < 10 {
            diagnostics.error(m.keyLine("min_try_timeout"), "min_try_timeout must be at least 10ms")
        }
        if r.minTryTimeoutMilliseconds > r.maxTryTimeoutMilliseconds {
            diagnostics.error(m.keyLine("min_try_timeout"), "min_try_timeout (\(ConfigDuration(milliseconds: r.minTryTimeoutMilliseconds))) is larger than max_try_timeout (\(ConfigDuration(milliseconds: r.maxTryTimeoutMilliseconds)))")
        }
        if r.budgetMilliseconds < r.minTryTimeoutMilliseconds {
            diagnostics.error(m.keyLine("budget"), "budget (\(ConfigDuration(milliseconds: r.budgetMilliseconds))) leaves no time for one try")
        }
        return r
    }

    mutating func readRule(_ node: YAMLNode) -> RuleConfig? {
        guard let m = mapping(node, what: "rule", allowed: ["name", "domain", "action", "pool", "endpoints"],
                              required: ["name", "domain", "action"]) else { return nil }
        let name = m["name"].flatMap { string($0, what: "rule name") }
        let suffix = m["domain"].flatMap { self.domain($0, what: "domain") }
        let action = m["action"].flatMap { choice($0, what: "action", as: RuleActionName.self) }
        let pool = m["pool"].flatMap { n in string(n, what: "pool").map { Located(value: $0, line: n.line) } }
        if action == .forward, m["pool"] == nil {
            diagnostics.error(node.line, "rule '\(name ?? "?")' forwards but names no pool")
        }
        if action == .system, m["pool"] != nil {
            diagnostics.error(m.keyLine("pool"), "rule '\(name ?? "?")' is a system rule: it uses the endpoint's system_pool, so drop 'pool'")
        }
        let endpoints = m["endpoints"].flatMap { n in
            list(n, what: "endpoints") { r, item in r.string(item, what: "endpoint name").map { Located(value: $0, line: item.line) } }
        }
        if let e = endpoints, e.isEmpty, let n = m["endpoints"] {
            diagnostics.error(n.line, "rule '\(name ?? "?")' names an empty endpoint list (omit 'endpoints' to apply it everywhere)")
        }
        guard let name, let suffix, let action else { return nil }
        return RuleConfig(line: node.line, name: name, domain: suffix, action: action, pool: pool, endpoints: endpoints)
    }

    mutating func readCache(_ node: YAMLNode) -> CacheConfig? {
        guard let m = mapping(node, what: "cache", allowed: ["max_entries", "max_ttl", "min_ttl", "negative_max_ttl",
                                                             "servfail_ttl", "prefetch", "serve_stale"]) else { return nil }
        var c = CacheConfig()
        if let n = m["max_entries"], let v = integer(n, what: "max_entries", range: 1...100_000_000) { c.maxEntries = v }
        if let n = m["max_ttl"], let v = duration(n, what: "max_ttl") { c.maxTTL = v }
        if let n = m["min_ttl"], let v = duration(n, what: "min_ttl") { c.minTTL = v }
        if let n = m["negative_max_ttl"], let v = duration(n, what: "negative_max_ttl") { c.negativeMaxTTL = v }
        if let n = m["servfail_ttl"], let v = duration(n, what: "servfail_ttl") { c.servfailTTL = v }
        if let n = m["prefetch"], let v = bool(n, what: "prefetch") { c.prefetch = v }
        if let n = m["serve_stale"], let v = duration(n, what: "serve_stale") { c.serveStale = v }
        if c.minTTL.milliseconds > c.maxTTL.milliseconds {
            diagnostics.error(m.keyLine("min_ttl"), "min_ttl (\(c.minTTL)) is larger than max_ttl (\(c.maxTTL))")
        }
        return c
    }

    mutating func readTCP(_ node: YAMLNode) -> TCPConfig? {
        guard let m = mapping(node, what: "tcp", allowed: ["idle_timeout", "max_connections"]) else { return nil }
        var t = TCPConfig()
        if let n = m["idle_timeout"], let d = duration(n, what: "idle_timeout") {
            if d.milliseconds < 100 { diagnostics.error(n.line, "idle_timeout must be at least 100ms") } else { t.idleTimeout = d }
        }
        if let n = m["max_connections"], let v = integer(n, what: "max_connections", range: 1...1_000_000) { t.maxConnections = v }
        return t
    }

    mutating func readControl(_ node: YAMLNode) -> ControlConfig? {
        guard let m = mapping(node, what: "control", allowed: ["listen", "tokens_file", "audit_log"]) else { return nil }
        var c = ControlConfig()
        if let n = m["listen"], let a = socketAddress(n, what: "control listen", defaultPort: 8053) { c.listen = a }
        c.tokensFile = m["tokens_file"].flatMap { string($0, what: "tokens_file") }
        c.auditLog = m["audit_log"].flatMap { string($0, what: "audit_log") }
        return c
    }

    mutating func readQueryLog(_ node: YAMLNode) -> QueryLogConfig? {
        guard let m = mapping(node, what: "query_log", allowed: ["path", "sample"], required: ["path"]) else { return nil }
        guard let path = m["path"].flatMap({ string($0, what: "query_log path") }) else { return nil }
        var q = QueryLogConfig(path: path)
        if let n = m["sample"] {
            if case .scalar(let s, true) = n.value, let v = Double(s), v > 0, v <= 1 {
                q.sample = v
            } else {
                diagnostics.error(n.line, "sample must be a fraction above 0 and at most 1 (e.g. 0.1), found \(describe(n))")
            }
        }
        return q
    }
}
