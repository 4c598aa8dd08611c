/// `dnsbridge check [--config PATH]`: exit 0 when the file is valid (warnings printed), else 1
/// with every problem as `PATH:LINE: message`.
enum CheckCommand {
    static let help = """
    usage: dnsbridge check [--config PATH | PATH]

    Validate the configuration file and print every problem, one per line, as
    PATH:LINE: message. Warnings (features not built yet, unused pools) are printed
    as PATH:LINE: warning: message and do not fail the check.

    options:
      --config PATH   the file to check (default \(ConfigLoader.defaultPath))

    exit status: 0 valid, 1 invalid or unreadable, 2 usage error
    """

    static func run(_ words: [String]) throws(Arguments.UsageError) -> Int32 {
        let args = try Arguments(words, valued: ["config"], switches: [])
        if args.flags.contains("help") { Output.out(help); return 0 }
        guard args.positional.count <= 1, !(args.positional.count == 1 && args.values["config"] != nil) else {
            throw Arguments.UsageError(description: "give the file once, as --config PATH or as PATH")
        }
        let path = args.values["config"] ?? args.positional.first ?? ConfigLoader.defaultPath
        switch ConfigLoader.load(path: path) {
        case .success(let loaded):
            for w in loaded.warnings { Output.err(w.formatted(path: path)) }
            let c = loaded.config
            Output.out("\(path): ok: \(c.endpoints.count) endpoints, \(c.pools.count) pools, \(c.rules.count) rules")
            return 0
        case .failure(let error):
            for line in error.lines { Output.err(line) }
            let count = error.diagnostics.filter { $0.severity == .error }.count
            Output.err("\(path): \(count) \(count == 1 ? "error" : "errors")")
            return 1
        }
    }
}
