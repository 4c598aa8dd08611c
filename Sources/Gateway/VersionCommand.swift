import CBuildInfo
import CYAML

/// `dnsbridge version`: what was built and what it is linked against.
enum VersionCommand {
    /// From the VERSION file, through Package.swift; the Debian package takes the same file.
    static let version = String(cString: dnsb_build_version()).filter { !$0.isWhitespace }

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
