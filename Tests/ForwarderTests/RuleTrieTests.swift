import DNSWire
import Forwarder
import Testing

func n(_ s: String) -> DNSName { try! DNSName(s) }

@Suite("rule trie")
struct RuleTrieTests {
    @Test func mostSpecificWholeLabelMatch() {
        var t = RuleTrie()
        t.insert(n("corp.example"), rule: 0, endpoints: nil)
        t.insert(n("public.corp.example"), rule: 1, endpoints: nil)
        #expect(t.longestMatch(n("corp.example"), endpoint: 0) == 0)
        #expect(t.longestMatch(n("a.b.corp.example"), endpoint: 0) == 0)
        #expect(t.longestMatch(n("www.public.corp.example"), endpoint: 0) == 1)
        #expect(t.longestMatch(n("public.corp.example"), endpoint: 0) == 1)
        #expect(t.longestMatch(n("xcorp.example"), endpoint: 0) == nil)
        #expect(t.longestMatch(n("example"), endpoint: 0) == nil)
        #expect(t.longestMatch(.root, endpoint: 0) == nil)
    }

    @Test func caseInsensitive() {
        var t = RuleTrie()
        t.insert(n("Corp.EXAMPLE"), rule: 3, endpoints: nil)
        #expect(t.longestMatch(n("WWW.corp.example"), endpoint: 0) == 3)
    }

    @Test func rootIsACatchAll() {
        var t = RuleTrie()
        t.insert(.root, rule: 9, endpoints: nil)
        t.insert(n("corp.example"), rule: 1, endpoints: nil)
        #expect(t.longestMatch(n("anything.else"), endpoint: 0) == 9)
        #expect(t.longestMatch(.root, endpoint: 0) == 9)
        #expect(t.longestMatch(n("a.corp.example"), endpoint: 0) == 1)
    }

    @Test func endpointBindings() {
        var t = RuleTrie()
        t.insert(n("corp.example"), rule: 0, endpoints: [1])
        t.insert(n("corp.example"), rule: 1, endpoints: [0, 70])  // beyond one bitset word
        t.insert(n("example"), rule: 2, endpoints: nil)
        #expect(t.longestMatch(n("a.corp.example"), endpoint: 1) == 0)
        #expect(t.longestMatch(n("a.corp.example"), endpoint: 0) == 1)
        #expect(t.longestMatch(n("a.corp.example"), endpoint: 70) == 1)
        #expect(t.longestMatch(n("a.corp.example"), endpoint: 2) == 2)  // falls back to the shorter rule
    }

    @Test func rawWireLookupMatchesAndRejectsJunk() {
        var t = RuleTrie()
        t.insert(n("corp.example"), rule: 0, endpoints: nil)
        let withRoot = n("x.corp.example").wire + [0]
        #expect(withRoot.withUnsafeBytes { t.longestMatch(wire: $0, endpoint: 0) } == 0)
        let overrun: [UInt8] = [1, 0x78, 4, 0x63, 0x6f]  // label claims more than is there
        #expect(overrun.withUnsafeBytes { t.longestMatch(wire: $0, endpoint: 0) } == nil)
    }

    @Test func candidatesListEverySuffix() {
        var t = RuleTrie()
        t.insert(n("corp.example"), rule: 0, endpoints: [0])
        t.insert(n("public.corp.example"), rule: 1, endpoints: nil)
        let c = t.candidates(n("www.public.corp.example"))
        #expect(c.map(\.suffix.description) == ["www.public.corp.example.", "public.corp.example.", "corp.example.", "example.", "."])
        #expect(c.map(\.rules) == [[], [1], [0], [], []])
    }

    /// Against a brute-force oracle over random names: the trie must agree on every lookup.
    @Test func agreesWithBruteForce() {
        var rng = SplitMix(seed: 42)
        let labels = ["a", "b", "corp", "Example", "x", "internal", "cloud"]
        func randomName(_ maxLabels: Int) -> DNSName {
            let count = Int(rng.next() % UInt64(maxLabels + 1))
            return try! DNSName(labels: (0..<count).map { _ in Array(labels[Int(rng.next() % UInt64(labels.count))].utf8) })
        }
        var t = RuleTrie()
        var rules: [(DNSName, [Int]?)] = []
        var seen = Set<DNSName>()
        while rules.count < 300 {
            let d = randomName(4)
            guard seen.insert(d).inserted else { continue }
            let endpoints: [Int]? = rng.next() % 3 == 0 ? [Int(rng.next() % 3)] : nil
            t.insert(d, rule: Int32(rules.count), endpoints: endpoints)
            rules.append((d, endpoints))
        }
        for _ in 0..<5000 {
            let q = randomName(6)
            let e = Int(rng.next() % 3)
            let oracle = rules.indices
                .filter { q.isSubdomain(of: rules[$0].0) && (rules[$0].1?.contains(e) ?? true) }
                .max { rules[$0].0.labelCount < rules[$1].0.labelCount }
            #expect(t.longestMatch(q, endpoint: e).map(Int.init) == oracle, "\(q) on endpoint \(e)")
        }
    }
}

/// A small deterministic generator, so failures reproduce.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
