import DNSWire

/// What one worker counted for one endpoint. Arrays are sized once, when the worker starts:
/// counting allocates nothing.
struct EndpointCounters: Sendable {
    var udpQueries: UInt64 = 0
    var tcpQueries: UInt64 = 0
    /// Source outside `allow`.
    var refused: UInt64 = 0
    var formerr: UInt64 = 0
    var notimp: UInt64 = 0
    var dropped: UInt64 = 0
    /// UDP answers cut to the client's size, TC set.
    var truncated: UInt64 = 0
    /// Answers sent, by RCODE (header bits; 0-15).
    var rcodes = [UInt64](repeating: 0, count: 16)
    /// Well-formed queries by `QueryTypeClass`.
    var qtypes = [UInt64](repeating: 0, count: QueryTypeClass.allCases.count)

    mutating func add(_ o: EndpointCounters) {
        udpQueries += o.udpQueries; tcpQueries += o.tcpQueries; refused += o.refused; formerr += o.formerr
        notimp += o.notimp; dropped += o.dropped; truncated += o.truncated
        for i in rcodes.indices { rcodes[i] += o.rcodes[i] }
        for i in qtypes.indices { qtypes[i] += o.qtypes[i] }
    }
}

/// The query types operators chart, each its own class, and the rest together.
enum QueryTypeClass: Int, CaseIterable, Sendable {
    case a, aaaa, cname, mx, ns, ptr, soa, srv, txt, https, svcb, caa, ds, dnskey, any, other

    init(_ t: RecordType) {
        switch t {
        case .a: self = .a
        case .aaaa: self = .aaaa
        case .cname: self = .cname
        case .mx: self = .mx
        case .ns: self = .ns
        case .ptr: self = .ptr
        case .soa: self = .soa
        case .srv: self = .srv
        case .txt: self = .txt
        case .https: self = .https
        case .svcb: self = .svcb
        case .caa: self = .caa
        case .ds: self = .ds
        case .dnskey: self = .dnskey
        case .any: self = .any
        default: self = .other
        }
    }

    var label: String { self == .other ? "other" : "\(self)".uppercased() }
}
