import DNSWire

/// `dnsbridge cache flush [NAME] [--socket PATH] [--config PATH]`: empties the running
/// gateway's cache, or the entries at and below NAME.
enum CacheCommand {
    static let help = """
    usage: dnsbridge cache flush [NAME] [--socket PATH] [--config PATH]

    Drop cached answers in the running gateway: all of them, or those for NAME and every
    name below it. Asks over the status socket (see `dnsbridge status`).

    options:
      --socket PATH   the status socket (default: status_socket from the configuration)
      --config PATH   the configuration to read status_socket from (default \(ConfigLoader.defaultPath))

    exit status: 0 flushed, 1 no gateway answered, 2 usage error
    """

    static func run(_ words: [String]) throws(Arguments.UsageError) -> Int32 {
        let args = try Arguments(words, valued: ["socket", "config"], switches: [])
        if args.flags.contains("help") { Output.out(help); return 0 }
        guard args.positional.first == "flush", args.positional.count <= 2 else {
            throw Arguments.UsageError(description: "the cache command is `cache flush [NAME]`")
        }
        var request = "flush"
        if args.positional.count == 2 {
            let name = args.positional[1]
            guard (try? DNSName(name)) != nil else {
                throw Arguments.UsageError(description: "'\(name)' is not a domain name")
            }
            request += " " + name
        }
        let socket = args.values["socket"] ?? StatusCommand.socketPath(config: args.values["config"] ?? ConfigLoader.defaultPath)
        switch StatusServer.exchange(path: socket, request: request, as: FlushReport.self) {
        case .failure(let error):
            Output.err("dnsbridge cache: no gateway answered on \(socket): \(error.reason)")
            return 1
        case .success(let report):
            let what = report.name.map { "at and below \($0)" } ?? "all entries"
            if let n = report.dropped {
                Output.out("flushed \(what): \(n) entries dropped")
            } else {
                Output.out("flush of \(what) requested; not every worker answered in time")
            }
            return 0
        }
    }
}

