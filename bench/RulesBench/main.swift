// Rule-engine benchmark: builds a routing table of N generated rules (default 1 000 000) and
// reports build time, resident memory added, and lookups per second for names that hit a rule
// and names that miss. A benchmark, not a test: figures go in the README, nothing is asserted.
//
// usage: rules-bench [RULES] [LOOKUPS]
import Addressing
import DNSWire
import Forwarder
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func residentKiB() -> Int {
    guard let f = fopen("/proc/self/status", "r") else { return 0 }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, 256, f) != nil {
        let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if s.hasPrefix("VmRSS:") { return Int(s.split(separator: " ")[1]) ?? 0 }
    }
    return 0
}

func ruleDomain(_ i: Int) -> DNSName {
    try! DNSName("svc\(i).team\(i % 5000).region\(i % 16).corp.example")
}

let args = CommandLine.arguments
let ruleCount = args.count > 1 ? Int(args[1]) ?? 1_000_000 : 1_000_000
let lookupCount = args.count > 2 ? Int(args[2]) ?? 2_000_000 : 2_000_000

let any = try! CIDR(parsing: "0.0.0.0/0")
let pools = [PoolSpec(name: "p", targets: [TargetSpec(address: SocketAddress(ip: .v4(0x7F00_0001), port: 53))])]
let endpoints = [EndpointSpec(name: "e", direction: .outbound, addresses: [], protocols: [.do53], allow: [any],
                              sourceAddresses: [], systemPool: 0)]

let rssBefore = residentKiB()
var t0 = now()
var rules: [Rule] = []
rules.reserveCapacity(ruleCount)
for i in 0..<ruleCount {
    rules.append(Rule(name: "r\(i)", domain: ruleDomain(i), action: i % 7 == 0 ? .system : .forward(pool: 0), endpoints: nil))
}
let generated = now() - t0
t0 = now()
let table = RoutingTable(endpoints: endpoints, pools: pools, rules: rules)
let built = now() - t0
let rssAfter = residentKiB()

// Query names prepared up front in wire form, so the loop measures the lookup alone.
struct XorShift {
    var state: UInt64 = 0x2545_F491_4F6C_DD1D
    mutating func next() -> Int {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Int(truncatingIfNeeded: state & 0x7FFF_FFFF)
    }
}
var rng = XorShift()
let sampleSize = 100_000
let hits = (0..<sampleSize).map { _ in try! DNSName("host.\(ruleDomain(rng.next() % ruleCount))").wire + [0] }
let misses = (0..<sampleSize).map { _ in try! DNSName("host\(rng.next()).elsewhere.example").wire + [0] }

func measure(_ names: [[UInt8]], _ table: RoutingTable, _ lookups: Int) -> (perSecond: Double, matched: Int) {
    var matched = 0
    let start = now()
    var i = 0
    while i < lookups {
        let route = names[i % names.count].withUnsafeBytes { table.route(wire: $0, endpoint: 0) }
        if route.rule != nil { matched += 1 }
        i += 1
    }
    return (Double(lookups) / (now() - start), matched)
}

let hit = measure(hits, table, lookupCount)
let miss = measure(misses, table, lookupCount)
func fmt(_ v: Double, _ digits: Int = 2) -> String {
    let p = pow(10.0, Double(digits))
    return String((v * p).rounded() / p)
}
print("rules:              \(ruleCount) (trie nodes \(table.trie.nodeCount))")
print("generate rules:     \(fmt(generated)) s")
print("build trie:         \(fmt(built)) s")
print("memory (RSS added): \(fmt(Double(rssAfter - rssBefore) / 1024, 1)) MiB (\(fmt(Double((rssAfter - rssBefore) * 1024) / Double(ruleCount), 0)) bytes per rule, rule list included)")
print("lookups, hit:       \(fmt(hit.perSecond / 1e6)) M/s (\(hit.matched)/\(lookupCount) matched, 7-label names)")
print("lookups, miss:      \(fmt(miss.perSecond / 1e6)) M/s (\(miss.matched)/\(lookupCount) matched)")
