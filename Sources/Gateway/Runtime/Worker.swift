import Addressing
import CNetShim
import DNSWire
import EventIO
import Forwarder
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Settings every worker shares, from the configuration.
struct RuntimeSettings: Sendable {
    var workers: Int
    var tcpIdleTimeoutNanos: UInt64
    /// Client TCP connections across all workers.
    var tcpMaxConnections: Int
    var exchange = ExchangeSettings()
    /// Per worker (the configured total divided among workers); nil without `cache:`.
    var cache: CacheSettings?
}

/// What the main thread asks of a worker, through its mailbox and a wake-up.
enum WorkerCommand: Sendable {
    /// Swap in a new routing snapshot and its health board (SIGHUP).
    case install(RoutingTable, HealthBoard)
    /// Stop accepting, answer what is in flight, then end the loop (SIGTERM).
    case drain
    /// Drop cached answers (all, or at and below a name) and report how many.
    case flushCache(DNSName?, FlushTicket)
}

/// Per-worker counters, written by the worker thread only: what a worker counts that belongs to no one endpoint; queries are counted per endpoint
/// (`EndpointCounters`) and summed for the totals.
struct WorkerCounters: Sendable {
    var tcpAccepted: UInt64 = 0
    var tcpRejectedAtLimit: UInt64 = 0
    var tcpIdleClosed: UInt64 = 0
    var udpSendErrors: UInt64 = 0
}

/// One data-plane thread: its own epoll loop, its own SO_REUSEPORT sockets on every endpoint
/// address, its own upstream exchange. Nothing on its path is shared with other workers except
/// the immutable routing snapshot.
final class Worker: EventHandler, AnswerSink, @unchecked Sendable {
    static let udpListenerKind: UInt64 = 0x01
    static let tcpListenerKind: UInt64 = 0x02
    static let tcpClientKind: UInt64 = 0x03
    static let idleTimerKind: UInt64 = 0x02
    static let drainTimerKind: UInt64 = 0x03
    static let publishTimerKind: UInt64 = 0x04

    let index: Int
    let loop: EventLoop
    let settings: RuntimeSettings
    private(set) var table: RoutingTable
    private var exchange: Exchange!
    let mailbox = Mutex<[WorkerCommand]>([])
    /// Counters and target views, copied out every second (and at exit) for `status`: readers
    /// never touch the worker's own state.
    let published = Mutex(WorkerSnapshot())

    private struct Listener {
        var fd: Int32
        var endpoint: Int
        var address: SocketAddress
    }
    private var udp: [Listener] = []
    private var tcpListeners: [Listener] = []
    private var clients: [TCPClient] = []
    private var freeClients: [Int32] = []
    private var openClients = 0
    private let maxClients: Int
    var counters = WorkerCounters()
    /// Per endpoint index (endpoints never change on reload).
    var endpointCounters: [EndpointCounters]
    /// Matches per rule of the table in force, by index; folded into `ruleTotals` by name when
    /// a reload installs another table, so published counts only ever grow.
    var ruleHits: [UInt64]
    var ruleTotals: [String: UInt64] = [:]
    /// The query log's ring, when `query_log:` is set, and the share of queries to log
    /// (`sample` × 2^64; the whole range for 1.0).
    var queryLog: QueryLogRing?
    var sampleThreshold: UInt64 = .max
    private var sampleState: UInt64 = UInt64(truncatingIfNeeded: arc4random()) | 1
    private var draining = false

