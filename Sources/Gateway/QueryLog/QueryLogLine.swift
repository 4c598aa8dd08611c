import Addressing
import DNSWire
import EventIO
import Forwarder

/// One query-log line: the fields operators know from the cloud resolvers' query logs, and what
/// those lack (rule, pool, target, latency, cache hit). Written as one JSON object.
struct QueryLogLine: Encodable {
    struct Answer: Encodable {
        var name: String
        var type: String
        var `class`: String
        var ttl: UInt32
        var rdata: String
    }

    var timestamp: String
    var endpoint: String
    var client_address: String
    var client_port: Int
    var transport: String
    var query_name: String
    var query_type: String
    var query_class: String
    var rcode: String
    var answers: [Answer]?
    var rule: String?
    var pool: String?
    var target: String?
    var latency_ms: Double
    var cache_hit: Bool
    /// upstream, cache, stale (RFC 8767) or local (made here: REFUSED, FORMERR, SERVFAIL).
    var source: String

    func encode(to encoder: Encoder) throws {
        // Every field on every line, null where it does not apply: lines are easier to load.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(timestamp, forKey: .timestamp); try c.encode(endpoint, forKey: .endpoint)
        try c.encode(client_address, forKey: .client_address); try c.encode(client_port, forKey: .client_port)
        try c.encode(transport, forKey: .transport); try c.encode(query_name, forKey: .query_name)
        try c.encode(query_type, forKey: .query_type); try c.encode(query_class, forKey: .query_class)
        try c.encode(rcode, forKey: .rcode); try c.encode(answers, forKey: .answers)
        try c.encode(rule, forKey: .rule); try c.encode(pool, forKey: .pool); try c.encode(target, forKey: .target)
        try c.encode(latency_ms, forKey: .latency_ms); try c.encode(cache_hit, forKey: .cache_hit)
        try c.encode(source, forKey: .source)
    }

    enum CodingKeys: String, CodingKey {
        case timestamp, endpoint, client_address, client_port, transport, query_name, query_type, query_class
        case rcode, answers, rule, pool, target, latency_ms, cache_hit, source
    }

    /// nil when the answer is too damaged to name its question (never for answers we built).
    init?(_ r: QueryLogRing.Record, answer: UnsafeRawBufferPointer, table: RoutingTable) {
        let bytes = Array(answer)
        guard bytes.count >= 12 else { return nil }
        var reader = WireReader(bytes, offset: 12)
        guard let name = try? reader.readName(), let type = try? reader.readUInt16(), let klass = try? reader.readUInt16() else {
            return nil
        }
        var peer = r.peer
        let client = withUnsafePointer(to: &peer) { SocketAddress(storage: $0) }
        timestamp = AuditLog.rfc3339(nanos: r.realtimeNanos)
        endpoint = Int(r.endpoint) < table.endpoints.count ? table.endpoints[Int(r.endpoint)].name : "?"
        client_address = client.map { "\($0.ip)" } ?? "?"
        client_port = Int(client?.port ?? 0)
        transport = r.tcp ? "tcp" : "udp"
        query_name = name.description
        query_type = RecordType(rawValue: type).description
        query_class = RecordClass(rawValue: klass).description
        if r.captured == r.answerLength, let message = try? Message(parsing: bytes) {
            rcode = message.rcode.description
            answers = message.answers.map {
                Answer(name: $0.name.description, type: $0.type.description, class: $0.recordClass.description, ttl: $0.ttl,
                       rdata: Presentation.rdata($0.data))
            }
        } else {
            rcode = RCode(rawValue: UInt16(bytes[3] & 0x0F)).description
            answers = nil
        }
        if r.rule >= 0, Int(r.rule) < table.rules.count { rule = table.rules[Int(r.rule)].name }
        if r.pool >= 0, Int(r.pool) < table.pools.count {
            let p = table.pools[Int(r.pool)]
            pool = p.name
            if r.target >= 0, Int(r.target) < p.targets.count { target = p.targets[Int(r.target)].address.description }
        }
        latency_ms = Double(r.latencyNanos) / 1e6
        cache_hit = r.source == .cache || r.source == .stale
        switch r.source {
        case .upstream: source = "upstream"
        case .cache: source = "cache"
        case .stale: source = "stale"
        case .local: source = "local"
        }
    }
}

/// RDATA in presentation format (RFC 1035 §5.1; RFC 3597 `\# length hex` for the rest).
enum Presentation {
    static func rdata(_ d: RData) -> String {
        switch d {
        case .a(let a): return a.description
        case .aaaa(let a): return a.description
        case .ns(let n), .cname(let n), .ptr(let n): return n.description
        case .soa(let s):
            return "\(s.mname) \(s.rname) \(s.serial) \(s.refresh) \(s.retry) \(s.expire) \(s.minimum)"
        case .mx(let p, let e): return "\(p) \(e)"
        case .txt(let strings): return strings.map(quoted).joined(separator: " ")
        case .srv(let p, let w, let port, let t): return "\(p) \(w) \(port) \(t)"
        case .caa(let flags, let tag, let value): return "\(flags) \(String(decoding: tag, as: UTF8.self)) \(quoted(value))"
        case .opaque(let bytes):
            let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            return "\\# \(bytes.count)" + (bytes.isEmpty ? "" : " \(hex)")
        }
    }

    static func quoted(_ s: [UInt8]) -> String {
        var out = "\""
        for b in s {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += "\\" + String(UnicodeScalar(b))
            case 0x20...0x7E: out.append(Character(UnicodeScalar(b)))
            default:
                let d = String(b)
                out += "\\" + String(repeating: "0", count: 3 - d.count) + d
            }
        }
        return out + "\""
    }
}
