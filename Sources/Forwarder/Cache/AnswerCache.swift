import DNSWire
#if canImport(Glibc)
import Glibc
#endif

/// How answers are cached (the `cache:` section), times in seconds.
public struct CacheSettings: Sendable, Equatable {
    /// Entries per worker (the configured total divided among workers).
    public var maxEntries: Int
    public var maxTTL: UInt32
    public var minTTL: UInt32
    public var negativeMaxTTL: UInt32
    public var servfailTTL: UInt32
    public var prefetch: Bool
    /// How long past expiry an entry may still answer when upstream fails (RFC 8767); 0: never.
    public var serveStale: UInt32

    /// The TTL of an answer served stale (RFC 8767 §4 recommends 30 s).
    public static let staleAnswerTTL: UInt32 = 30

    public init(maxEntries: Int = 100_000, maxTTL: UInt32 = 86_400, minTTL: UInt32 = 0, negativeMaxTTL: UInt32 = 900,
                servfailTTL: UInt32 = 5, prefetch: Bool = true, serveStale: UInt32 = 0) {
        self.maxEntries = maxEntries; self.maxTTL = maxTTL; self.minTTL = minTTL; self.negativeMaxTTL = negativeMaxTTL
        self.servfailTTL = servfailTTL; self.prefetch = prefetch; self.serveStale = serveStale
    }
}

/// One worker's answer cache. Keyed by the question (name lower-cased, type, class), the flags
/// that change an answer (RD, CD, DO, EDNS) and the routing decision (the pool, by name), it
/// stores answers as wire bytes with the offsets of their TTLs, so a hit is a copy plus a few
/// in-place writes. Bounded by `maxEntries` with CLOCK eviction (a hit sets a bit; the hand
/// evicts the first entry without it, clearing bits as it passes), which keeps hot entries.
/// Per worker, so a hit never takes a lock. Time comes in as `now` (monotonic nanoseconds).
public final class AnswerCache {
    public struct Counters: Sendable {
        public var hits: UInt64 = 0
        public var misses: UInt64 = 0
        public var inserts: UInt64 = 0
        public var evictions: UInt64 = 0
        public var prefetches: UInt64 = 0
        public var staleServed: UInt64 = 0
        public init() {}
    }

    /// One cached answer. Its key, answer and TTL offsets share one buffer — one allocation per
    /// entry, not three — laid out `key | answer | offsets (UInt16 each)`.
    struct Entry {
        var blob: [UInt8] = []
        var hash: UInt64 = 0
        var poolKey: UInt64 = 0
        var stored: UInt64 = 0
        /// Seconds the entry is fresh.
        var ttl: UInt32 = 0
        var hits: UInt32 = 0
        var keyLength: UInt16 = 0
        var answerLength: UInt16 = 0
        /// Where the question name ends and the OPT record's class field is (0: no OPT).
        var nameEnd: UInt16 = 0
        var optClass: UInt16 = 0
        var used = false
        var visited = false
        var prefetching = false

        var info: PacketInfo {
            PacketInfo(nameEnd: Int(nameEnd), type: .a, recordClass: .in, questionEnd: Int(nameEnd) + 4,
                       optClassOffset: optClass == 0 ? nil : Int(optClass), udpPayloadSize: nil, dnssecOK: false)
        }

        func keyEquals(_ key: [UInt8]) -> Bool {
            guard Int(keyLength) == key.count else { return false }
            return blob.withUnsafeBytes { b in key.withUnsafeBytes { k in memcmp(b.baseAddress!, k.baseAddress!, k.count) == 0 } }
        }
    }

    /// What a lookup found.
    public enum Lookup {
        case miss
        /// Fresh: `age` seconds old; `prefetch` when it should be refreshed now.
        case fresh(entry: Int, age: UInt32, prefetch: Bool)
    }

    public let settings: CacheSettings
    public private(set) var counters = Counters()
    private var entries: [Entry] = []
    private var index: [UInt64: Int32] = [:]
    private var hand = 0
    /// The key of the last `prepareKey`, reused across lookups.
    private var scratch: [UInt8] = []
    private var scratchHash: UInt64 = 0
    private var scratchPool: UInt64 = 0
    /// TTL offsets of the answer being inserted, reused.
    private var offsetScratch: [Int] = []

    public init(settings: CacheSettings) {
        self.settings = settings
        index.reserveCapacity(min(settings.maxEntries, 1 << 20))
        scratch.reserveCapacity(300)
    }

    public var count: Int { index.count }

    // MARK: keys

