/// Gateway owns the `dnsbridge` executable: commands, the configuration file, and (as later
/// issues land) listeners, signals and the control API. It is the only module that reads files,
/// parses YAML or talks to the terminal; the modules below it must never import it.
#if canImport(Glibc)
import Glibc
#endif

let status = Commands.run(Array(CommandLine.arguments.dropFirst()))
exit(status)
