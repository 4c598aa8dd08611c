import Addressing
import CNetShim
import DNSWire
import EventIO
#if canImport(Glibc)
import Glibc
#endif

/// The upstream side of one worker: sends client queries to a pool's targets over UDP (TCP when
/// an answer comes back truncated), joins identical questions in flight, times tries out and
/// retries on another target, checks every answer (connected socket = right address and port;
/// then ID, then question) and hands answers to the `AnswerSink`.
///
/// Single-threaded: it lives on its worker's event loop. Requests and waiters live in reused
/// slot arrays with free lists, so the steady state allocates nothing per query.
public final class Exchange {
    /// Event-loop token kinds (top byte) owned by the exchange.
    public static let udpTokenKind: UInt64 = 0x10
    public static let tcpTokenKind: UInt64 = 0x11
    /// Timer kind (top byte) owned by the exchange.
    public static let timerKind: UInt64 = 0x10

    let loop: EventLoop
    unowned let sink: AnswerSink
    public let settings: ExchangeSettings
    public private(set) var counters = ExchangeCounters()

    private(set) var snapshot: UpstreamSnapshot?
    var sockets: [UpstreamSocket] = []
    private var freeSockets: [Int32] = []

    private var requests: [Request] = []
    private var freeRequests: [Int32] = []
    private var waiters: [Waiter] = []
    private var freeWaiters: [Int32] = []
    /// (socket slot << 16 | upstream ID) → request.
    private var pending: [UInt32: Int32] = [:]
    /// Question hash → request, for joining identical questions.
    private var inFlight: [UInt64: Int32] = [:]
    private var tcp: [TCPUpstream] = []
    /// Round-robin position per pool of the current snapshot.
    private var poolCursors: [Int] = []
    /// This worker's answer cache, when `cache:` is configured.
    public var cache: AnswerCache?
    private var freeTCP: [Int32] = []

    private var answer = AnswerBuilder()
    private var receive: UnsafeMutablePointer<dnsb_datagram>
    private let receiveBuffers: UnsafeMutableRawPointer
    private static let batch = 32
    private static let datagramCapacity = 65_536

    public init(loop: EventLoop, sink: AnswerSink, settings: ExchangeSettings = ExchangeSettings()) {
        self.loop = loop
        self.sink = sink
        self.settings = settings
        receive = .allocate(capacity: Self.batch)
        receiveBuffers = .allocate(byteCount: Self.batch * Self.datagramCapacity, alignment: 16)
        requests.reserveCapacity(settings.maxInFlight)
        waiters.reserveCapacity(settings.maxInFlight)
        pending.reserveCapacity(settings.maxInFlight)
        inFlight.reserveCapacity(settings.maxInFlight)
    }

    deinit {
        for s in sockets where s.fd >= 0 { close(s.fd) }
        for t in tcp where t.fd >= 0 { close(t.fd) }
        receive.deallocate()
        receiveBuffers.deallocate()
    }

    /// Requests still waiting for upstream; a draining worker exits when it reaches zero.
    public private(set) var activeRequests = 0

    // MARK: snapshots

    /// Installs a routing snapshot: socket sets are kept for targets that stay (same address
    /// and source), made for new ones, and retired — closed once idle — for removed ones.
    public func install(_ table: RoutingTable, board: HealthBoard) {
        var existing: [String: UpstreamTarget] = [:]
        if let old = snapshot, let cache {
            // Answers routed to a pool whose targets changed may no longer be what it would say.
            let before = Dictionary(old.table.pools.map { ($0.name, $0.targets.map { "\($0.address)/\($0.transport)" }) },
                                    uniquingKeysWith: { a, _ in a })
            let changed = table.pools.filter { before[$0.name] != nil && before[$0.name]! != $0.targets.map { "\($0.address)/\($0.transport)" } }
            if !changed.isEmpty { _ = cache.flush(pools: Set(changed.map { AnswerCache.poolKey($0.name) })) }
        }
        if let old = snapshot {
            for perEndpoint in old.targets { for perPool in perEndpoint { for t in perPool { existing[key(t.address, t.source)] = t } } }
        }
        var kept = Set<ObjectIdentifier>()
        let targets: [[[UpstreamTarget]]] = table.endpoints.map { endpoint in
            table.pools.enumerated().map { (poolIndex, pool) in
                pool.targets.map { spec in
                    // Fixed source addresses are for what the endpoint forwards out (so remote
                    // firewalls can allow them); its system pool is reached the ordinary way.
                    let source = poolIndex == endpoint.systemPool ? nil
                        : endpoint.sourceAddresses.first { $0.isV4 == spec.address.ip.isV4 }
                    let k = key(spec.address, source)
                    if let t = existing[k] {
                        kept.insert(ObjectIdentifier(t))
                        return t
                    }
                    let t = UpstreamTarget(address: spec.address, source: source)
                    existing[k] = t
                    kept.insert(ObjectIdentifier(t))
                    return t
                }
            }
        }
        if let old = snapshot, let cache {
            // Answers routed to a pool whose targets changed may no longer be what it would say.
            let before = Dictionary(old.table.pools.map { ($0.name, $0.targets.map { "\($0.address)/\($0.transport)" }) },
                                    uniquingKeysWith: { a, _ in a })
            let changed = table.pools.filter { before[$0.name] != nil && before[$0.name]! != $0.targets.map { "\($0.address)/\($0.transport)" } }
            if !changed.isEmpty { _ = cache.flush(pools: Set(changed.map { AnswerCache.poolKey($0.name) })) }
        }
        if let old = snapshot {
            for perEndpoint in old.targets {
                for perPool in perEndpoint {
                    for t in perPool where !kept.contains(ObjectIdentifier(t)) && !t.retired {
                        t.retired = true
                        closeIfIdle(t)
                    }
                }
            }
        }
        snapshot = UpstreamSnapshot(table: table, board: board, targets: targets)
        poolCursors = Array(repeating: 0, count: table.pools.count)
    }