    private static let batch = 64
    private static let queryCapacity = 4096
    private let receive: UnsafeMutablePointer<dnsb_datagram>
    private let receiveBuffers: UnsafeMutableRawPointer
    private var outboxes: [UDPOutbox] = []
    /// Where TCP reads land before they are appended to a connection's buffer.
    private let tcpScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16_384, alignment: 16)
    private var reply = AnswerBuilder()

    init(index: Int, table: RoutingTable, board: HealthBoard, settings: RuntimeSettings) throws(SystemError) {
        self.index = index
        self.table = table
        self.endpointCounters = [EndpointCounters](repeating: EndpointCounters(), count: table.endpoints.count)
        self.ruleHits = [UInt64](repeating: 0, count: table.rules.count)
        self.settings = settings
        loop = try EventLoop()
        maxClients = max(1, settings.tcpMaxConnections / max(1, settings.workers))
        receive = .allocate(capacity: Self.batch)
        receiveBuffers = .allocate(byteCount: Self.batch * Self.queryCapacity, alignment: 16)
        exchange = Exchange(loop: loop, sink: self, settings: settings.exchange)
        if let c = settings.cache { exchange.cache = AnswerCache(settings: c) }
        exchange.install(table, board: board)
    }

    deinit {
        for l in udp + tcpListeners { close(l.fd) }
        for c in clients where c.fd >= 0 { close(c.fd) }
        receive.deallocate()
        receiveBuffers.deallocate()
        tcpScratch.deallocate()
        for o in outboxes { o.release() }
    }

    /// Binds this worker's sockets on every endpoint address, UDP and TCP.
    func openListeners() throws(ListenError) {
        for (e, endpoint) in table.endpoints.enumerated() {
            for address in endpoint.addresses {
                do {
                    let u = try Sockets.udpListener(address)
                    udp.append(Listener(fd: u, endpoint: e, address: address))
                    outboxes.append(UDPOutbox(fd: u))
                    try loop.register(u, events: EventLoop.readable, token: Self.udpListenerKind << 56 | UInt64(udp.count - 1))
                    let t = try Sockets.tcpListener(address)
                    tcpListeners.append(Listener(fd: t, endpoint: e, address: address))
                    try loop.register(t, events: EventLoop.readable, token: Self.tcpListenerKind << 56 | UInt64(tcpListeners.count - 1))
                } catch {
                    throw ListenError(endpoint: endpoint.name, address: address, cause: error)
                }
            }
        }
    }

    /// The thread body.
    func run() {
        loop.schedule(at: monotonicNanos() + 1_000_000_000, id: Self.publishTimerKind << 56)
        loop.run(self)
        publish()
    }

    private func publish() {
        var rules = ruleTotals
        for (i, n) in ruleHits.enumerated() where n > 0 { rules[table.rules[i].name, default: 0] += n }
        let snapshot = WorkerSnapshot(counters: counters, exchange: exchange.counters, targets: exchange.targetStats(),
                                      cache: exchange.cache?.counters ?? AnswerCache.Counters(),
                                      cacheEntries: exchange.cache?.count ?? 0, endpoints: endpointCounters, rules: rules)
        published.withLock { $0 = snapshot }
    }

    func post(_ command: WorkerCommand) {
        mailbox.withLock { $0.append(command) }
        loop.wake()
    }

    // MARK: EventHandler

    func handleEvent(token: UInt64, events: UInt32) {
        let kind = token >> 56
        let slot = Int32(truncatingIfNeeded: token & 0xFFFF_FFFF)
        let now = monotonicNanos()
        switch kind {
        case Self.udpListenerKind: udpReadable(Int(slot), now: now)
        case Self.tcpListenerKind: acceptClients(Int(slot), now: now)
        case Self.tcpClientKind: clientEvent(slot, events: events, now: now)
        case Exchange.udpTokenKind: exchange.udpReadable(slot: slot, now: now)
        case Exchange.tcpTokenKind: exchange.tcpEvent(slot: slot, events: events, now: now)
        default: break
        }
    }

    func handleTimer(id: UInt64, now: UInt64) {
        switch id >> 56 {
        case Exchange.timerKind: exchange.timerFired(id: id, now: now)
        case Self.idleTimerKind: idleCheck(Int32(truncatingIfNeeded: id & 0xFF_FFFF), generation: UInt32(truncatingIfNeeded: (id >> 24) & 0xFFFF_FFFF), now: now)
        case Self.drainTimerKind: loop.stop()
        case Self.publishTimerKind:
            publish()
            loop.schedule(at: now + 1_000_000_000, id: Self.publishTimerKind << 56)
        default: break
        }
    }

    func handleWake() {
        let commands = mailbox.withLock { box -> [WorkerCommand] in
            let c = box
            box.removeAll()
            return c
        }
        for command in commands {
            switch command {
            case .install(let t, let board):
                for (i, n) in ruleHits.enumerated() where n > 0 { ruleTotals[table.rules[i].name, default: 0] += n }
                ruleHits = [UInt64](repeating: 0, count: t.rules.count)
                table = t
                exchange.install(t, board: board)
            case .drain:
                startDraining()
            case .flushCache(let name, let ticket):
                ticket.finished(dropped: exchange.cache?.flush(below: name) ?? 0)
            }
        }
    }

    func turnEnded() {
        for i in outboxes.indices { outboxes[i].flush(&counters) }
        if draining, exchange.activeRequests == 0, openClients == 0 { loop.stop() }
    }

    // MARK: UDP clients

    private func udpReadable(_ slot: Int, now: UInt64) {
        let listener = udp[slot]
        for i in 0..<Self.batch {
            receive[i].buffer = receiveBuffers + i * Self.queryCapacity
            receive[i].capacity = Self.queryCapacity
        }
        // Bounded: a flood on one socket must not starve the others or the upstream answers.
        for _ in 0..<8 {
            let n = dnsb_recv_batch(listener.fd, receive, UInt32(Self.batch))
            if n <= 0 { return }
            for i in 0..<Int(n) {
                endpointCounters[listener.endpoint].udpQueries += 1
                let client = ClientRef(transport: .udp, slot: Int32(slot), generation: 0, peer: receive[i].address)
                let source = withUnsafePointer(to: &receive[i].address) { peerIP($0) }
                handleQuery(UnsafeRawBufferPointer(start: receive[i].buffer, count: receive[i].length),
                            endpoint: listener.endpoint, client: client, source: source, now: now)
            }
            if n < Self.batch { return }
        }
    }

    /// The checks every query passes, in order: a header to answer with, not a response, the
    /// endpoint's `allow` list, opcode, well-formed with one question; then routing. Returns
    /// false when the query is dropped and will get no answer.
    @discardableResult
    private func handleQuery(_ p: UnsafeRawBufferPointer, endpoint: Int, client: ClientRef, source: IPAddress?, now: UInt64) -> Bool {
        guard p.count >= 12, !WireHeader.isResponse(p) else {
            endpointCounters[endpoint].dropped += 1
            return false
        }
        let scanned = PacketScan.scan(p)
        guard let source, table.endpoints[endpoint].allows(source) else {
            endpointCounters[endpoint].refused += 1
            respond(p, scanned: scanned, rcode: .refused, to: client)
            return true
        }
        guard WireHeader.header(p).opcode == .query else {
            endpointCounters[endpoint].notimp += 1
            respond(p, scanned: scanned, rcode: .notImp, to: client)
            return true
        }
        guard case .success(let info) = scanned else {
            endpointCounters[endpoint].formerr += 1
            respond(p, scanned: scanned, rcode: .formErr, to: client)
            return true
        }
        let name = UnsafeRawBufferPointer(rebasing: p[12..<info.nameEnd])
        let route = table.route(wire: name, endpoint: endpoint)
        endpointCounters[endpoint].qtypes[QueryTypeClass(info.type).rawValue] += 1
        if let rule = route.rule { ruleHits[rule] += 1 }
        let tag = Int32(route.rule ?? -1)
        if exchange.answerFromCache(p, info: info, endpoint: endpoint, pool: route.pool, client: client, tag: tag, now: now) {
            return true
        }
        exchange.submit(p, info: info, endpoint: endpoint, pool: route.pool, client: client, tag: tag, now: now)
        return true
    }

    /// Answers from the query alone: its question echoed when readable, EDNS when it used it.
    private func respond(_ p: UnsafeRawBufferPointer, scanned: Result<PacketInfo, ScanError>, rcode: RCode, to client: ClientRef) {
        var question = UnsafeRawBufferPointer(start: nil, count: 0)
        var edns = false
        if case .success(let info) = scanned {
            question = UnsafeRawBufferPointer(rebasing: p[12..<info.questionEnd])
            edns = info.optClassOffset != nil
        }
        reply.reply(id: WireHeader.id(p), queryFlags: WireHeader.flags(p), question: question, rcode: rcode, edns: edns)
        // Answered here, before any routing: no pool, rule or target to log.
        reply.buffer.withUnsafeBytes { deliver($0, to: client, origin: AnswerOrigin(source: .local, pool: -1, target: -1, tag: -1, arrived: 0)) }
    }

    // MARK: AnswerSink

    func deliver(_ answer: UnsafeRawBufferPointer, to client: ClientRef, origin: AnswerOrigin) {
        let rcode = answer.count >= 4 ? Int(answer[3] & 0x0F) : 0
        switch client.transport {
        case .udp:
            let slot = Int(client.slot)
            guard slot < outboxes.count else { return }
            account(answer, rcode: rcode, client: client, endpoint: udp[slot].endpoint, origin: origin)
            if !outboxes[slot].add(answer, to: client.peer) {
                outboxes[slot].flush(&counters)
                _ = outboxes[slot].add(answer, to: client.peer)
            }
        case .tcp:
            let slot = client.slot
            guard Int(slot) < clients.count, clients[Int(slot)].fd >= 0,
                  clients[Int(slot)].generation == client.generation else { return }
            account(answer, rcode: rcode, client: client, endpoint: clients[Int(slot)].endpoint, origin: origin)
            clients[Int(slot)].pendingAnswers -= 1
            clients[Int(slot)].queue(answer)
            flushClient(slot)
        }
    }

    /// Counts an answer that is on its way to its client, and logs it.
    @inline(__always)
    private func account(_ answer: UnsafeRawBufferPointer, rcode: Int, client: ClientRef, endpoint: Int, origin: AnswerOrigin) {
        endpointCounters[endpoint].rcodes[rcode] += 1
        if answer.count >= 3, answer[2] & 0x02 != 0 { endpointCounters[endpoint].truncated += 1 }
        log(answer, client: client, endpoint: endpoint, origin: origin)
    }

    /// Hands the answer to the query log, when there is one and this query is in the sample.
    @inline(__always)
    private func log(_ answer: UnsafeRawBufferPointer, client: ClientRef, endpoint: Int, origin: AnswerOrigin) {
        guard let ring = queryLog else { return }
        if sampleThreshold != .max {
            // xorshift64: a fair coin per query without a system call.
            sampleState ^= sampleState << 13; sampleState ^= sampleState >> 7; sampleState ^= sampleState << 17
            guard sampleState < sampleThreshold else { return }
        }
        var wall = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        let now = monotonicNanos()
        var record = QueryLogRing.Record()
        record.realtimeNanos = UInt64(wall.tv_sec) * 1_000_000_000 + UInt64(wall.tv_nsec)
        record.latencyNanos = origin.arrived == 0 || origin.arrived > now ? 0 : now - origin.arrived
        record.peer = client.peer
        record.endpoint = Int32(endpoint)
        record.rule = origin.tag
        record.pool = origin.pool
        record.target = origin.target
        record.tcp = client.transport == .tcp
        record.source = origin.source
        ring.record(record, answer: answer)
    }

    // MARK: TCP clients (RFC 7766)

    private func acceptClients(_ slot: Int, now: UInt64) {
        let listener = tcpListeners[slot]
        var peer = sockaddr_storage()
        for _ in 0..<64 {
            guard let fd = try? Sockets.accept(listener.fd, peer: &peer) else { return }
            guard openClients < maxClients, !draining else {
                counters.tcpRejectedAtLimit += 1
                close(fd)
                continue
            }
            counters.tcpAccepted += 1
            let c: Int32
            if let free = freeClients.popLast() { c = free } else { c = Int32(clients.count); clients.append(TCPClient()) }
            clients[Int(c)].open(fd: fd, endpoint: listener.endpoint, peer: peer, now: now)
            guard (try? loop.register(fd, events: EventLoop.readable, token: Self.tcpClientKind << 56 | UInt64(c))) != nil else {
                close(fd)
                clients[Int(c)].fd = -1
                freeClients.append(c)
                continue
            }
            openClients += 1
            scheduleIdle(c, at: now + settings.tcpIdleTimeoutNanos)
        }
    }

    private func scheduleIdle(_ c: Int32, at deadline: UInt64) {
        loop.schedule(at: deadline, id: Self.idleTimerKind << 56 | UInt64(clients[Int(c)].generation) << 24 | UInt64(c))
    }

    private func clientEvent(_ c: Int32, events: UInt32, now: UInt64) {
        guard Int(c) < clients.count, clients[Int(c)].fd >= 0 else { return }
        if events & EventLoop.writable != 0 { flushClient(c) }
        guard clients[Int(c)].fd >= 0, events & (EventLoop.readable | EventLoop.hangup) != 0 else { return }
        switch clients[Int(c)].readAvailable(scratch: tcpScratch) {
        case .failed:
            closeClient(c)
            return
        case .open, .closedByPeer:
            break
        }
        clients[Int(c)].lastActivity = now
        let source = withUnsafePointer(to: &clients[Int(c)].peer) { peerIP($0) }
        // Answer every whole query in the buffer; answers go out in whatever order they come.
        while let frame = clients[Int(c)].nextFrame() {
            endpointCounters[clients[Int(c)].endpoint].tcpQueries += 1
            clients[Int(c)].pendingAnswers += 1
            let client = ClientRef(transport: .tcp, slot: c, generation: clients[Int(c)].generation, peer: clients[Int(c)].peer)
            let endpoint = clients[Int(c)].endpoint
            let answered = clients[Int(c)].withFrame(frame) { p in
                handleQuery(p, endpoint: endpoint, client: client, source: source, now: now)
            }
            // A dropped query owes no answer.
            if !answered, clients[Int(c)].fd >= 0, clients[Int(c)].generation == client.generation {
                clients[Int(c)].pendingAnswers -= 1
            }
            guard clients[Int(c)].fd >= 0, clients[Int(c)].generation == client.generation else { return }
        }
        clients[Int(c)].compactInput()
        if clients[Int(c)].inputOverflow { closeClient(c); return }
        if clients[Int(c)].readClosed, clients[Int(c)].pendingAnswers == 0, !clients[Int(c)].hasOutput { closeClient(c) }
    }

    private func flushClient(_ c: Int32) {
        switch clients[Int(c)].writeQueued() {
        case .failed:
            closeClient(c)
        case .blocked:
            if !clients[Int(c)].watchingWrites {
                clients[Int(c)].watchingWrites = true
                try? loop.modify(clients[Int(c)].fd, events: EventLoop.readable | EventLoop.writable, token: Self.tcpClientKind << 56 | UInt64(c))
            }
        case .drained:
            if clients[Int(c)].watchingWrites {
                clients[Int(c)].watchingWrites = false
                try? loop.modify(clients[Int(c)].fd, events: EventLoop.readable, token: Self.tcpClientKind << 56 | UInt64(c))
            }
            if clients[Int(c)].readClosed, clients[Int(c)].pendingAnswers == 0 { closeClient(c) }
        }
    }

    private func idleCheck(_ c: Int32, generation: UInt32, now: UInt64) {
        guard Int(c) < clients.count, clients[Int(c)].fd >= 0, clients[Int(c)].generation == generation else { return }
        let deadline = clients[Int(c)].lastActivity + settings.tcpIdleTimeoutNanos
        if now >= deadline, clients[Int(c)].pendingAnswers == 0 {
            counters.tcpIdleClosed += 1
            closeClient(c)
        } else {
            scheduleIdle(c, at: max(deadline, now + 100_000_000))
        }
    }

    private func closeClient(_ c: Int32) {
        guard clients[Int(c)].fd >= 0 else { return }
        loop.unregister(clients[Int(c)].fd)
        close(clients[Int(c)].fd)
        clients[Int(c)].fd = -1
        clients[Int(c)].generation &+= 1
        freeClients.append(c)
        openClients -= 1
    }

    // MARK: draining

    private func startDraining() {
        guard !draining else { return }
        draining = true
        // UDP sockets stop being read but stay open: answers in flight leave through them.
        for l in udp { loop.unregister(l.fd) }
        for l in tcpListeners {
            loop.unregister(l.fd)
            close(l.fd)
        }
        tcpListeners.removeAll()
        // Idle TCP clients have nothing to wait for.
        for c in clients.indices where clients[c].fd >= 0 && clients[c].pendingAnswers == 0 && !clients[c].hasOutput {
            closeClient(Int32(c))
        }
        // Never wait longer than a query's whole budget could take.
        let budget = table.pools.map { $0.retry.budgetMilliseconds + $0.retry.maxTryTimeoutMilliseconds }.max() ?? 1000
        let limit = UInt64(budget) * 1_000_000 + 500_000_000
        loop.schedule(at: monotonicNanos() + limit, id: Self.drainTimerKind << 56)
    }
}

