import Addressing
import FoundationEssentials

/// `dnsbridge status [--control ADDR [--token-file PATH] | --socket PATH] [--config PATH] [--json]`:
/// the running gateway's endpoints, pools, targets with health and RTT, and counters.
enum StatusCommand {
    static let help = """
    usage: dnsbridge status [--control ADDR [--token-file PATH] | --socket PATH] [--config PATH] [--json]

    Ask the running gateway for its endpoints, pools, each target's health (up, suspect,
    down, drained), probe RTT, smoothed RTT, queries outstanding and tries by outcome, and
    its counters: over its control listener with --control, else over its local status
    socket.

    options:
      --control ADDR  the control listener, ip:port (GET /v1/status); the token, if the
                      gateway has a tokens_file, from --token-file or $DNSBRIDGE_TOKEN
      --token-file PATH
                      a file holding the bearer token (keep it mode 600)
      --socket PATH   the status socket (default: status_socket from the configuration,
                      else \(GatewayConfig.defaultStatusSocket))
      --config PATH   the configuration to read status_socket from (default \(ConfigLoader.defaultPath))
      --json          print the report as JSON

    exit status: 0 reported, 1 no gateway answered, 2 usage error
    """

    static func run(_ words: [String]) throws(Arguments.UsageError) -> Int32 {
        let args = try Arguments(words, valued: ["socket", "config", "control", "token-file"], switches: ["json"])
        if args.flags.contains("help") { Output.out(help); return 0 }
        guard args.positional.isEmpty else { throw Arguments.UsageError(description: "status takes no arguments besides options") }
        let fetched: Result<StatusReport, ControlClient.Failure>
        if let control = args.values["control"] {
            guard args.values["socket"] == nil else { throw Arguments.UsageError(description: "give --control or --socket, not both") }
            guard let address = try? SocketAddress(parsing: control, defaultPort: 8053) else {
                throw Arguments.UsageError(description: "'\(control)' is not an address (ip:port, or [ipv6]:port)")
            }
            fetched = fetchOverControl(address, tokenFile: args.values["token-file"])
        } else {
            let socket = args.values["socket"] ?? socketPath(config: args.values["config"] ?? ConfigLoader.defaultPath)
            fetched = StatusServer.fetch(path: socket).mapError {
                ControlClient.Failure(description: "no gateway answered on \(socket): \($0.reason)")
            }
        }
        switch fetched {
        case .failure(let error):
            Output.err("dnsbridge status: \(error)")
            return 1
        case .success(let report):
            if args.flags.contains("json") {
                Output.out(JSONText.pretty(report))
            } else {
                Output.out(render(report))
            }
            return 0
        }
    }

    static func fetchOverControl(_ address: SocketAddress, tokenFile: String?) -> Result<StatusReport, ControlClient.Failure> {
        let token: String?
        switch ControlClient.token(file: tokenFile) {
        case .failure(let e): return .failure(e)
        case .success(let t): token = t
        }
        switch ControlClient.get("/v1/status", from: address, token: token) {
        case .failure(let e):
            return .failure(ControlClient.Failure(description: "no control listener answered on \(address): \(e)"))
        case .success(let (status, body)):
            guard status == 200 else {
                let why = (try? JSONDecoder().decode([String: String].self, from: Data(body)))?["error"] ?? "HTTP \(status)"
                return .failure(ControlClient.Failure(description: "the control listener on \(address) answered \(status): \(why)"))
            }
            guard let report = try? JSONDecoder().decode(StatusReport.self, from: Data(body)) else {
                return .failure(ControlClient.Failure(description: "the control listener on \(address) sent something other than a status report"))
            }
            return .success(report)
        }
    }

    /// The configured status socket, or the default when the file cannot be read.
    static func socketPath(config: String) -> String {
        if case .success(let loaded) = ConfigLoader.load(path: config) { return loaded.config.statusSocket }
        return GatewayConfig.defaultStatusSocket
    }

    static func render(_ r: StatusReport) -> String {
        var out = ["dnsbridge \(r.version), up \(format(r.uptime_seconds)) s, \(r.workers) workers, configuration generation \(r.config_generation) (\(r.config_path))"]
        for e in r.endpoints {
            out.append("endpoint \(e.name) (\(e.direction)) on \(e.addresses.joined(separator: ", "))")
        }
        let outcomeNames = ["answered", "servfail", "refused", "timeout", "network_error", "malformed", "truncated"]
        for p in r.pools {
            out.append("")
            out.append("pool \(p.name) (\(p.policy))")
            var rows = [["TARGET", "STATE", "PRIO", "PROBE RTT", "SRTT", "OUT"] + outcomeNames.map { $0.uppercased() }]
            for t in p.targets {
                rows.append([t.address, t.drained ? "\(t.state),drained" : t.state, "\(t.priority)", t.probe_rtt_ms.map { "\(format($0)) ms" } ?? "-",
                             t.srtt_ms.map { "\(format($0)) ms" } ?? "-", "\(t.outstanding)"]
                            + outcomeNames.map { "\(t.outcomes[$0] ?? 0)" })
            }
            out.append(contentsOf: table(rows).map { "  " + $0 })
        }
        out.append("")
        out.append("counters: " + r.counters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        return out.joined(separator: "\n")
    }

    static func table(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $0.element + String(repeating: " ", count: widths[$0.offset] - $0.element.count) }
                .joined(separator: "  ").trimmingTrailingSpaces()
        }
    }

    static func format(_ v: Double) -> String {
        let scaled = (v * 100).rounded() / 100
        return String(scaled)
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
