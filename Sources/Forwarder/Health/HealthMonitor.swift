import Addressing
import CNetShim
import DNSWire
import EventIO
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Active health checking on a thread of its own: every target of every pool is probed with its
/// pool's question every `interval`; `fall` failures in a row take it down, `rise` good answers
/// bring it back. Workers report runs of failures seen in real traffic, which make the target
/// suspect and probe it at once. Results are published through `TargetStatus` atomics.
///
/// State is kept per `pool/address` key, so a reload keeps what was learned.
public final class HealthMonitor: EventHandler, @unchecked Sendable {
    static let probeTokenKind: UInt64 = 0x20
    static let dueTimerKind: UInt64 = 0x20
    static let timeoutTimerKind: UInt64 = 0x21

    public let loop: EventLoop
    private let log: @Sendable (String) -> Void
    /// Statuses by key, shared with the threads that install snapshots.
    private let registry = Mutex<[String: TargetStatus]>([:])
    private let mailbox = Mutex<[Command]>([])

    private enum Command: @unchecked Sendable {
        case install(RoutingTable, HealthBoard)
        case stop
    }

    private struct Probe {
        var status: TargetStatus
        var pool: String
        var poolIndex: Int
        var address: SocketAddress
        var policy: HealthPolicy
        var query: [UInt8]
        var questionInfo: PacketInfo
        var health: TargetHealth
        var fd: Int32 = -1
        var inFlight = false
        var sentAt: UInt64 = 0
        var generation: UInt32 = 0
        var active = true
    }

    private var probes: [Probe] = []
    private var byKey: [String: Int] = [:]
    private var poolsAllDown: Set<String> = []
    private var buffer = [UInt8](repeating: 0, count: 65_536)

    public init(log: @escaping @Sendable (String) -> Void) throws(SystemError) {
        loop = try EventLoop()
        self.log = log
    }

    /// Statuses for a new snapshot (existing ones kept by key); the monitor thread picks up the
    /// probe list on its next turn. Safe from any thread.
    public func board(for table: RoutingTable) -> HealthBoard {
        let statuses = registry.withLock { reg in
            table.pools.map { pool in
                pool.targets.map { t -> TargetStatus in
                    let key = "\(pool.name)/\(t.address)"
                    if let s = reg[key] { return s }
                    let s = TargetStatus(key: key)
                    reg[key] = s
                    return s
                }
            }
        }
        let loop = self.loop
        let board = HealthBoard(statuses: statuses, wake: { loop.wake() })
        mailbox.withLock { $0.append(.install(table, board)) }
        loop.wake()
        return board
    }

    public func stop() {
        mailbox.withLock { $0.append(.stop) }
        loop.wake()
    }

    /// The thread body.
    public func run() { loop.run(self) }

    // MARK: EventHandler

    public func handleWake() {
        let commands = mailbox.withLock { box -> [Command] in
            defer { box.removeAll() }
            return box
        }
        let now = monotonicNanos()
        for c in commands {
            switch c {
            case .install(let table, let board): install(table, board, now: now)
            case .stop: loop.stop()
            }
        }
        // Probe requests from workers.
        for i in probes.indices where probes[i].active && probes[i].status.takeProbeRequest() {
            if probes[i].health.trafficFailing(now: now) {
                probes[i].status.publish(probes[i].health, rtt: nil)
                log("target \(probes[i].address) of pool \(probes[i].pool) is suspect: failures in traffic; probing now")
                send(i, now: now)
            }
        }
    }

