import CNetShim
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The query log's own thread: drains every worker's ring fifty times a second, writes one JSON
/// object per line, and reopens the file when told to (SIGUSR1, after logrotate moved it).
final class QueryLogWriter: ThreadBody, @unchecked Sendable {
    let path: String
    let rings: [QueryLogRing]
    let view: GatewayView
    private var fd: Int32
    private let reopenWanted = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    let written = Atomic<UInt64>(0)

    struct OpenError: Error, CustomStringConvertible {
        var description: String
    }

    init(path: String, rings: [QueryLogRing], view: GatewayView) throws(OpenError) {
        self.path = path
        self.rings = rings
        self.view = view
        fd = Self.open(path)
        guard fd >= 0 else { throw OpenError(description: "query_log: cannot open \(path): \(String(cString: strerror(errno)))") }
    }

    private static func open(_ path: String) -> Int32 {
        Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
    }

    var dropped: UInt64 { rings.reduce(0) { $0 + $1.dropped.load(ordering: .relaxed) } }

    func reopen() { reopenWanted.store(true, ordering: .relaxed) }

    func stop() { stopping.store(true, ordering: .relaxed) }

    func run() {
        // The lowest priority there is: where the workers need every cycle, the log waits, its
        // rings fill, and records are dropped and counted — queries are never slowed for it.
        _ = dnsb_lower_thread_priority()
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20)
        while true {
            let last = stopping.load(ordering: .relaxed)
            if reopenWanted.exchange(false, ordering: .relaxed) {
                let fresh = Self.open(path)
                if fresh >= 0 {
                    close(fd)
                    fd = fresh
                    Log.info("query log reopened: \(path)")
                } else {
                    Log.error("query log: cannot reopen \(path): \(String(cString: strerror(errno))); still writing to the old file")
                }
            }
            drainOnce(&out)
            if last { break }
            usleep(20_000)
        }
        close(fd)
    }

    private func drainOnce(_ out: inout [UInt8]) {
        let table = view.state.withLock { $0.routing }
        out.removeAll(keepingCapacity: true)
        var lines: UInt64 = 0
        for ring in rings {
            ring.drain { record, answer in
                guard let line = QueryLogLine(record, answer: answer, table: table) else { return }
                line.write(into: &out)
                out.append(0x0A)
                lines += 1
            }
        }
        guard !out.isEmpty else { return }
        var done = 0
        while done < out.count {
            let n = out.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 { if errno == EINTR { continue }; break }
            done += n
        }
        written.wrappingAdd(lines, ordering: .relaxed)
    }
}
