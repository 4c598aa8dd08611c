import DNSWire
import Forwarder
import Testing

/// The cache with an injected clock: `now` is passed in, in nanoseconds.
@Suite("answer cache")
struct AnswerCacheTests {
    static let second: UInt64 = 1_000_000_000

    func query(_ name: String, _ type: RecordType = .a, id: UInt16 = 1, dnssec: Bool = false) -> [UInt8] {
        try! Message(header: Header(id: id, flags: 0x0100), questions: [Question(name: n(name), type: type)],
                     edns: dnssec ? EDNS(dnssecOK: true) : nil).serialize()
    }

    func answer(_ name: String, ttls: [UInt32], rcode: RCode = .noError, soa: (ttl: UInt32, minimum: UInt32)? = nil) -> [UInt8] {
        var m = Message(header: Header(id: 9, flags: 0x8180), questions: [Question(name: n(name), type: .a)],
                        answers: ttls.enumerated().map { i, ttl in
                            ResourceRecord(name: n(name), type: .a, ttl: ttl, data: .a(IPv4Bytes(198, 18, 0, UInt8(i + 1))))
                        })
        if let soa {
            m.authorities = [ResourceRecord(name: n("example"), type: .soa, ttl: soa.ttl, data: .soa(RData.SOA(
                mname: n("ns.example"), rname: n("h.example"), serial: 1, refresh: 2, retry: 3, expire: 4, minimum: soa.minimum)))]
        }
        m.rcode = rcode
        return try! m.serialize()
    }

    func scan(_ bytes: [UInt8]) -> PacketInfo {
        bytes.withUnsafeBytes { p in
            guard case .success(let i) = PacketScan.scan(p) else { fatalError("test message must scan") }
            return i
        }
    }

    func key(_ cache: AnswerCache, _ q: [UInt8], pool: String = "p") {
        q.withUnsafeBytes { cache.prepareKey($0, scan(q), poolKey: AnswerCache.poolKey(pool)) }
    }

    func insert(_ cache: AnswerCache, _ q: [UInt8], _ a: [UInt8], at now: UInt64, pool: String = "p") {
        key(cache, q, pool: pool)
        a.withUnsafeBytes { cache.insert($0, scan(a), now: now) }
    }