    private func key(_ a: SocketAddress, _ s: IPAddress?) -> String { "\(a)|\(s.map { "\($0)" } ?? "-")" }

    // MARK: visibility

    /// What this worker knows of each target, by `pool/address`: smoothed RTT, queries
    /// outstanding, and tries by outcome. Called on the worker's own thread.
    public func targetStats() -> [String: TargetStats] {
        guard let snapshot else { return [:] }
        var out: [String: TargetStats] = [:]
        for (p, pool) in snapshot.table.pools.enumerated() {
            for (t, target) in pool.targets.enumerated() {
                var seen = Set<ObjectIdentifier>()
                var stats = TargetStats()
                for perEndpoint in snapshot.targets {
                    let u = perEndpoint[p][t]
                    guard seen.insert(ObjectIdentifier(u)).inserted else { continue }
                    stats.srttNanos = max(stats.srttNanos, u.srtt)
                    stats.outstanding += u.inFlight
                    for (i, n) in u.outcomes.enumerated() { stats.outcomes[i] += n }
                    for (i, n) in u.latency.enumerated() { stats.latency[i] += n }
                    stats.latencySumNanos += u.latencySum
                }
                out["\(pool.name)/\(target.address)"] = stats
            }
        }
        return out
    }

    // MARK: cache

    /// Answers from the cache when it holds a fresh answer for this question and route; a
    /// popular entry near the end of its TTL is refreshed in the background. False on a miss.
    public func answerFromCache(_ query: UnsafeRawBufferPointer, info: PacketInfo, endpoint: Int, pool: Int,
                                client: ClientRef, tag: Int32 = -1, now: UInt64) -> Bool {
        guard let cache, let snapshot else { return false }
        cache.prepareKey(query, info, poolKey: snapshot.poolKeys[pool])
        guard case .fresh(let entry, let age, let prefetch) = cache.lookup(now: now) else { return false }
        let limit = client.transport == .udp ? min(info.acceptedUDPSize, Int(AnswerBuilder.advertisedUDPSize)) : 65_535
        cache.withEntry(entry) { stored, storedInfo, offsets in
            answer.rewrite(stored, info: storedInfo, clientID: WireHeader.id(query),
                           clientQuestionName: UnsafeRawBufferPointer(rebasing: query[12..<info.nameEnd]), limit: limit,
                           ttls: .age(age, offsets))
        }
        let origin = AnswerOrigin(source: .cache, pool: Int32(pool), target: -1, tag: tag, arrived: now)
        answer.buffer.withUnsafeBytes { sink.deliver($0, to: client, origin: origin) }
        if prefetch { startRequest(query, info: info, endpoint: endpoint, pool: pool, waiter: -1, now: now) }
        return true
    }

    /// Stores what upstream answered for the request's question.
    private func cacheAnswer(_ r: Int32, _ p: UnsafeRawBufferPointer, _ info: PacketInfo, now: UInt64) {
        guard let cache else { return }
        let poolKey = requests[Int(r)].snapshot!.poolKeys[requests[Int(r)].pool]
        requests[Int(r)].query.withUnsafeBytes { cache.prepareKey($0, requests[Int(r)].info, poolKey: poolKey) }
        cache.insert(p, info, now: now)
    }