/// Collects the workers' answers to one cache flush.
final class FlushTicket: Sendable {
    private let dropped = Atomic<Int>(0)
    private let done = Atomic<Int>(0)

    func finished(dropped n: Int) {
        dropped.add(n, ordering: .relaxed)
        done.add(1, ordering: .releasing)
    }

    /// Waits (bounded) until `workers` have answered; returns the entries dropped.
    func wait(workers: Int, timeoutNanos: UInt64 = 2_000_000_000) -> Int? {
        let deadline = monotonicNanos() + timeoutNanos
        while done.load(ordering: .acquiring) < workers {
            if monotonicNanos() > deadline { return nil }
            usleep(1_000)
        }
        return dropped.load(ordering: .relaxed)
    }
}

/// What a worker publishes for readers on other threads.
struct WorkerSnapshot: Sendable {
    var counters = WorkerCounters()
    var exchange = ExchangeCounters()
    var targets: [String: TargetStats] = [:]
    var cache = AnswerCache.Counters()
    var cacheEntries = 0
    var endpoints: [EndpointCounters] = []
    /// Rule matches by rule name.
    var rules: [String: UInt64] = [:]
}

/// A listener that could not be opened, named by endpoint and address.
struct ListenError: Error, CustomStringConvertible {
    var endpoint: String
    var address: SocketAddress
    var cause: SystemError
    var description: String { "endpoint \(endpoint): cannot listen on \(address): \(cause)" }
}