    /// The TTLs a client would see, built the way the exchange builds a cached answer.
    func served(_ cache: AnswerCache, _ q: [UInt8], at now: UInt64, pool: String = "p") -> [UInt32]? {
        key(cache, q, pool: pool)
        guard case .fresh(let entry, let age, _) = cache.lookup(now: now) else { return nil }
        return cache.withEntry(entry) { stored, _, offsets in
            (0..<(offsets.count / 2)).map { k -> UInt32 in
                let at = Int(offsets.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self))
                let ttl = UInt32(stored[at]) << 24 | UInt32(stored[at + 1]) << 16 | UInt32(stored[at + 2]) << 8 | UInt32(stored[at + 3])
                return ttl > age ? ttl - age : 0
            }
        }
    }

    @Test func ttlsAgeToTheSecondAndExpire() {
        let cache = AnswerCache(settings: CacheSettings())
        let q = query("www.example")
        insert(cache, q, answer("www.example", ttls: [300, 60]), at: 1_000 * Self.second)
        #expect(served(cache, q, at: 1_000 * Self.second) == [300, 60])
        #expect(served(cache, q, at: 1_000 * Self.second + Self.second / 2) == [300, 60])  // not a whole second yet
        #expect(served(cache, q, at: 1_010 * Self.second) == [290, 50])
        #expect(served(cache, q, at: 1_059 * Self.second) == [241, 1])
        #expect(served(cache, q, at: 1_060 * Self.second) == nil)  // the shortest TTL decides
    }

    @Test func keyFollowsNameCaseInsensitivelyAndFlagsAndPool() {
        let cache = AnswerCache(settings: CacheSettings())
        insert(cache, query("www.example"), answer("www.example", ttls: [60]), at: 0)
        #expect(served(cache, query("WWW.Example", id: 77), at: 0) == [60])
        #expect(served(cache, query("www.example", dnssec: true), at: 0) == nil)
        #expect(served(cache, query("www.example", .aaaa), at: 0) == nil)
        #expect(served(cache, query("www.example"), at: 0, pool: "other") == nil)
    }

    @Test func maxAndMinTTLClamp() {
        let cache = AnswerCache(settings: CacheSettings(maxTTL: 100, minTTL: 20))
        let q = query("a.example")
        insert(cache, q, answer("a.example", ttls: [5, 1000]), at: 0)
        #expect(served(cache, q, at: 0) == [20, 100])
    }

    @Test func negativeAnswersUseSOAMinimum() {
        let cache = AnswerCache(settings: CacheSettings(negativeMaxTTL: 900))
        let q = query("nope.example")
        // RFC 2308 §5: min(SOA TTL, SOA MINIMUM).
        insert(cache, q, answer("nope.example", ttls: [], rcode: .nxDomain, soa: (3600, 120)), at: 0)
        #expect(served(cache, q, at: 0) == [120])
        #expect(served(cache, q, at: 119 * Self.second) == [1])
        #expect(served(cache, q, at: 120 * Self.second) == nil)
        // Capped by negative_max_ttl.
        let capped = AnswerCache(settings: CacheSettings(negativeMaxTTL: 30))
        insert(capped, q, answer("nope.example", ttls: [], rcode: .nxDomain, soa: (3600, 120)), at: 0)
        #expect(served(capped, q, at: 0) == [30])
        // NODATA is negative too; without an SOA nothing is cached.
        let nodata = query("empty.example")
        insert(cache, nodata, answer("empty.example", ttls: [], soa: (60, 600)), at: 0)
        #expect(served(cache, nodata, at: 0) == [60])
        let bare = query("bare.example")
        insert(cache, bare, answer("bare.example", ttls: [], rcode: .nxDomain), at: 0)
        #expect(served(cache, bare, at: 0) == nil)
    }

    @Test func servfailCachedBriefly() {
        let cache = AnswerCache(settings: CacheSettings(servfailTTL: 5))
        let q = query("broken.example")
        insert(cache, q, answer("broken.example", ttls: [], rcode: .servFail), at: 0)
        #expect(served(cache, q, at: 4 * Self.second) == [])
        #expect(served(cache, q, at: 5 * Self.second) == nil)
        insert(cache, q, answer("broken.example", ttls: [], rcode: .refused), at: 10 * Self.second)
        #expect(served(cache, q, at: 10 * Self.second) == nil)  // REFUSED is never cached
    }

    @Test func boundedAndKeepsHotEntries() {
        let cache = AnswerCache(settings: CacheSettings(maxEntries: 100))
        let hot = query("hot.example")
        insert(cache, hot, answer("hot.example", ttls: [600]), at: 0)
        for i in 0..<1_000 {
            _ = served(cache, hot, at: 0)  // touched between inserts: CLOCK keeps it
            insert(cache, query("n\(i).example"), answer("n\(i).example", ttls: [600]), at: 0)
        }
        #expect(cache.count == 100)
        #expect(cache.counters.evictions == 901)
        #expect(served(cache, hot, at: 0) == [600])
        #expect(served(cache, query("n999.example"), at: 0) == [600])
        #expect(served(cache, query("n0.example"), at: 0) == nil)
    }

    @Test func prefetchInTheLastTenthOfAPopularEntry() {
        let cache = AnswerCache(settings: CacheSettings())
        let q = query("pop.example")
        insert(cache, q, answer("pop.example", ttls: [100]), at: 0)
        func prefetch(at t: UInt64) -> Bool {
            key(cache, q)
            if case .fresh(_, _, let p) = cache.lookup(now: t) { return p }
            return false
        }
        #expect(!prefetch(at: 10 * Self.second))  // first hit: not popular yet
        #expect(!prefetch(at: 50 * Self.second))  // popular, but 50 s of 100 remain
        #expect(prefetch(at: 91 * Self.second))   // last 10 %
        #expect(!prefetch(at: 92 * Self.second))  // one refresh at a time
        cache.prefetchFailed()
        #expect(prefetch(at: 93 * Self.second))   // a failed refresh may be tried again
        #expect(cache.counters.prefetches == 2)
    }

    @Test func serveStaleWindow() {
        let cache = AnswerCache(settings: CacheSettings(serveStale: 3600))
        let q = query("old.example")
        insert(cache, q, answer("old.example", ttls: [60]), at: 0)
        key(cache, q)
        #expect(cache.stale(now: 120 * Self.second) != nil)
        #expect(cache.stale(now: 3_700 * Self.second) == nil)
        let off = AnswerCache(settings: CacheSettings(serveStale: 0))
        insert(off, q, answer("old.example", ttls: [60]), at: 0)
        key(off, q)
        #expect(off.stale(now: 120 * Self.second) == nil)
    }

    @Test func flushByNameAndByPool() {
        let cache = AnswerCache(settings: CacheSettings())
        insert(cache, query("a.corp.example"), answer("a.corp.example", ttls: [60]), at: 0)
        insert(cache, query("b.other.example"), answer("b.other.example", ttls: [60]), at: 0, pool: "q")
        #expect(cache.flush(below: n("corp.example")) == 1)
        #expect(served(cache, query("a.corp.example"), at: 0) == nil)
        #expect(cache.flush(pools: [AnswerCache.poolKey("q")]) == 1)
        #expect(cache.count == 0)
    }
}