    /// When upstream failed: an expired answer still inside the serve-stale window, with TTL 30
    /// (RFC 8767), to every waiting client. False when there is none.
    private func serveStale(_ r: Int32, now: UInt64) -> Bool {
        guard let cache else { return false }
        let poolKey = requests[Int(r)].snapshot!.poolKeys[requests[Int(r)].pool]
        requests[Int(r)].query.withUnsafeBytes { cache.prepareKey($0, requests[Int(r)].info, poolKey: poolKey) }
        if requests[Int(r)].firstWaiter < 0 {
            cache.prefetchFailed()  // a failed refresh: the entry stays, and may be refreshed again
            return false
        }
        guard let entry = cache.stale(now: now) else { return false }
        cache.withEntry(entry) { stored, storedInfo, offsets in
            let nameLength = storedInfo.nameEnd - 12
            answerEachWaiter(r, .stale) { builder, waiter in
                builder.rewrite(stored, info: storedInfo, clientID: waiter.clientID,
                                clientQuestionName: waiter.question[0..<nameLength], limit: waiter.limit,
                                ttls: .set(CacheSettings.staleAnswerTTL, offsets))
            }
        }
        return true
    }

    // MARK: submitting

    /// Forwards a client query (already checked by `PacketScan`) to `pool`, or joins an identical
    /// question in flight. The query bytes are copied; the caller's buffer may be reused.
    public func submit(_ query: UnsafeRawBufferPointer, info: PacketInfo, endpoint: Int, pool: Int,
                       client: ClientRef, tag: Int32 = -1, now: UInt64) {
        guard snapshot != nil else { return }
        guard let w = allocateWaiter() else {
            counters.overCapacity += 1
            replyFailure(query, info: info, client: client, rcode: .servFail,
                         origin: AnswerOrigin(source: .local, pool: Int32(pool), target: -1, tag: tag, arrived: now))
            return
        }
        let clientFlags = WireHeader.flags(query)
        waiters[Int(w)].client = client
        waiters[Int(w)].clientID = WireHeader.id(query)
        waiters[Int(w)].flags = clientFlags
        waiters[Int(w)].edns = info.optClassOffset != nil
        waiters[Int(w)].limit = client.transport == .udp ? min(info.acceptedUDPSize, Int(AnswerBuilder.advertisedUDPSize)) : 65_535
        waiters[Int(w)].question.removeAll(keepingCapacity: true)
        waiters[Int(w)].question.append(contentsOf: UnsafeRawBufferPointer(rebasing: query[12..<info.questionEnd]))
        waiters[Int(w)].next = -1
        waiters[Int(w)].tag = tag
        waiters[Int(w)].arrived = now

        startRequest(query, info: info, endpoint: endpoint, pool: pool, waiter: w, now: now)
    }

    /// Sends a question upstream for `waiter` (-1 for a prefetch, which only fills the cache),
    /// or joins the waiter to an identical question in flight.
    private func startRequest(_ query: UnsafeRawBufferPointer, info: PacketInfo, endpoint: Int, pool: Int,
                              waiter w: Int32, now: UInt64) {
        guard let snapshot else { return }
        let clientFlags = WireHeader.flags(query)
        let hash = questionHash(query, info: info, pool: pool, endpoint: endpoint, flags: clientFlags)
        if let r = inFlight[hash], requests[Int(r)].matches(query, info: info, flags: clientFlags) {
            if w >= 0 {
                waiters[Int(w)].next = requests[Int(r)].firstWaiter
                requests[Int(r)].firstWaiter = w
                counters.deduplicated += 1
            }
            return
        }
        guard let r = allocateRequest() else {
            counters.overCapacity += 1
            if w >= 0 {
                let client = waiters[Int(w)].client
                let origin = AnswerOrigin(source: .local, pool: Int32(pool), target: -1, tag: waiters[Int(w)].tag,
                                          arrived: waiters[Int(w)].arrived)
                freeWaiter(w)
                replyFailure(query, info: info, client: client, rcode: .servFail, origin: origin)
            }
            return
        }
        activeRequests += 1
        requests[Int(r)].start(query: query, info: info, flags: clientFlags, hash: hash, snapshot: snapshot,
                               endpoint: endpoint, pool: pool, firstWaiter: w, now: now)
        if inFlight[hash] == nil { inFlight[hash] = r; requests[Int(r)].ownsHash = true }
        tryNextTarget(r, now: now)
    }

