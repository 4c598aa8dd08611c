/// What the forwarding path needs to know about a message, read in place without building a
/// `Message`: where the question is, and the EDNS facts. Every read is bounds-checked; a message
/// the scan rejects gets FORMERR (queries) or is dropped (answers).
public struct PacketInfo: Sendable {
    /// The question name occupies `12..<nameEnd`, uncompressed (a question name cannot point
    /// backwards into the header), followed by type and class.
    public var nameEnd: Int
    public var type: RecordType
    public var recordClass: RecordClass
    /// Offset just past the question's class.
    public var questionEnd: Int
    /// The OPT record's CLASS field offset (the UDP payload size), when the message has EDNS.
    public var optClassOffset: Int?
    public var udpPayloadSize: UInt16?
    public var dnssecOK: Bool

    public init(nameEnd: Int, type: RecordType, recordClass: RecordClass, questionEnd: Int,
                optClassOffset: Int?, udpPayloadSize: UInt16?, dnssecOK: Bool) {
        self.nameEnd = nameEnd; self.type = type; self.recordClass = recordClass; self.questionEnd = questionEnd
        self.optClassOffset = optClassOffset; self.udpPayloadSize = udpPayloadSize; self.dnssecOK = dnssecOK
    }

    /// The size of answer the sender accepts over UDP: its EDNS size (at least 512), else 512.
    @inlinable public var acceptedUDPSize: Int {
        guard let s = udpPayloadSize else { return 512 }
        return max(512, Int(s))
    }
}

/// Why a scan failed.
public enum ScanError: Error, Sendable {
    /// Fewer than 12 octets: not even a header to answer with FORMERR.
    case noHeader
    /// The header is readable but the rest is not well-formed.
    case malformed
    /// Not exactly one question.
    case questionCount
}

public enum PacketScan {
    /// Scans a message with exactly one question: the question, then every record's owner,
    /// type and length up to the end, to find OPT. Names in records may be compressed; the
    /// question name may not.
    public static func scan(_ p: UnsafeRawBufferPointer) -> Result<PacketInfo, ScanError> {
        guard p.count >= 12 else { return .failure(.noHeader) }
        guard p.count <= DNSWire.maxMessageSize else { return .failure(.malformed) }
        guard WireHeader.questionCount(p) == 1 else { return .failure(.questionCount) }
        var i = 12
        // Question name: plain labels only.
        while true {
            guard i < p.count else { return .failure(.malformed) }
            let len = Int(p[i])
            if len == 0 { i += 1; break }
            guard len <= 63, i + 1 + len < p.count, i + 1 + len - 12 < DNSWire.maxNameLength else { return .failure(.malformed) }
            i += 1 + len
        }
        let nameEnd = i
        guard i + 4 <= p.count else { return .failure(.malformed) }
        let type = RecordType(rawValue: UInt16(p[i]) << 8 | UInt16(p[i + 1]))
        let rclass = RecordClass(rawValue: UInt16(p[i + 2]) << 8 | UInt16(p[i + 3]))
        i += 4
        var info = PacketInfo(nameEnd: nameEnd, type: type, recordClass: rclass, questionEnd: i,
                              optClassOffset: nil, udpPayloadSize: nil, dnssecOK: false)
        let an = Int(WireHeader.answerCount(p)), ns = Int(WireHeader.authorityCount(p))
        let ar = Int(WireHeader.additionalCount(p))
        let total = an + ns + ar
        var r = 0
        while r < total {
            guard let afterName = skipName(p, i) else { return .failure(.malformed) }
            guard afterName + 10 <= p.count else { return .failure(.malformed) }
            let rtype = UInt16(p[afterName]) << 8 | UInt16(p[afterName + 1])
            let rdlength = Int(p[afterName + 8]) << 8 | Int(p[afterName + 9])
            let end = afterName + 10 + rdlength
            guard end <= p.count else { return .failure(.malformed) }
            if rtype == RecordType.opt.rawValue {
                // One OPT, owned by the root, in the additional section (RFC 6891 §6.1.1).
                guard r >= an + ns, info.optClassOffset == nil, afterName == i + 1 else { return .failure(.malformed) }
                info.optClassOffset = afterName + 2
                info.udpPayloadSize = UInt16(p[afterName + 2]) << 8 | UInt16(p[afterName + 3])
                info.dnssecOK = p[afterName + 6] & 0x80 != 0
            }
            i = end
            r += 1
        }
        guard i == p.count else { return .failure(.malformed) }
        return .success(info)
    }

    /// Skips a possibly compressed name starting at `i`; nil if it runs off the end or uses a
    /// reserved label type. Pointers are not followed: only the name's own octets are skipped.
    @inline(__always)
    static func skipName(_ p: UnsafeRawBufferPointer, _ start: Int) -> Int? {
        var i = start
        while i < p.count {
            let len = p[i]
            switch len & 0xC0 {
            case 0x00:
                if len == 0 { return i + 1 }
                i += 1 + Int(len)
            case 0xC0:
                return i + 2 <= p.count ? i + 2 : nil
            default:
                return nil
            }
        }
        return nil
    }

    /// True when the question names of two messages (both scanned) are equal ignoring ASCII
    /// case, and type and class match: the check an upstream answer must pass.
    public static func sameQuestion(_ a: UnsafeRawBufferPointer, _ ai: PacketInfo,
                                    _ b: UnsafeRawBufferPointer, _ bi: PacketInfo) -> Bool {
        guard ai.nameEnd == bi.nameEnd, ai.type == bi.type, ai.recordClass == bi.recordClass else { return false }
        var i = 12
        while i < ai.nameEnd {
            if asciiLower(a[i]) != asciiLower(b[i]) { return false }
            i += 1
        }
        return true
    }
}
