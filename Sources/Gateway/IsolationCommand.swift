import NetIsolation

/// `dnsbridge isolation plan|apply|flush [--config PATH]`: the nftables table the configuration
/// compiles to, printed, programmed through netlink, or removed.
enum IsolationCommand {
    static let help = """
    usage: dnsbridge isolation plan|apply|flush [--config PATH]

    The security groups and NACLs of the configuration as one nftables table, inet dnsbridge.

      plan    print the table in nft syntax (with the commands that replace it, so that
              `nft -f` loads the same ruleset as apply)
      apply   replace the table in the kernel in one netlink transaction; if the kernel
              rejects any part, the previous table stays in force
      flush   remove the table

    options:
      --config PATH   the configuration (default \(ConfigLoader.defaultPath))

    apply and flush need CAP_NET_ADMIN.
    exit status: 0 done, 1 bad configuration or the kernel refused, 2 usage error
    """

    enum Action: String { case plan, apply, flush }

    static func run(_ words: [String]) throws(Arguments.UsageError) -> Int32 {
        let args = try Arguments(words, valued: ["config"], switches: [])
        if args.flags.contains("help") { Output.out(help); return 0 }
        guard args.positional.count == 1, let action = Action(rawValue: args.positional[0]) else {
            throw Arguments.UsageError(description: "say what to do: plan, apply or flush")
        }
        if action == .flush {
            return report(NetlinkTable.flush(), done: "removed table inet dnsbridge (if it was there)")
        }
        let path = args.values["config"] ?? ConfigLoader.defaultPath
        guard let loaded = ConfigLoader.loadOrReport(path: path) else { return 1 }
        for w in loaded.warnings { Output.err(w.formatted(path: path)) }
        let ruleset = loaded.config.ruleset
        switch action {
        case .plan:
            Output.out(String(NFTSyntax.script(ruleset).dropLast()))
            return 0
        case .apply:
            let rules = ruleset.chains.reduce(0) { $0 + $1.rules.count }
            return report(NetlinkTable.replace(with: ruleset),
                          done: "applied table inet dnsbridge: \(ruleset.chains.count) chains, \(ruleset.sets.count) sets, \(rules) rules")
        case .flush:
            return 0
        }
    }

    private static func report(_ result: Result<Void, NetlinkError>, done: String) -> Int32 {
        switch result {
        case .success:
            Output.out(done)
            return 0
        case .failure(let error):
            Output.err("dnsbridge isolation: \(error)")
            return 1
        }
    }
}