    /// FNV-1a over what makes two questions the same upstream exchange: the routing decision,
    /// the lower-cased name, type, class, and the flags and EDNS facts that change the answer.
    private func questionHash(_ q: UnsafeRawBufferPointer, info: PacketInfo, pool: Int, endpoint: Int, flags: UInt16) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) func mix(_ b: UInt64) { h = (h ^ b) &* 0x0000_0100_0000_01B3 }
        mix(UInt64(pool)); mix(UInt64(endpoint))
        for i in 12..<info.nameEnd { mix(UInt64(asciiLower(q[i]))) }
        mix(UInt64(info.type.rawValue)); mix(UInt64(info.recordClass.rawValue))
        mix(UInt64(flags & Request.answerChangingFlags))
        mix(info.optClassOffset == nil ? 0 : 1); mix(info.dnssecOK ? 1 : 0)
        return h
    }

    // MARK: trying targets

    /// Sends the request to the best target not yet tried, or answers SERVFAIL when the pool's
    /// tries, targets or time budget are spent.
    private func tryNextTarget(_ r: Int32, now: UInt64) {
        while true {
            // Scalars only: holding a copy of the request would share its query buffer and make
            // the next write to it copy the buffer.
            let tries = requests[Int(r)].tries
            let retry = requests[Int(r)].snapshot!.table.pools[requests[Int(r)].pool].retry
            let elapsed = now - requests[Int(r)].started
            guard tries < retry.tries, elapsed < UInt64(retry.budgetMilliseconds) * 1_000_000, let next = select(r) else {
                fail(r, now: now)
                return
            }
            if tries > 0 { counters.retries += 1 }
            requests[Int(r)].tries += 1
            requests[Int(r)].triedMask |= 1 << UInt64(min(next, 63))
            requests[Int(r)].target = next
            if sendUDP(r, now: now) { return }
            record(.networkError, request: r)
        }
    }

    /// The target for the request's next try: among those not tried yet, the preferred tier
    /// with a target up, chosen by the pool's policy; else the same among suspect targets; else,
    /// with every target down, the one most recently healthy — down targets are still tried
    /// before a client is told SERVFAIL. Drained targets are skipped throughout.
    private func select(_ r: Int32) -> Int? {
        let snapshot = requests[Int(r)].snapshot!
        let pool = requests[Int(r)].pool
        let endpoint = requests[Int(r)].endpoint
        let tried = requests[Int(r)].triedMask
        let statuses = snapshot.board.statuses[pool]
        let spec = snapshot.table.pools[pool]
        // A drained target is out of service: never chosen, not even when every other is down.
        @inline(__always) func untried(_ t: Int) -> Bool { tried & (1 << UInt64(min(t, 63))) == 0 && !statuses[t].drained }
        for wanted in [HealthState.up, .suspect] {
            for tier in snapshot.tiers[pool] {
                var count = 0, weights = 0
                var best = -1
                var bestScore = UInt64.max
                for t in tier where untried(t) && statuses[t].state == wanted {
                    count += 1
                    weights += spec.targets[t].weight
                    let upstream = snapshot.targets[endpoint][pool][t]
                    let score: UInt64
                    switch spec.policy {
                    case .fastest: score = upstream.srtt
                    case .leastOutstanding: score = UInt64(upstream.inFlight)
                    default: score = best < 0 ? 0 : UInt64.max
                    }
                    if score < bestScore { best = t; bestScore = score }
                }
                guard count > 0 else { continue }
                switch spec.policy {
                case .firstAvailable, .fastest, .leastOutstanding:
                    return best
                case .roundRobin:
                    let k = poolCursors[pool] % count
                    poolCursors[pool] &+= 1
                    return nth(tier, k) { untried($0) && statuses[$0].state == wanted }
                case .random:
                    var pick = Int(arc4random_uniform(UInt32(max(1, weights))))
                    for t in tier where untried(t) && statuses[t].state == wanted {
                        pick -= spec.targets[t].weight
                        if pick < 0 { return t }
                    }
                    return best
                }
            }
        }
        var best = -1
        var bestSeen: UInt64 = 0
        for t in spec.targets.indices where untried(t) {
            let seen = statuses[t].lastSuccessNanos
            if best < 0 || seen > bestSeen { best = t; bestSeen = seen }
        }
        guard best >= 0 else { return nil }
        counters.allDownTries += 1
        return best
    }

    private func nth(_ tier: [Int], _ k: Int, where ok: (Int) -> Bool) -> Int? {
        var i = 0
        for t in tier where ok(t) {
            if i == k { return t }
            i += 1
        }
        return nil
    }

    /// Counts a try's outcome for its target and feeds health: a run of failures in this
    /// worker's traffic asks the monitor to probe the target now.
    private func record(_ outcome: AttemptOutcome, request r: Int32, now: UInt64 = 0) {
        let snapshot = requests[Int(r)].snapshot!
        let pool = requests[Int(r)].pool, t = requests[Int(r)].target
        let upstream = snapshot.targets[requests[Int(r)].endpoint][pool][t]
        upstream.outcomes[outcome.rawValue] &+= 1
        switch outcome {
        case .timeout: counters.timeouts += 1
        case .networkError: counters.networkErrors += 1
        case .malformed: counters.malformedAnswers += 1
        default: break
        }
        if outcome.isFailure {
            upstream.consecutiveFailures += 1
            let threshold = max(2, snapshot.table.pools[pool].healthCheck?.fall ?? 2)
            if upstream.consecutiveFailures == threshold, snapshot.board.statuses[pool][t].state == .up {
                snapshot.board.requestProbe(pool: pool, target: t)
            }
        } else if outcome == .answered {
            upstream.consecutiveFailures = 0
            if now > requests[Int(r)].tryStarted { upstream.recordRTT(now - requests[Int(r)].tryStarted) }
        }
    }

    /// Sends over UDP on a random socket of the target with a fresh random ID. False on a
    /// network error (the caller moves on to the next target).
    private func sendUDP(_ r: Int32, now: UInt64) -> Bool {
        let target = requests[Int(r)].snapshot!.targets[requests[Int(r)].endpoint][requests[Int(r)].pool][requests[Int(r)].target]
        guard let slot = socketFor(target) else { return false }
        var id: UInt16 = 0
        var key: UInt32 = 0
        for attempt in 0..<8 {
            id = UInt16(truncatingIfNeeded: arc4random())
            key = UInt32(slot) << 16 | UInt32(id)
            if pending[key] == nil { break }
            if attempt == 7 { return false }
        }
        requests[Int(r)].query.withUnsafeMutableBytes { WireHeader.setID($0, id) }
        let fd = sockets[Int(slot)].fd
        let sent = requests[Int(r)].query.withUnsafeBytes { p in Glibc.send(fd, p.baseAddress, p.count, Int32(MSG_DONTWAIT)) }
        guard sent == requests[Int(r)].query.count else { return false }
        sockets[Int(slot)].uses += 1
        sockets[Int(slot)].outstanding += 1
        target.inFlight += 1
        pending[key] = r
        requests[Int(r)].socketSlot = slot
        requests[Int(r)].upstreamID = id
        requests[Int(r)].transportTCP = -1
        counters.upstreamQueries += 1
        armTimer(r, now: now)
        return true
    }

    /// Starts the try's clock: its timeout follows the target's smoothed RTT (SRTT + 4 × RTTVAR,
    /// as RFC 6298 does for TCP) within the pool's bounds, and never runs past the budget.
    private func armTimer(_ r: Int32, now: UInt64) {
        let snapshot = requests[Int(r)].snapshot!
        let pool = requests[Int(r)].pool
        let retry = snapshot.table.pools[pool].retry
        let upstream = snapshot.targets[requests[Int(r)].endpoint][pool][requests[Int(r)].target]
        let low = UInt64(retry.minTryTimeoutMilliseconds) * 1_000_000
        let high = UInt64(retry.maxTryTimeoutMilliseconds) * 1_000_000
        var timeout = upstream.srtt == 0 ? high : min(high, max(low, upstream.srtt + 4 * upstream.rttvar))
        let budgetEnd = requests[Int(r)].started + UInt64(retry.budgetMilliseconds) * 1_000_000
        if budgetEnd > now { timeout = min(timeout, budgetEnd - now) }
        requests[Int(r)].tryStarted = now
        requests[Int(r)].timerGeneration &+= 1
        let id = Self.timerKind << 56 | UInt64(requests[Int(r)].timerGeneration) << 24 | UInt64(r)
        loop.schedule(at: now + timeout, id: id)
    }

    /// A random socket of the target's set, opening the set on first use and replacing a socket
    /// that has served its share of queries once nothing is outstanding on it.
    private func socketFor(_ target: UpstreamTarget) -> Int32? {
        if target.socketSlots.isEmpty {
            for _ in 0..<settings.socketsPerTarget {
                if let s = openSocket(target) { target.socketSlots.append(s) }
            }
            if target.socketSlots.isEmpty { return nil }
        }
        let pick = Int(arc4random_uniform(UInt32(target.socketSlots.count)))
        let slot = target.socketSlots[pick]
        if sockets[Int(slot)].uses >= settings.socketRotation, sockets[Int(slot)].outstanding == 0 {
            closeSocket(slot)
            guard let fresh = openSocket(target) else {
                target.socketSlots.remove(at: pick)
                return target.socketSlots.isEmpty ? nil : target.socketSlots[0]
            }
            target.socketSlots[pick] = fresh
            return fresh
        }
        return slot
    }

    private func openSocket(_ target: UpstreamTarget) -> Int32? {
        guard let fd = try? Sockets.udpConnected(to: target.address, from: target.source) else { return nil }
        let slot: Int32
        if let free = freeSockets.popLast() {
            slot = free
            sockets[Int(slot)] = UpstreamSocket(fd: fd, uses: 0, outstanding: 0, target: target)
        } else {
            slot = Int32(sockets.count)
            sockets.append(UpstreamSocket(fd: fd, uses: 0, outstanding: 0, target: target))
        }
        guard (try? loop.register(fd, events: EventLoop.readable, token: Self.udpTokenKind << 56 | UInt64(slot))) != nil else {
            close(fd)
            sockets[Int(slot)].fd = -1
            freeSockets.append(slot)
            return nil
        }
        return slot
    }

    private func closeSocket(_ slot: Int32) {
        let fd = sockets[Int(slot)].fd
        guard fd >= 0 else { return }
        loop.unregister(fd)
        close(fd)
        sockets[Int(slot)].fd = -1
        sockets[Int(slot)].target = nil
        freeSockets.append(slot)
    }

    private func closeIfIdle(_ t: UpstreamTarget) {
        guard t.retired, t.inFlight == 0 else { return }
        for s in t.socketSlots { closeSocket(s) }
        t.socketSlots.removeAll()
    }

    // MARK: events

    /// An upstream UDP socket is readable: drain it in batches.
    public func udpReadable(slot: Int32, now: UInt64) {
        let fd = sockets[Int(slot)].fd
        guard fd >= 0 else { return }
        for i in 0..<Self.batch {
            receive[i].buffer = receiveBuffers + i * Self.datagramCapacity
            receive[i].capacity = Self.datagramCapacity
        }
        while true {
            let n = dnsb_recv_batch(fd, receive, UInt32(Self.batch))
            if n < 0, errno == ECONNREFUSED {
                refused(slot: slot, now: now)
                continue
            }
            if n <= 0 { return }
            for i in 0..<Int(n) {
                let p = UnsafeRawBufferPointer(start: receive[i].buffer, count: receive[i].length)
                handleUDPAnswer(p, slot: slot, now: now)
            }
            if n < Self.batch { return }
        }
    }

    /// ICMP port unreachable came back on this socket: nothing listens at the target. Every try
    /// waiting on the socket fails now instead of at its timeout.
    private func refused(slot: Int32, now: UInt64) {
        for i in requests.indices where requests[i].active && requests[i].socketSlot == slot {
            let r = Int32(i)
            releaseTry(r)
            record(.networkError, request: r)
            tryNextTarget(r, now: now)
        }
    }

    private func handleUDPAnswer(_ p: UnsafeRawBufferPointer, slot: Int32, now: UInt64) {
        guard p.count >= 12, WireHeader.isResponse(p) else { counters.malformedAnswers += 1; return }
        let key = UInt32(slot) << 16 | UInt32(WireHeader.id(p))
        // RFC 5452 §9.1: accept only an answer to a question we asked, with its ID, from the
        // address and port we asked (the connected socket filters those in the kernel).
        guard let r = pending[key] else { counters.spoofedOrLate += 1; return }
        guard case .success(let info) = PacketScan.scan(p) else { counters.malformedAnswers += 1; return }
        let same = requests[Int(r)].query.withUnsafeBytes { q in
            PacketScan.sameQuestion(q, requests[Int(r)].info, p, info)
        }
        guard same else { counters.spoofedOrLate += 1; return }
        releaseTry(r)
        if WireHeader.flags(p) & 0x0200 != 0 {
            record(.truncated, request: r)
            counters.tcpRetries += 1
            startTCP(r, now: now)
            return
        }
        answered(r, answer: p, info: info, now: now)
    }

    /// An answer passed every check. SERVFAIL and REFUSED mean this target could not help:
    /// another target is tried while tries and budget remain; otherwise the answer stands.
    private func answered(_ r: Int32, answer p: UnsafeRawBufferPointer, info: PacketInfo, now: UInt64) {
        let rcode = WireHeader.header(p).rcodeLow
        if rcode == UInt8(RCode.servFail.rawValue) || rcode == UInt8(RCode.refused.rawValue) {
            record(rcode == UInt8(RCode.servFail.rawValue) ? .servfail : .refused, request: r, now: now)
            if canRetry(r, now: now) {
                closeTCP(of: r)
                tryNextTarget(r, now: now)
                return
            }
            if serveStale(r, now: now) { return }
        } else {
            record(.answered, request: r, now: now)
        }
        complete(r, answer: p, info: info, now: now)
    }

    private func canRetry(_ r: Int32, now: UInt64) -> Bool {
        let retry = requests[Int(r)].snapshot!.table.pools[requests[Int(r)].pool].retry
        let targets = requests[Int(r)].snapshot!.table.pools[requests[Int(r)].pool].targets.count
        let tried = requests[Int(r)].triedMask.nonzeroBitCount
        return requests[Int(r)].tries < retry.tries && tried < targets
            && now - requests[Int(r)].started < UInt64(retry.budgetMilliseconds) * 1_000_000
    }

    /// Forgets the outstanding UDP try of a request (answered, timed out, or moved to TCP).
    private func releaseTry(_ r: Int32) {
        let slot = requests[Int(r)].socketSlot
        guard slot >= 0 else { return }
        pending[UInt32(slot) << 16 | UInt32(requests[Int(r)].upstreamID)] = nil
        sockets[Int(slot)].outstanding -= 1
        if let t = sockets[Int(slot)].target {
            t.inFlight -= 1
            closeIfIdle(t)
        }
        requests[Int(r)].socketSlot = -1
    }

    /// A try's timer fired: if it is still the current try, move to the next target.
    public func timerFired(id: UInt64, now: UInt64) {
        let r = Int32(truncatingIfNeeded: id & 0xFF_FFFF)
        let generation = UInt32(truncatingIfNeeded: (id >> 24) & 0xFFFF_FFFF)
        guard Int(r) < requests.count, requests[Int(r)].active, requests[Int(r)].timerGeneration == generation else { return }
        record(.timeout, request: r)
        releaseTry(r)
        closeTCP(of: r)
        tryNextTarget(r, now: now)
    }

    // MARK: finishing

    /// Hands the answer to every waiting client, each with its own ID and question case.
    private func complete(_ r: Int32, answer upstream: UnsafeRawBufferPointer, info: PacketInfo, now: UInt64) {
        counters.answers += 1
        cacheAnswer(r, upstream, info, now: now)
        let nameLength = info.nameEnd - 12
        answerEachWaiter(r, .upstream) { builder, waiter in
            builder.rewrite(upstream, info: info, clientID: waiter.clientID,
                            clientQuestionName: waiter.question[0..<nameLength], limit: waiter.limit)
        }
    }

    /// Every try failed: a stale answer if the cache has one, else SERVFAIL to each waiting client.
    private func fail(_ r: Int32, now: UInt64) {
        if serveStale(r, now: now) { return }
        counters.servfails += 1
        answerEachWaiter(r, .local) { builder, waiter in
            waiter.question.withUnsafeBytes {
                builder.reply(id: waiter.clientID, queryFlags: waiter.flags, question: $0, rcode: .servFail, edns: waiter.edns)
            }
        }
    }

    /// Builds each waiting client's answer with `build`, delivers it, frees the waiters and the
    /// request.
    private func answerEachWaiter(_ r: Int32, _ source: AnswerOrigin.Source, _ build: (inout AnswerBuilder, Waiter) -> Void) {
        var w = requests[Int(r)].firstWaiter
        let tried = requests[Int(r)].tries > 0 ? Int32(requests[Int(r)].target) : -1
        while w >= 0 {
            let waiter = waiters[Int(w)]
            build(&answer, waiter)
            let origin = AnswerOrigin(source: source, pool: Int32(requests[Int(r)].pool), target: tried, tag: waiter.tag,
                                      arrived: waiter.arrived)
            answer.buffer.withUnsafeBytes { sink.deliver($0, to: waiter.client, origin: origin) }
            let next = waiter.next
            freeWaiter(w)
            w = next
        }
        finish(r)
    }

    private func finish(_ r: Int32) {
        releaseTry(r)
        closeTCP(of: r)
        if requests[Int(r)].ownsHash { inFlight[requests[Int(r)].hash] = nil }
        requests[Int(r)].active = false
        requests[Int(r)].snapshot = nil
        requests[Int(r)].timerGeneration &+= 1
        freeRequests.append(r)
        activeRequests -= 1
    }

    private func replyFailure(_ query: UnsafeRawBufferPointer, info: PacketInfo, client: ClientRef, rcode: RCode,
                              origin: AnswerOrigin) {
        answer.reply(id: WireHeader.id(query), queryFlags: WireHeader.flags(query),
                     question: UnsafeRawBufferPointer(rebasing: query[12..<info.questionEnd]),
                     rcode: rcode, edns: info.optClassOffset != nil)
        answer.buffer.withUnsafeBytes { sink.deliver($0, to: client, origin: origin) }
    }

    // MARK: slots

    private func allocateWaiter() -> Int32? {
        if let w = freeWaiters.popLast() { return w }
        guard waiters.count < settings.maxInFlight * 4 else { return nil }
        waiters.append(Waiter())
        return Int32(waiters.count - 1)
    }

    private func freeWaiter(_ w: Int32) { freeWaiters.append(w) }

    private func allocateRequest() -> Int32? {
        if let r = freeRequests.popLast() { return r }
        guard requests.count < settings.maxInFlight else { return nil }
        requests.append(Request())
        return Int32(requests.count - 1)
    }

    // MARK: TCP fallback

    /// The answer came back with TC: ask the same target over TCP (RFC 7766 §5).
    private func startTCP(_ r: Int32, now: UInt64) {
        let target = requests[Int(r)].snapshot!.targets[requests[Int(r)].endpoint][requests[Int(r)].pool][requests[Int(r)].target]
        guard let fd = try? Sockets.tcpConnect(to: target.address, from: target.source) else {
            record(.networkError, request: r)
            tryNextTarget(r, now: now)
            return
        }
        let slot: Int32
        if let free = freeTCP.popLast() { slot = free } else { slot = Int32(tcp.count); tcp.append(TCPUpstream()) }
        tcp[Int(slot)].open(fd: fd, request: r, query: requests[Int(r)].query)
        guard (try? loop.register(fd, events: EventLoop.writable | EventLoop.readable, token: Self.tcpTokenKind << 56 | UInt64(slot))) != nil else {
            close(fd)
            tcp[Int(slot)].fd = -1
            freeTCP.append(slot)
            record(.networkError, request: r)
            tryNextTarget(r, now: now)
            return
        }
        requests[Int(r)].transportTCP = slot
        armTimer(r, now: now)
    }

    public func tcpEvent(slot: Int32, events: UInt32, now: UInt64) {
        guard Int(slot) < tcp.count, tcp[Int(slot)].fd >= 0 else { return }
        let r = tcp[Int(slot)].request
        switch tcp[Int(slot)].progress(events: events) {
        case .waiting:
            if tcp[Int(slot)].wantsWrite == false {
                try? loop.modify(tcp[Int(slot)].fd, events: EventLoop.readable, token: Self.tcpTokenKind << 56 | UInt64(slot))
            }
        case .failed:
            record(.networkError, request: r)
            closeTCP(of: r)
            tryNextTarget(r, now: now)
        case .message(let bytes):
            let valid = bytes.withUnsafeBytes { p -> PacketInfo? in
                guard p.count >= 12, WireHeader.isResponse(p), case .success(let info) = PacketScan.scan(p) else { return nil }
                let same = requests[Int(r)].query.withUnsafeBytes { q in
                    WireHeader.id(q) == WireHeader.id(p) && PacketScan.sameQuestion(q, requests[Int(r)].info, p, info)
                }
                return same ? info : nil
            }
            guard let info = valid else {
                record(.malformed, request: r)
                closeTCP(of: r)
                tryNextTarget(r, now: now)
                return
            }
            bytes.withUnsafeBytes { answered(r, answer: $0, info: info, now: now) }
        }
    }

    private func closeTCP(of r: Int32) {
        let slot = requests[Int(r)].transportTCP
        guard slot >= 0 else { return }
        if tcp[Int(slot)].fd >= 0 {
            loop.unregister(tcp[Int(slot)].fd)
            close(tcp[Int(slot)].fd)
            tcp[Int(slot)].fd = -1
        }
        freeTCP.append(slot)
        requests[Int(r)].transportTCP = -1
    }
}

