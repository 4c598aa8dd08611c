import DNSWire
import Forwarder
import NetIsolation
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// What each control call does, who may make it, and what the audit log records of it.
enum ControlRoutes {
    static func respond(to r: ControlServer.Request, server: ControlServer) -> ControlServer.Response {
        guard let call = Call(path: r.path) else { return .error(404, "no such call: \(r.method) \(r.path)") }
        guard r.method == call.method else { return .error(405, "\(r.method) is not allowed on \(r.path); use \(call.method)") }
        let changes = call.changesState
        if let refusal = authorize(r, changes: changes, tokensConfigured: server.tokens != nil) {
            if changes { audit(server, r, parameters: [:], result: "refused: \(refusal.status)") }
            return refusal
        }
        switch call {
        case .metrics:
            let (rejected, isolated) = server.view.state.withLock { ($0.reloadsRejected, $0.isolationEnabled) }
            let report = server.view.report()
            // Read from the kernel on each scrape; a failure leaves the family out rather than the scrape.
            let counters = isolated ? try? NetlinkTable.counters().get() : nil
            let log = server.view.queryLog.map { (lines: $0.written.load(ordering: .relaxed), dropped: $0.dropped) }
            let text = Metrics.render(report, reloads: (ok: report.config_generation - 1, rejected: rejected),
                                      isolation: counters, queryLog: log)
            return ControlServer.Response(status: 200, contentType: "text/plain; version=0.0.4", body: text)
        case .status:
            return .json(200, server.view.report())
        case .explain:
            return explain(r, server)
        case .flush:
            return flush(r, server)
        case .reload:
            return reload(r, server)
        case .drain(let pool, let target, let on):
            return drain(r, server, pool: pool, target: target, on: on)
        }
    }

    /// The calls, parsed from the path.
    enum Call: Equatable {
        case metrics, status, explain, reload, flush
        case drain(pool: String, target: String, on: Bool)

        init?(path: String) {
            switch path {
            case "/metrics": self = .metrics
            case "/v1/status": self = .status
            case "/v1/explain": self = .explain
            case "/v1/reload": self = .reload
            case "/v1/cache/flush": self = .flush
            default:
                // /v1/targets/{pool}/{target}/drain or /undrain; the target as in the
                // configuration, `198.18.1.53:53` or `[2001:db8::53]:53`.
                let parts = path.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count == 6, parts[0].isEmpty, parts[1] == "v1", parts[2] == "targets",
                      parts[5] == "drain" || parts[5] == "undrain" else { return nil }
                self = .drain(pool: String(parts[3]), target: String(parts[4]), on: parts[5] == "drain")
            }
        }

        var method: String { self == .metrics || self == .status ? "GET" : "POST" }
        /// Explain is a POST for its body, but reads only.
        var changesState: Bool { method == "POST" && self != .explain }
    }

    /// nil when the request may proceed; else the 401 or 403 to send.
    /// `r.token` is the token the request carried, already matched against the tokens file.
    static func authorize(_ r: ControlServer.Request, changes: Bool, tokensConfigured: Bool) -> ControlServer.Response? {
        guard tokensConfigured else {
            return changes ? .error(403, "state-changing calls need control.tokens_file with an admin token") : nil
        }
        guard let token = r.token else {
            var refusal = ControlServer.Response.error(401, r.authorization == nil ? "a bearer token is required" : "the bearer token is not valid")
            refusal.headers = [("WWW-Authenticate", "Bearer realm=\"dnsbridge\"")]
            return refusal
        }
        if changes && token.role != .admin { return .error(403, "token '\(token.name)' has role read; this call needs admin") }
        return nil
    }

    struct ExplainBody: Decodable {
        var name: String
        var type: String?
        var endpoint: String?
    }

