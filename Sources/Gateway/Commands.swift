/// Dispatches the command word to its command and turns every failure into one line on stderr
/// and an exit status: 0 success, 1 the command's own failure (a bad config, say), 2 misuse.
enum Commands {
    static let usage = """
    usage: dnsbridge COMMAND [OPTIONS]

    A self-hosted hybrid-cloud DNS forwarding gateway.

    commands:
      run [--config PATH]        run the gateway in the foreground (SIGHUP reloads, SIGTERM drains and exits)
      check [--config PATH]      validate the configuration; print every problem as PATH:LINE: message
      explain NAME [TYPE] [--endpoint NAME] [--config PATH] [--json]
                                 show which rule, pool and targets would handle NAME, and why
      status [--control ADDR | --socket PATH] [--json]
                                 the running gateway's pools, target health and RTT, counters
      cache flush [NAME]         drop the running gateway's cached answers (all, or NAME and below)
      isolation plan|apply|verify|flush [--config PATH]
                                 print, program, check for drift or remove the nftables table of
                                 security groups and NACLs
      version                    print the version and the linked library versions
      help [COMMAND]             show this help, or a command's

    The configuration defaults to \(ConfigLoader.defaultPath).
    Run 'dnsbridge COMMAND --help' for a command's options.
    """

    static func run(_ argv: [String]) -> Int32 {
        guard let command = argv.first else {
            Output.err(usage)
            return 2
        }
        let rest = Array(argv.dropFirst())
        do {
            switch command {
            case "run": return try RunCommand.run(rest)
            case "check": return try CheckCommand.run(rest)
            case "explain": return try ExplainCommand.run(rest)
            case "status": return try StatusCommand.run(rest)
            case "cache": return try CacheCommand.run(rest)
            case "isolation": return try IsolationCommand.run(rest)
            case "version", "--version": return try VersionCommand.run(rest)
            case "help", "--help", "-h":
                if let topic = rest.first, let text = help(for: topic) { Output.out(text) } else { Output.out(usage) }
                return 0
            default:
                Output.err("dnsbridge: unknown command '\(command)'; run 'dnsbridge --help' for the list")
                return 2
            }
        } catch {
            Output.err("dnsbridge \(command): \(error); run 'dnsbridge \(command) --help'")
            return 2
        }
    }

    static func help(for command: String) -> String? {
        switch command {
        case "run": return RunCommand.help
        case "check": return CheckCommand.help
        case "explain": return ExplainCommand.help
        case "status": return StatusCommand.help
        case "cache": return CacheCommand.help
        case "isolation": return IsolationCommand.help
        case "version": return VersionCommand.help
        default: return nil
        }
    }
}
