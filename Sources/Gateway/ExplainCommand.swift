import DNSWire
import Forwarder

/// `dnsbridge explain NAME [TYPE] [--endpoint NAME] [--config PATH] [--json]`: the rule
/// evaluation preview, per endpoint.
enum ExplainCommand {
    static let help = """
    usage: dnsbridge explain NAME [TYPE] [--endpoint NAME] [--config PATH] [--json]

    Show, for each endpoint (or the one named), every suffix of NAME that was considered
    with the rules found there, the rule that wins (the most specific one that applies to
    the endpoint), its action, and the pool and targets that would answer — with each
    target's live health when a gateway runs with this configuration's status_socket.

    options:
      --endpoint NAME   explain for this endpoint only
      --config PATH     the configuration (default \(ConfigLoader.defaultPath))
      --json            print JSON instead of text

    TYPE defaults to A. Exit status: 0 explained, 1 bad configuration or unknown endpoint,
    2 usage error.
    """

    static func run(_ words: [String]) throws(Arguments.UsageError) -> Int32 {
        let args = try Arguments(words, valued: ["config", "endpoint"], switches: ["json"])
        if args.flags.contains("help") { Output.out(help); return 0 }
        guard (1...2).contains(args.positional.count) else {
            throw Arguments.UsageError(description: "give a NAME and optionally a TYPE")
        }
        let name: DNSName
        do { name = try DNSName(args.positional[0]) } catch {
            throw Arguments.UsageError(description: "'\(args.positional[0])' is not a domain name")
        }
        var type = RecordType.a
        if args.positional.count == 2 {
            guard let t = RecordType(args.positional[1]) else {
                throw Arguments.UsageError(description: "'\(args.positional[1])' is not a record type (e.g. A, AAAA, SOA, TYPE65)")
            }
            type = t
        }
        let path = args.values["config"] ?? ConfigLoader.defaultPath
        guard let loaded = ConfigLoader.loadOrReport(path: path) else { return 1 }
        let table = loaded.routing
        var endpoints = Array(table.endpoints.indices)
        if let wanted = args.values["endpoint"] {
            guard let e = table.endpointIndex(named: wanted) else {
                let known = table.endpoints.map(\.name).joined(separator: ", ")
                Output.err("dnsbridge explain: no endpoint named '\(wanted)' in \(path) (endpoints: \(known))")
                return 1
            }
            endpoints = [e]
        }
        let explanations = endpoints.map { table.explain(name, type: type, endpoint: $0) }
        let live = try? StatusServer.fetch(path: loaded.config.statusSocket).get()
        let renderer = ExplainRenderer(table: table, live: live)
        Output.out(args.flags.contains("json") ? renderer.json(explanations) : renderer.text(explanations))
        return 0
    }
}
