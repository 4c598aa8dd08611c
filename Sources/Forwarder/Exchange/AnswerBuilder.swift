import DNSWire

/// Builds what a client receives from an upstream answer or from nothing at all: in a reused
/// buffer, touching only the bytes that must change.
public struct AnswerBuilder {
    /// The EDNS UDP size dnsbridge advertises, and the most it sends over UDP whatever the client
    /// offers: 1232 octets fit any path's MTU without fragmentation (DNS flag day 2020).
    public static let advertisedUDPSize: UInt16 = 1232

    public private(set) var buffer: [UInt8] = []

    public init() { buffer.reserveCapacity(65_536) }

    /// The upstream answer rewritten for one client: the client's ID, its question exactly as
    /// asked (same length, only case may differ), our advertised EDNS size, and truncation to
    /// what it accepts over UDP (TC set) — the last being the only path that builds values.
    mutating func rewrite<Name: Collection>(_ answer: UnsafeRawBufferPointer, info: PacketInfo, clientID: UInt16,
                                            clientQuestionName: Name, limit: Int, ttls: TTLRewrite = .keep)
    where Name.Element == UInt8 {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: answer)
        buffer.withUnsafeMutableBytes { p in
            WireHeader.setID(p, clientID)
            var j = 12
            for b in clientQuestionName { p[j] = b; j += 1 }
            if let opt = info.optClassOffset {
                p[opt] = UInt8(Self.advertisedUDPSize >> 8)
                p[opt + 1] = UInt8(Self.advertisedUDPSize & 0xFF)
            }
            switch ttls {
            case .keep:
                break
            case .age(let seconds, let offsets):
                // A cached answer's TTLs count down from when it was stored (RFC 1035 §7.3).
                for k in 0..<(offsets.count / 2) {
                    let at = Int(offsets.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self))
                    let ttl = UInt32(p[at]) << 24 | UInt32(p[at + 1]) << 16 | UInt32(p[at + 2]) << 8 | UInt32(p[at + 3])
                    AnswerCache.storeTTL(p, at, ttl > seconds ? ttl - seconds : 0)
                }
            case .set(let value, let offsets):
                for k in 0..<(offsets.count / 2) {
                    AnswerCache.storeTTL(p, Int(offsets.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self)), value)
                }
            }
        }
        if buffer.count > limit { truncate(limit: limit) }
    }

    /// What to do with the TTLs of the answer being rewritten.
    enum TTLRewrite {
        case keep
        /// Subtract the entry's age from each TTL at these offsets (native UInt16s).
        case age(UInt32, UnsafeRawBufferPointer)
        /// Set each TTL to this value (a stale answer, RFC 8767).
        case set(UInt32, UnsafeRawBufferPointer)
    }

    /// Re-encodes to at most `limit` octets, whole RRsets at a time, with TC set. An answer that
    /// passed the scan but not the full parse is cut to its header and question, with TC.
    private mutating func truncate(limit: Int) {
        if let message = try? Message(parsing: buffer), let bytes = try? message.serialize(maxSize: limit) {
            buffer = bytes
            return
        }
        let questionEnd = buffer.withUnsafeBytes { p -> Int in
            if case .success(let i) = PacketScan.scan(p) { return i.questionEnd }
            return 12
        }
        buffer.removeSubrange(questionEnd...)
        buffer.withUnsafeMutableBytes { p in
            WireHeader.setCounts(p, qd: questionEnd > 12 ? 1 : 0, an: 0, ns: 0, ar: 0)
            WireHeader.setTruncated(p, true)
        }
    }

    /// A reply made from the client's own question with the given RCODE: REFUSED, SERVFAIL,
    /// FORMERR, NOTIMP. `question` is the question section as the client sent it (may be empty
    /// when it could not be read); the OPT record is added when the client used EDNS.
    public mutating func reply(id: UInt16, queryFlags: UInt16, question: UnsafeRawBufferPointer, rcode: RCode, edns: Bool) {
        buffer.removeAll(keepingCapacity: true)
        var h = Header(id: id, flags: queryFlags)
        h.isResponse = true
        h.authoritative = false
        h.truncated = false
        h.recursionAvailable = true
        h.authenticData = false
        h.rcodeLow = UInt8(rcode.rawValue & 0xF)
        buffer.append(UInt8(h.id >> 8)); buffer.append(UInt8(h.id & 0xFF))
        buffer.append(UInt8(h.flags >> 8)); buffer.append(UInt8(h.flags & 0xFF))
        buffer.append(contentsOf: [0, question.count == 0 ? 0 : 1, 0, 0, 0, 0, 0, edns ? 1 : 0])
        buffer.append(contentsOf: question)
        if edns {
            buffer.append(contentsOf: [0, 0, 41, UInt8(Self.advertisedUDPSize >> 8), UInt8(Self.advertisedUDPSize & 0xFF),
                                       0, 0, 0, 0, 0, 0])
        }
    }
}