    public func handleEvent(token: UInt64, events: UInt32) {
        let i = Int(token & 0xFFFF_FFFF)
        guard i < probes.count, probes[i].fd >= 0 else { return }
        let now = monotonicNanos()
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(probes[i].fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                if errno == EINTR { continue }
                // ECONNREFUSED: the port is closed, an immediate failure.
                if probes[i].inFlight { finish(i, healthy: false, now: now, reason: "\(String(cString: strerror(errno)))") }
                return
            }
            guard probes[i].inFlight else { continue }
            let healthy: Bool? = buffer.withUnsafeBytes { raw in
                let p = UnsafeRawBufferPointer(rebasing: raw[0..<n])
                guard p.count >= 12, WireHeader.isResponse(p), case .success(let info) = PacketScan.scan(p) else { return nil }
                let matches = probes[i].query.withUnsafeBytes { q in
                    WireHeader.id(q) == WireHeader.id(p) && PacketScan.sameQuestion(q, probes[i].questionInfo, p, info)
                }
                guard matches else { return nil }
                return probes[i].policy.isHealthy(rcode: WireHeader.header(p).rcodeLow)
            }
            guard let healthy else { continue }  // not the answer to our probe
            let rcode = buffer.withUnsafeBytes { RCode(rawValue: UInt16(WireHeader.header($0).rcodeLow)) }
            finish(i, healthy: healthy, now: now, reason: "answered \(rcode)")
        }
    }

    public func handleTimer(id: UInt64, now: UInt64) {
        let i = Int(id & 0xFF_FFFF)
        let generation = UInt32(truncatingIfNeeded: (id >> 24) & 0xFFFF_FFFF)
        guard i < probes.count, probes[i].active, probes[i].generation == generation else { return }
        switch id >> 56 {
        case Self.dueTimerKind:
            send(i, now: now)
        case Self.timeoutTimerKind:
            if probes[i].inFlight { finish(i, healthy: false, now: now, reason: "timed out") }
        default:
            break
        }
    }

    public func turnEnded() {}

    // MARK: probing

    private func install(_ table: RoutingTable, _ board: HealthBoard, now: UInt64) {
        var keep = Set<String>()
        for (p, pool) in table.pools.enumerated() {
            let spec = pool.healthCheck ?? HealthCheckSpec()
            let policy = HealthPolicy(intervalNanos: UInt64(spec.intervalMilliseconds) * 1_000_000,
                                      timeoutNanos: UInt64(spec.timeoutMilliseconds) * 1_000_000,
                                      fall: spec.fall, rise: spec.rise, healthyRCodes: spec.healthyRCodes)
            let question = spec.query ?? Question(name: .root, type: .soa)
            for (t, target) in pool.targets.enumerated() where target.transport == .do53 {
                let status = board.statuses[p][t]
                keep.insert(status.key)
                var query = Message(header: Header(id: 0, flags: 0x0100), questions: [question])
                query.header.id = 0
                let bytes = (try? query.serialize()) ?? []
                let info = bytes.withUnsafeBytes { p -> PacketInfo? in
                    if case .success(let i) = PacketScan.scan(p) { return i }
                    return nil
                }
                guard let info else { continue }
                if let existing = byKey[status.key] {
                    let changed = probes[existing].policy != policy || probes[existing].query != bytes
                    probes[existing].policy = policy
                    probes[existing].query = bytes
                    probes[existing].questionInfo = info
                    probes[existing].poolIndex = p
                    if changed { schedule(existing, at: now) }
                    continue
                }
                let probe = Probe(status: status, pool: pool.name, poolIndex: p, address: target.address, policy: policy,
                                  query: bytes, questionInfo: info, health: TargetHealth(now: now))
                probes.append(probe)
                byKey[status.key] = probes.count - 1
                schedule(probes.count - 1, at: now)
            }
        }
        for i in probes.indices where probes[i].active && !keep.contains(probes[i].status.key) {
            probes[i].active = false
            probes[i].generation &+= 1
            if probes[i].fd >= 0 {
                loop.unregister(probes[i].fd)
                close(probes[i].fd)
                probes[i].fd = -1
            }
            byKey[probes[i].status.key] = nil
        }
    }

    private func schedule(_ i: Int, at deadline: UInt64) {
        probes[i].generation &+= 1
        loop.schedule(at: deadline, id: Self.dueTimerKind << 56 | UInt64(probes[i].generation) << 24 | UInt64(i))
    }

    private func send(_ i: Int, now: UInt64) {
        guard !probes[i].inFlight else { return }
        if probes[i].fd < 0 {
            guard let fd = try? Sockets.udpConnected(to: probes[i].address, from: nil),
                  (try? loop.register(fd, events: EventLoop.readable, token: Self.probeTokenKind << 56 | UInt64(i))) != nil else {
                finish(i, healthy: false, now: now, reason: "no socket")
                return
            }
            probes[i].fd = fd
        }
        let id = UInt16(truncatingIfNeeded: arc4random())
        probes[i].query.withUnsafeMutableBytes { WireHeader.setID($0, id) }
        let sent = probes[i].query.withUnsafeBytes { Glibc.send(probes[i].fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        probes[i].inFlight = true
        probes[i].sentAt = now
        probes[i].generation &+= 1
        if sent < 0 {
            finish(i, healthy: false, now: now, reason: String(cString: strerror(errno)))
            return
        }
        loop.schedule(at: now + probes[i].policy.timeoutNanos,
                      id: Self.timeoutTimerKind << 56 | UInt64(probes[i].generation) << 24 | UInt64(i))
    }

    private func finish(_ i: Int, healthy: Bool, now: UInt64, reason: String) {
        probes[i].inFlight = false
        let rtt = healthy ? now - probes[i].sentAt : nil
        let change = probes[i].health.probed(healthy: healthy, now: now, policy: probes[i].policy)
        probes[i].status.publish(probes[i].health, rtt: rtt)
        if let change {
            let p = probes[i]
            switch change {
            case .down: log("target \(p.address) of pool \(p.pool) is down: \(p.health.consecutiveFailures) failed probes, last \(reason)")
            case .up: log("target \(p.address) of pool \(p.pool) is up")
            case .suspect: break
            }
            logPoolTransitions(pool: p.pool)
        }
        schedule(i, at: probes[i].health.nextProbe)
    }

    /// Logs when a pool loses its last target and when it gets one back.
    private func logPoolTransitions(pool: String) {
        let members = probes.filter { $0.active && $0.pool == pool }
        let allDown = !members.isEmpty && members.allSatisfy { $0.health.state == .down }
        if allDown, !poolsAllDown.contains(pool) {
            poolsAllDown.insert(pool)
            log("pool \(pool): every target is down; queries still try them, most recently healthy first")
        } else if !allDown, poolsAllDown.contains(pool) {
            poolsAllDown.remove(pool)
            log("pool \(pool): a target is up again")
        }
    }
}
