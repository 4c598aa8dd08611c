import NetIsolation

/// `dnsbridge isolation plan|apply|verify|flush [--config PATH]`: the nftables table the
/// configuration compiles to, printed, programmed through netlink, compared with the kernel's, or
/// removed.
enum IsolationCommand {
    static let help = """
    usage: dnsbridge isolation plan|apply|verify|flush [--config PATH]

    The security groups and NACLs of the configuration as one nftables table, inet dnsbridge.

      plan    print the table in nft syntax (with the commands that replace it, so that
              `nft -f` loads the same ruleset as apply)
      apply   replace the table in the kernel in one netlink transaction; if the kernel
              rejects any part, the previous table stays in force
      verify  read the live table back through netlink and report every difference from
              the plan (missing, extra or changed chains, rules and sets); exit 1 on drift
      flush   remove the table

    options:
      --config PATH   the configuration (default \(ConfigLoader.defaultPath))

    apply, verify and flush need CAP_NET_ADMIN.
    exit status: 0 done (verify: no drift), 1 bad configuration, the kernel refused, or
    drift, 2 usage error
    """

    enum Action: String { case plan, apply, verify, flush }

    static func run(_ words: [String]) throws(Arguments.UsageError) -> Int32 {
        let args = try Arguments(words, valued: ["config"], switches: [])
        if args.flags.contains("help") { Output.out(help); return 0 }
        guard args.positional.count == 1, let action = Action(rawValue: args.positional[0]) else {
            throw Arguments.UsageError(description: "say what to do: plan, apply, verify or flush")
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
        case .verify:
            switch NetlinkTable.verify(against: ruleset) {
            case .failure(let error):
                Output.err("dnsbridge isolation: \(error)")
                return 1
            case .success(let drift) where drift.isEmpty:
                let rules = ruleset.chains.reduce(0) { $0 + $1.rules.count }
                Output.out("no drift: table inet dnsbridge holds the planned \(ruleset.chains.count) chains, \(ruleset.sets.count) sets, \(rules) rules")
                return 0
            case .success(let drift):
                for d in drift { Output.out("drift: \(d)") }
                Output.err("dnsbridge isolation: the live table differs from the plan in \(drift.count) \(drift.count == 1 ? "place" : "places"); `dnsbridge isolation apply` restores it")
                return 1
            }
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
