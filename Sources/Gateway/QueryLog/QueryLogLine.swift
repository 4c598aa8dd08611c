import Addressing
import DNSWire
import EventIO
import Forwarder

/// One query-log line: the fields operators know from the cloud resolvers' query logs, and what
/// those lack (rule, pool, target, latency, cache hit). Written as one JSON object.
struct QueryLogLine {
    struct Answer {
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

    /// The line as JSON, appended to `out`: written by hand rather than through JSONEncoder,
    /// since the log thread renders a line for every query the gateway answers. Every field on
    /// every line, null where it does not apply, in a fixed order.
    func write(into out: inout [UInt8]) {
        var j = JSONWriter(out: out)
        j.begin()
        j.field("timestamp", timestamp); j.field("endpoint", endpoint)
        j.field("client_address", client_address); j.field("client_port", Int64(client_port))
        j.field("transport", transport); j.field("query_name", query_name)
        j.field("query_type", query_type); j.field("query_class", query_class); j.field("rcode", rcode)
        j.key("answers")
        if let answers {
            j.raw("[")
            for (i, a) in answers.enumerated() {
                if i > 0 { j.raw(",") }
                j.begin()
                j.field("name", a.name); j.field("type", a.type); j.field("class", a.class)
                j.field("ttl", Int64(a.ttl)); j.field("rdata", a.rdata)
                j.end()
            }
            j.raw("]")
        } else {
            j.raw("null")
        }
        j.field("rule", rule); j.field("pool", pool); j.field("target", target)
        j.key("latency_ms"); j.raw(String(latency_ms))
        j.key("cache_hit"); j.raw(cache_hit ? "true" : "false")
        j.field("source", source)
        j.end()
        out = j.out
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
        timestamp = RFC3339.format(nanos: r.realtimeNanos)
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

/// Just enough JSON writing for the query log: objects, string and integer fields, escaping as
/// RFC 8259 requires.
struct JSONWriter {
    var out: [UInt8]
    private var first = true

    init(out: [UInt8]) { self.out = out }

    mutating func begin() { out.append(UInt8(ascii: "{")); first = true }
    mutating func end() { out.append(UInt8(ascii: "}")); first = false }
    mutating func raw(_ s: String) { out.append(contentsOf: s.utf8); first = false }

    mutating func key(_ k: String) {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        string(k)
        out.append(UInt8(ascii: ":"))
        first = true
    }

    mutating func field(_ k: String, _ v: String?) {
        key(k)
        if let v { string(v) } else { out.append(contentsOf: "null".utf8) }
        first = false
    }

    mutating func field(_ k: String, _ v: Int64) {
        key(k)
        out.append(contentsOf: String(v).utf8)
        first = false
    }

    private mutating func string(_ s: String) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
