import CYAML

/// `dnsbridge version`: what was built and what it is linked against.
enum VersionCommand {
    /// Bumped by hand until packaging derives it from `git describe`.
    static let version = "0.1.0"

    static let help = """
    usage: dnsbridge version

    Print the dnsbridge version and the versions of the C libraries it is linked against.
    """

    static func run(_ words: [String]) throws(Arguments.UsageError) -> Int32 {
        let args = try Arguments(words, valued: [], switches: [])
        if args.flags.contains("help") { Output.out(help); return 0 }
        guard args.positional.isEmpty else { throw Arguments.UsageError(description: "version takes no arguments") }
        Output.out("dnsbridge \(version)")
        Output.out("libyaml \(String(cString: yaml_get_version_string()))")
        return 0
    }
}
