import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Every state-changing control call, one JSON object per line: time, token name, client
/// address, action, parameters, result. Appended to `control.audit_log`, or to the gateway's log
/// when none is configured.
final class AuditLog: Sendable {
    struct Entry: Codable {
        var time: String
        var token: String?
        var client: String
        var action: String
        var parameters: [String: String]
        var result: String

        /// `token` is written as null when the call carried none, so every line has every field.
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(time, forKey: .time)
            try c.encode(token, forKey: .token)
            try c.encode(client, forKey: .client)
            try c.encode(action, forKey: .action)
            try c.encode(parameters, forKey: .parameters)
            try c.encode(result, forKey: .result)
        }
    }

    private let fd: Int32?
    private let lock = Mutex(())

    init(path: String?) throws(FileReadError) {
        guard let path else { fd = nil; return }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileReadError(path: path, reason: String(cString: strerror(errno))) }
        self.fd = fd
    }

    deinit { if let fd { close(fd) } }

    func append(_ entry: Entry) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(entry) else { return }
        let line = String(decoding: data, as: UTF8.self)
        guard let fd else { Log.info("audit: \(line)"); return }
        lock.withLock { _ in
            var bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
        }
    }
}
