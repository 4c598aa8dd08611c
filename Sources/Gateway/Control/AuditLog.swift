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

    /// RFC 3339 in UTC, to the millisecond.
    static func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return rfc3339(nanos: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }

    static func rfc3339(nanos: UInt64) -> String {
        let ts = timespec(tv_sec: Int(nanos / 1_000_000_000), tv_nsec: Int(nanos % 1_000_000_000))
        var t = ts.tv_sec
        var tm = tm()
        gmtime_r(&t, &tm)
        func pad(_ v: Int32, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(Int32(ts.tv_nsec / 1_000_000), 3))Z"
    }
}
