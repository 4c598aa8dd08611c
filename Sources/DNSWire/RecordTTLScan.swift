/// Where the TTLs of a scanned message are, and the facts a cache needs to time it: read in
/// place, for every record but OPT (whose TTL field holds EDNS flags).
public struct RecordTTLs: Sendable {
    /// Offsets of each record's 32-bit TTL field.
    public var offsets: [Int] = []
    /// The smallest TTL among them; nil when the message has no records.
    public var minimum: UInt32?
    /// Records in the answer section.
    public var answerCount = 0
    /// For a negative answer (RFC 2308 §5): min(SOA TTL, SOA MINIMUM) of the authority
    /// section's SOA; nil without one.
    public var negativeTTL: UInt32?

    public init() {}
}

extension PacketScan {
    /// Scans the records after the question. Returns nil for a message `scan` would reject.
    /// `reuse` lends its offsets buffer, so a caller scanning many messages allocates once.
    public static func recordTTLs(_ p: UnsafeRawBufferPointer, _ info: PacketInfo,
                                  reuse: inout [Int]) -> RecordTTLs? {
        var out = RecordTTLs()
        reuse.removeAll(keepingCapacity: true)
        swap(&out.offsets, &reuse)
        defer { swap(&out.offsets, &reuse) }
        let an = Int(WireHeader.answerCount(p)), ns = Int(WireHeader.authorityCount(p))
        let total = an + ns + Int(WireHeader.additionalCount(p))
        out.answerCount = an
        var i = info.questionEnd
        for r in 0..<total {
            guard let afterName = skipName(p, i), afterName + 10 <= p.count else { return nil }
            let type = UInt16(p[afterName]) << 8 | UInt16(p[afterName + 1])
            let ttlAt = afterName + 4
            let ttl = UInt32(p[ttlAt]) << 24 | UInt32(p[ttlAt + 1]) << 16 | UInt32(p[ttlAt + 2]) << 8 | UInt32(p[ttlAt + 3])
            let length = Int(p[afterName + 8]) << 8 | Int(p[afterName + 9])
            let end = afterName + 10 + length
            guard end <= p.count else { return nil }
            if type != RecordType.opt.rawValue {
                out.offsets.append(ttlAt)
                out.minimum = min(out.minimum ?? ttl, ttl)
                if type == RecordType.soa.rawValue, r >= an, r < an + ns, length >= 20 {
                    let m = end - 4
                    let soaMinimum = UInt32(p[m]) << 24 | UInt32(p[m + 1]) << 16 | UInt32(p[m + 2]) << 8 | UInt32(p[m + 3])
                    out.negativeTTL = min(ttl, soaMinimum)
                }
            }
            i = end
        }
        return out
    }
}
