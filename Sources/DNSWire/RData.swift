/// Typed views of the RDATA a forwarder must understand; every other type is kept as opaque
/// bytes (RFC 3597), so nothing is lost when a message passes through.
public enum RData: Hashable, Sendable {
    case a(IPv4Bytes)
    case aaaa(IPv6Bytes)
    case ns(DNSName)
    case cname(DNSName)
    case ptr(DNSName)
    case soa(SOA)
    case mx(preference: UInt16, exchange: DNSName)
    /// One or more character strings of at most 255 octets each.
    case txt([[UInt8]])
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    case caa(flags: UInt8, tag: [UInt8], value: [UInt8])
    case opaque([UInt8])

    public struct SOA: Hashable, Sendable {
        public var mname: DNSName
        public var rname: DNSName
        public var serial: UInt32
        public var refresh: UInt32
        public var retry: UInt32
        public var expire: UInt32
        public var minimum: UInt32
        public init(mname: DNSName, rname: DNSName, serial: UInt32, refresh: UInt32,
                    retry: UInt32, expire: UInt32, minimum: UInt32) {
            self.mname = mname; self.rname = rname; self.serial = serial; self.refresh = refresh
            self.retry = retry; self.expire = expire; self.minimum = minimum
        }
    }

    /// Reads `length` octets of RDATA of `type` at the reader's offset. The typed views must
    /// consume exactly `length` octets, or the record is malformed.
    static func read(type: RecordType, length: Int, from r: inout WireReader) throws(WireError) -> RData {
        let start = r.offset
        let end = start + length
        guard end <= r.bytes.count else { throw .truncated(offset: start) }
        let bad = WireError.badRdata(type: type.rawValue, offset: start)
        let value: RData
        switch type {
        case .a:
            guard length == 4 else { throw bad }
            let b = try r.readBytes(4)
            value = .a(IPv4Bytes(b[0], b[1], b[2], b[3]))
        case .aaaa:
            guard length == 16 else { throw bad }
            value = .aaaa(IPv6Bytes(try r.readBytes(16)))
        case .ns: value = .ns(try r.readName())
        case .cname: value = .cname(try r.readName())
        case .ptr: value = .ptr(try r.readName())
        case .soa:
            let m = try r.readName(), n = try r.readName()
            guard end - r.offset == 20 else { throw bad }
            value = .soa(SOA(mname: m, rname: n, serial: try r.readUInt32(), refresh: try r.readUInt32(),
                             retry: try r.readUInt32(), expire: try r.readUInt32(), minimum: try r.readUInt32()))
        case .mx:
            guard length >= 3 else { throw bad }
            value = .mx(preference: try r.readUInt16(), exchange: try r.readName())
        case .txt:
            var strings: [[UInt8]] = []
            while r.offset < end {
                let n = Int(try r.readUInt8())
                guard r.offset + n <= end else { throw bad }
                strings.append(try r.readBytes(n))
            }
            guard !strings.isEmpty else { throw bad }
            value = .txt(strings)
        case .srv:
            guard length >= 7 else { throw bad }
            value = .srv(priority: try r.readUInt16(), weight: try r.readUInt16(), port: try r.readUInt16(),
                         target: try r.readName())
        case .caa:
            guard length >= 2 else { throw bad }
            let flags = try r.readUInt8()
            let tagLength = Int(try r.readUInt8())
            guard tagLength >= 1, r.offset + tagLength <= end else { throw bad }
            let tag = try r.readBytes(tagLength)
            value = .caa(flags: flags, tag: tag, value: try r.readBytes(end - r.offset))
        default:
            value = .opaque(try r.readBytes(length))
        }
        guard r.offset == end else { throw bad }
        return value
    }

    /// Writes the RDATA (without its length). Names in NS, CNAME, PTR, SOA and MX are compressed
    /// (RFC 3597 §4 lists them as well known); SRV's target never is (RFC 2782).
    func write(to w: inout WireWriter) throws(WireError) {
        switch self {
        case .a(let v): w.writeBytes(v.octets)
        case .aaaa(let v): w.writeBytes(v.octets)
        case .ns(let n), .cname(let n), .ptr(let n): w.writeName(n, compress: true)
        case .soa(let s):
            w.writeName(s.mname, compress: true)
            w.writeName(s.rname, compress: true)
            w.writeUInt32(s.serial); w.writeUInt32(s.refresh); w.writeUInt32(s.retry)
            w.writeUInt32(s.expire); w.writeUInt32(s.minimum)
        case .mx(let p, let x):
            w.writeUInt16(p)
            w.writeName(x, compress: true)
        case .txt(let strings):
            for s in strings {
                guard s.count <= 255 else { throw .stringTooLong }
                w.writeUInt8(UInt8(s.count))
                w.writeBytes(s)
            }
        case .srv(let p, let wt, let port, let t):
            w.writeUInt16(p); w.writeUInt16(wt); w.writeUInt16(port)
            w.writeName(t, compress: false)
        case .caa(let flags, let tag, let value):
            guard !tag.isEmpty, tag.count <= 255 else { throw .stringTooLong }
            w.writeUInt8(flags)
            w.writeUInt8(UInt8(tag.count))
            w.writeBytes(tag)
            w.writeBytes(value)
        case .opaque(let b): w.writeBytes(b)
        }
    }
}

/// The four octets of an A record, in network order.
public struct IPv4Bytes: Hashable, Sendable, CustomStringConvertible {
    public var octets: [UInt8]
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) { octets = [a, b, c, d] }
    public var description: String { octets.map(String.init).joined(separator: ".") }
}

/// The sixteen octets of an AAAA record, in network order.
public struct IPv6Bytes: Hashable, Sendable, CustomStringConvertible {
    public var octets: [UInt8]
    public init(_ octets: [UInt8]) {
        precondition(octets.count == 16, "an IPv6 address has 16 octets")
        self.octets = octets
    }
    /// RFC 5952 text: lower-case hex, the longest run of two or more zero groups as `::`.
    public var description: String {
        let groups = (0..<8).map { UInt16(octets[2 * $0]) << 8 | UInt16(octets[2 * $0 + 1]) }
        var bestStart = -1, bestLength = 0, i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8, groups[j] == 0 { j += 1 }
                if j - i > bestLength, j - i >= 2 { bestStart = i; bestLength = j - i }
                i = j
            } else { i += 1 }
        }
        func hex(_ r: Range<Int>) -> String { r.map { String(groups[$0], radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
