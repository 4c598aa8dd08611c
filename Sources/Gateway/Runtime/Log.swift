/// Log lines on stderr, which systemd's journal collects: `LEVEL: message`, one line each.
/// The data path never logs per query; it counts.
enum Log {
    static func info(_ message: String) { Output.err("info: \(message)") }
    static func warning(_ message: String) { Output.err("warning: \(message)") }
    static func error(_ message: String) { Output.err("error: \(message)") }
}
