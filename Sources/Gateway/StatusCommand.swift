/// `dnsbridge status [--socket PATH] [--config PATH] [--json]`: the running gateway's endpoints,
/// pools, targets with health and RTT, and counters.
enum StatusCommand {
    static let help = """
    usage: dnsbridge status [--socket PATH] [--config PATH] [--json]

    Ask the running gateway, over its local status socket, for its endpoints, pools, each
    target's health (up, suspect, down), probe RTT, smoothed RTT, queries outstanding and
    tries by outcome, and its counters.

    options:
      --socket PATH   the status socket (default: status_socket from the configuration,
                      else \(GatewayConfig.defaultStatusSocket))
      --config PATH   the configuration to read status_socket from (default \(ConfigLoader.defaultPath))
      --json          print the report as JSON

    exit status: 0 reported, 1 no gateway answered, 2 usage error
    """

    static func run(_ words: [String]) throws(Arguments.UsageError) -> Int32 {
        let args = try Arguments(words, valued: ["socket", "config"], switches: ["json"])
        if args.flags.contains("help") { Output.out(help); return 0 }
        guard args.positional.isEmpty else { throw Arguments.UsageError(description: "status takes no arguments besides options") }
        let socket = args.values["socket"] ?? socketPath(config: args.values["config"] ?? ConfigLoader.defaultPath)
        switch StatusServer.fetch(path: socket) {
        case .failure(let error):
            Output.err("dnsbridge status: no gateway answered on \(socket): \(error.reason)")
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
