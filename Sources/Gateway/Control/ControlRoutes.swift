import DNSWire
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// What each control call does, who may make it, and what the audit log records of it.
enum ControlRoutes {
    static func respond(to r: ControlServer.Request, server: ControlServer) -> ControlServer.Response {
        let route = (r.method, r.path)
        let changes: Bool
        switch route {
        case ("GET", "/metrics"), ("GET", "/v1/status"): changes = false
        case ("POST", "/v1/reload"), ("POST", "/v1/cache/flush"): changes = true
        case (_, "/metrics"), (_, "/v1/status"), (_, "/v1/reload"), (_, "/v1/cache/flush"):
            return .error(405, "\(r.method) is not allowed on \(r.path)")
        default:
            return .error(404, "no such call: \(r.method) \(r.path)")
        }
        if let refusal = authorize(r, changes: changes, tokens: server.tokens) {
            if changes { audit(server, r, parameters: [:], result: "refused: \(refusal.status)") }
            return refusal
        }
        switch route {
        case ("GET", "/metrics"):
            let rejected = server.view.state.withLock { $0.reloadsRejected }
            let report = server.view.report()
            let text = Metrics.render(report, reloads: (ok: report.config_generation - 1, rejected: rejected))
            return ControlServer.Response(status: 200, contentType: "text/plain; version=0.0.4", body: text)
        case ("GET", "/v1/status"):
            return .json(200, server.view.report())
        case ("POST", "/v1/cache/flush"):
            return flush(r, server)
        default:
            return reload(r, server)
        }
    }

    /// nil when the request may proceed; else the 401 or 403 to send.
    static func authorize(_ r: ControlServer.Request, changes: Bool, tokens: Tokens?) -> ControlServer.Response? {
        guard let tokens else {
            return changes ? .error(403, "state-changing calls need control.tokens_file with an admin token") : nil
        }
        guard let token = r.token else {
            var refusal = ControlServer.Response.error(401, r.authorization == nil ? "a bearer token is required" : "the bearer token is not valid")
            refusal.headers = [("WWW-Authenticate", "Bearer realm=\"dnsbridge\"")]
            _ = tokens
            return refusal
        }
        if changes && token.role != .admin { return .error(403, "token '\(token.name)' has role read; this call needs admin") }
        return nil
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
                var response = ControlServer.Response.json(409, ReloadResult(result: "rejected: the previous configuration stays in force; see the gateway's log", config_generation: now.0))
                response.status = 409
                return response
            }
            usleep(50_000)
        }
        audit(server, r, parameters: [:], result: "requested; no verdict within 10 s")
        return .json(202, ReloadResult(result: "requested", config_generation: generation))
    }

    static func audit(_ server: ControlServer, _ r: ControlServer.Request, parameters: [String: String], result: String) {
        server.audit.append(AuditLog.Entry(time: AuditLog.now(), token: r.token?.name, client: r.client,
                                           action: "\(r.method) \(r.path)", parameters: parameters, result: result))
    }
}