/// A client waiting for an answer, linked to the request it waits on.
struct Waiter {
    var client = ClientRef(transport: .udp, slot: 0, generation: 0, peer: sockaddr_storage())
    var clientID: UInt16 = 0
    var flags: UInt16 = 0
    var edns = false
    var limit = 512
    /// The client's question section exactly as sent: name (its case), type, class.
    var question: [UInt8] = []
    var next: Int32 = -1
    var tag: Int32 = -1
    var arrived: UInt64 = 0

    init() { question.reserveCapacity(260) }
}

/// One question in flight upstream.
struct Request {
    /// RD and CD change what a resolver answers; other client flags do not.
    static let answerChangingFlags: UInt16 = 0x0100 | 0x0010

    var active = false
    var query: [UInt8] = []
    var info = PacketInfo(nameEnd: 12, type: .a, recordClass: .in, questionEnd: 12, optClassOffset: nil,
                          udpPayloadSize: nil, dnssecOK: false)
    var flags: UInt16 = 0
    var hash: UInt64 = 0
    var ownsHash = false
    var snapshot: UpstreamSnapshot?
    var endpoint = 0
    var pool = 0
    var target = 0
    var tries = 0
    var triedMask: UInt64 = 0
    var socketSlot: Int32 = -1
    var upstreamID: UInt16 = 0
    var transportTCP: Int32 = -1
    var timerGeneration: UInt32 = 0
    var firstWaiter: Int32 = -1
    var started: UInt64 = 0
    var tryStarted: UInt64 = 0