    static let flagRD: UInt8 = 1, flagCD: UInt8 = 2, flagDO: UInt8 = 4, flagEDNS: UInt8 = 8

    /// Builds the key of a query (or of the question an answer carries) in the scratch buffer.
    public func prepareKey(_ p: UnsafeRawBufferPointer, _ info: PacketInfo, poolKey: UInt64) {
        scratch.removeAll(keepingCapacity: true)
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) func add(_ b: UInt8) {
            scratch.append(b)
            h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3
        }
        for i in 12..<info.questionEnd { add(i < info.nameEnd ? asciiLower(p[i]) : p[i]) }
        let flags = WireHeader.flags(p)
        var f: UInt8 = 0
        if flags & 0x0100 != 0 { f |= Self.flagRD }
        if flags & 0x0010 != 0 { f |= Self.flagCD }
        if info.dnssecOK { f |= Self.flagDO }
        if info.optClassOffset != nil { f |= Self.flagEDNS }
        add(f)
        for shift in stride(from: 0, to: 64, by: 8) { add(UInt8(truncatingIfNeeded: poolKey >> UInt64(shift))) }
        scratchHash = h
        scratchPool = poolKey
    }

    /// A stable key for a pool: its name, so entries survive a reload that keeps the pool.
    public static func poolKey(_ name: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    // MARK: lookup

    /// Looks up the prepared key. A hit marks the entry as recently used.
    public func lookup(now: UInt64) -> Lookup {
        guard let i = find() else { counters.misses += 1; return .miss }
        let age = UInt32(min((now &- entries[i].stored) / 1_000_000_000, UInt64(UInt32.max)))
        guard now >= entries[i].stored, age < entries[i].ttl else { counters.misses += 1; return .miss }
        counters.hits += 1
        entries[i].visited = true
        entries[i].hits &+= 1
        let remaining = entries[i].ttl - age
        let prefetch = settings.prefetch && !entries[i].prefetching && entries[i].hits >= 2
            && entries[i].ttl >= 10 && remaining * 10 <= entries[i].ttl
        if prefetch {
            entries[i].prefetching = true
            counters.prefetches += 1
        }
        return .fresh(entry: i, age: age, prefetch: prefetch)
    }

    /// An expired entry still inside the serve-stale window, for when upstream failed.
    public func stale(now: UInt64) -> Int? {
        guard settings.serveStale > 0, let i = find() else { return nil }
        let age = (now &- entries[i].stored) / 1_000_000_000
        guard age < UInt64(entries[i].ttl) + UInt64(settings.serveStale) else { return nil }
        counters.staleServed += 1
        return i
    }

    private func find() -> Int? {
        guard let i = index[scratchHash], entries[Int(i)].used, entries[Int(i)].keyEquals(scratch) else { return nil }
        return Int(i)
    }

    /// The stored answer, its facts, and where its TTLs are (native UInt16 offsets), for
    /// `AnswerBuilder`; the pointers are valid only during `body`.
    public func withEntry<R>(_ i: Int, _ body: (UnsafeRawBufferPointer, PacketInfo, UnsafeRawBufferPointer) -> R) -> R {
        let keyLength = Int(entries[i].keyLength), answerLength = Int(entries[i].answerLength)
        let info = entries[i].info
        return entries[i].blob.withUnsafeBytes { b in
            body(UnsafeRawBufferPointer(rebasing: b[keyLength..<(keyLength + answerLength)]), info,
                 UnsafeRawBufferPointer(rebasing: b[(keyLength + answerLength)...]))
        }
    }

    // MARK: insert

    /// Stores an upstream answer under the prepared key, if it is cacheable: NOERROR with
    /// records (TTL clamped to min_ttl…max_ttl), a negative answer — NXDOMAIN or NODATA — with an
    /// SOA in authority (RFC 2308 §5: min(SOA TTL, MINIMUM), at most negative_max_ttl), or a
    /// SERVFAIL (servfail_ttl). Truncated answers and other RCODEs are not cached.
    public func insert(_ p: UnsafeRawBufferPointer, _ info: PacketInfo, now: UInt64) {
        let header = WireHeader.header(p)
        guard !header.truncated, let ttls = PacketScan.recordTTLs(p, info, reuse: &offsetScratch) else { return }
        var ttl: UInt32
        var cap: UInt32
        var floor: UInt32 = 0
        switch header.rcodeLow {
        case 0 where ttls.answerCount > 0:
            floor = settings.minTTL
            cap = settings.maxTTL
            ttl = min(max(ttls.minimum ?? 0, floor), cap)
        case 0, 3:
            guard let negative = ttls.negativeTTL else { return }
            ttl = min(negative, settings.negativeMaxTTL)
            cap = ttl
        case 2:
            ttl = settings.servfailTTL
            cap = ttl
        default:
            return
        }
        guard ttl > 0, p.count <= Int(UInt16.max) else { return }
        let slot = slotForInsert()
        entries[slot].used = true
        entries[slot].hash = scratchHash
        entries[slot].keyLength = UInt16(scratch.count)
        entries[slot].answerLength = UInt16(p.count)
        entries[slot].nameEnd = UInt16(info.nameEnd)
        entries[slot].optClass = UInt16(info.optClassOffset ?? 0)
        entries[slot].blob.removeAll(keepingCapacity: true)
        entries[slot].blob.reserveCapacity(scratch.count + p.count + 2 * offsetScratch.count)
        entries[slot].blob.append(contentsOf: scratch)
        entries[slot].blob.append(contentsOf: p)
        for offset in offsetScratch {
            withUnsafeBytes(of: UInt16(offset)) { entries[slot].blob.append(contentsOf: $0) }
        }
        let base = scratch.count
        entries[slot].blob.withUnsafeMutableBytes { b in
            let a = UnsafeMutableRawBufferPointer(rebasing: b[base..<(base + p.count)])
            for offset in offsetScratch {
                let original = UInt32(a[offset]) << 24 | UInt32(a[offset + 1]) << 16 | UInt32(a[offset + 2]) << 8 | UInt32(a[offset + 3])
                AnswerCache.storeTTL(a, offset, min(max(original, floor), cap))
            }
        }
        entries[slot].stored = now
        entries[slot].ttl = ttl
        entries[slot].visited = false
        entries[slot].hits = 0
        entries[slot].prefetching = false
        entries[slot].poolKey = scratchPool
        index[scratchHash] = Int32(slot)
        counters.inserts += 1
    }

    /// A free slot: the existing entry for this key, a new one while below the bound, else the
    /// CLOCK victim.
    private func slotForInsert() -> Int {
        if let i = index[scratchHash] { return Int(i) }
        if entries.count < settings.maxEntries {
            entries.append(Entry())
            return entries.count - 1
        }
        while true {
            if hand >= entries.count { hand = 0 }
            if entries[hand].visited {
                entries[hand].visited = false
                hand += 1
                continue
            }
            let victim = hand
            hand += 1
            if entries[victim].used {
                index[entries[victim].hash] = nil
                entries[victim].used = false
                counters.evictions += 1
            }
            return victim
        }
    }

    /// A prefetch of this key ended without an answer: allow another.
    public func prefetchFailed() {
        if let i = find() { entries[i].prefetching = false }
    }

    // MARK: flush

    /// Drops every entry routed to one of these pools (their targets changed on reload).
    public func flush(pools: Set<UInt64>) -> Int {
        var dropped = 0
        for i in entries.indices where entries[i].used && pools.contains(entries[i].poolKey) {
            index[entries[i].hash] = nil
            entries[i].used = false
            dropped += 1
        }
        return dropped
    }

    /// Drops every entry, or those whose question name is `name` or below it.
    public func flush(below name: DNSName?) -> Int {
        var dropped = 0
        for i in entries.indices where entries[i].used {
            if let name {
                let matches = withEntry(i) { a, info, _ -> Bool in
                    guard let n = try? DNSName(labels: Self.labels(a, info.nameEnd)) else { return false }
                    return n.isSubdomain(of: name)
                }
                guard matches else { continue }
            }
            index[entries[i].hash] = nil
            entries[i].used = false
            entries[i].visited = false
            dropped += 1
        }
        return dropped
    }

    private static func labels(_ a: UnsafeRawBufferPointer, _ end: Int) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 12
        while i < end - 1 {
            let n = Int(a[i])
            out.append(Array(a[(i + 1)..<(i + 1 + n)]))
            i += n + 1
        }
        return out
    }

    @inline(__always)
    static func storeTTL(_ a: UnsafeMutableRawBufferPointer, _ offset: Int, _ ttl: UInt32) {
        a[offset] = UInt8(truncatingIfNeeded: ttl >> 24)
        a[offset + 1] = UInt8(truncatingIfNeeded: ttl >> 16)
        a[offset + 2] = UInt8(truncatingIfNeeded: ttl >> 8)
        a[offset + 3] = UInt8(truncatingIfNeeded: ttl)
    }
}