    /// The answer `dnsbridge explain --json` gives, with the live health of the gateway itself.
    static func explain(_ r: ControlServer.Request, _ server: ControlServer) -> ControlServer.Response {
        guard let body = try? JSONDecoder().decode(ExplainBody.self, from: Data(r.body)) else {
            return .error(400, "the body must be JSON: {\"name\": \"www.example.com\", \"type\": \"A\", \"endpoint\": \"NAME\"} (type and endpoint optional)")
        }
        guard let name = try? DNSName(body.name) else { return .error(400, "'\(body.name)' is not a domain name") }
        var type = RecordType.a
        if let text = body.type {
            guard let t = RecordType(text) else { return .error(400, "'\(text)' is not a record type") }
            type = t
        }
        let table = server.view.state.withLock { $0.routing }
        var endpoints = Array(table.endpoints.indices)
        if let wanted = body.endpoint {
            guard let e = table.endpointIndex(named: wanted) else { return .error(404, "no endpoint named '\(wanted)'") }
            endpoints = [e]
        }
        let explanations = endpoints.map { table.explain(name, type: type, endpoint: $0) }
        let renderer = ExplainRenderer(table: table, live: server.view.report())
        return ControlServer.Response(status: 200, body: renderer.json(explanations) + "\n")
    }

    struct DrainResult: Encodable {
        var pool: String
        var target: String
        var drained: Bool
    }

    static func drain(_ r: ControlServer.Request, _ server: ControlServer, pool: String, target: String,
                      on: Bool) -> ControlServer.Response {
        let parameters = ["pool": pool, "target": target]
        guard let status = server.view.targetStatus(pool: pool, address: target) else {
            audit(server, r, parameters: parameters, result: "no such target")
            return .error(404, "pool '\(pool)' has no target \(target)")
        }
        status.setDrained(on)
        Log.info("target \(target) of pool \(pool) \(on ? "drained: it gets no queries until undrained" : "undrained: back in service")")
        audit(server, r, parameters: parameters, result: on ? "drained" : "undrained")
        return .json(200, DrainResult(pool: pool, target: target, drained: on))
    }

    struct FlushBody: Decodable { var name: String? }

    static func flush(_ r: ControlServer.Request, _ server: ControlServer) -> ControlServer.Response {
        var name: DNSName?
        if !r.body.isEmpty {
            guard let body = try? JSONDecoder().decode(FlushBody.self, from: Data(r.body)) else {
                return .error(400, "the body must be JSON: {\"name\": \"example.com\"} or nothing")
            }
            if let text = body.name {
                guard let n = try? DNSName(text) else { return .error(400, "'\(text)' is not a domain name") }
                name = n
            }
        }
        let report = server.view.flush(name)
        audit(server, r, parameters: name.map { ["name": $0.description] } ?? [:],
              result: report.dropped.map { "flushed \($0) entries" } ?? "flush requested; not every worker answered in time")
        return .json(200, report)
    }

    struct ReloadResult: Encodable {
        var result: String
        var config_generation: Int
    }

    /// Asks the main thread to reload, as SIGHUP does, and waits for its verdict.
    static func reload(_ r: ControlServer.Request, _ server: ControlServer) -> ControlServer.Response {
        let (generation, rejected) = server.view.state.withLock { ($0.generation, $0.reloadsRejected) }
        kill(getpid(), SIGHUP)
        for _ in 0..<200 {
            let now = server.view.state.withLock { ($0.generation, $0.reloadsRejected) }
            if now.0 != generation {
                audit(server, r, parameters: [:], result: "reloaded: generation \(now.0)")
                return .json(200, ReloadResult(result: "reloaded", config_generation: now.0))
            }
            if now.1 != rejected {
                audit(server, r, parameters: [:], result: "rejected")
                return .json(409, ReloadResult(result: "rejected: the previous configuration stays in force; see the gateway's log",
                                               config_generation: now.0))
            }
            usleep(50_000)
        }
        audit(server, r, parameters: [:], result: "requested; no verdict within 10 s")
        return .json(202, ReloadResult(result: "requested", config_generation: generation))
    }

    static func audit(_ server: ControlServer, _ r: ControlServer.Request, parameters: [String: String], result: String) {
        server.audit.append(AuditLog.Entry(time: RFC3339.now(), token: r.token?.name, client: r.client,
                                           action: "\(r.method) \(r.path)", parameters: parameters, result: result))
    }
}