    init() { query.reserveCapacity(512) }

    mutating func start(query q: UnsafeRawBufferPointer, info: PacketInfo, flags: UInt16, hash: UInt64,
                        snapshot: UpstreamSnapshot, endpoint: Int, pool: Int, firstWaiter: Int32, now: UInt64) {
        active = true
        query.removeAll(keepingCapacity: true)
        query.append(contentsOf: q)
        // Ask upstream for what we advertise ourselves; the answer is cut to each client's size.
        if let opt = info.optClassOffset {
            query[opt] = UInt8(AnswerBuilder.advertisedUDPSize >> 8)
            query[opt + 1] = UInt8(AnswerBuilder.advertisedUDPSize & 0xFF)
        }
        self.info = info
        self.flags = flags
        self.hash = hash
        ownsHash = false
        self.snapshot = snapshot
        self.endpoint = endpoint
        self.pool = pool
        target = 0
        tries = 0
        triedMask = 0
        socketSlot = -1
        transportTCP = -1
        self.firstWaiter = firstWaiter
        started = now
    }

    /// Same question (name ignoring case, type, class), same answer-changing flags and EDNS facts.
    func matches(_ q: UnsafeRawBufferPointer, info other: PacketInfo, flags: UInt16) -> Bool {
        guard active, (self.flags ^ flags) & Self.answerChangingFlags == 0,
              (info.optClassOffset == nil) == (other.optClassOffset == nil), info.dnssecOK == other.dnssecOK else { return false }
        return query.withUnsafeBytes { PacketScan.sameQuestion($0, info, q, other) }
    }
}
