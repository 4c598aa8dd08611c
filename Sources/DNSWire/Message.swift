/// One question: a name, a type and a class.
public struct Question: Hashable, Sendable {
    public var name: DNSName
    public var type: RecordType
    public var recordClass: RecordClass
    public init(name: DNSName, type: RecordType, recordClass: RecordClass = .in) {
        self.name = name; self.type = type; self.recordClass = recordClass
    }
}

/// One resource record with a typed view of its RDATA.
public struct ResourceRecord: Hashable, Sendable {
    public var name: DNSName
    public var type: RecordType
    public var recordClass: RecordClass
    public var ttl: UInt32
    public var data: RData
    public init(name: DNSName, type: RecordType, recordClass: RecordClass = .in, ttl: UInt32, data: RData) {
        self.name = name; self.type = type; self.recordClass = recordClass; self.ttl = ttl; self.data = data
    }

    /// Same owner, type and class: members of one RRset (RFC 2181 §5).
    func sameRRset(as other: ResourceRecord) -> Bool {
        type == other.type && recordClass == other.recordClass && name == other.name
    }
}

/// A whole DNS message as values. The OPT record is lifted out of the additional section into
/// `edns`; everything else keeps its order.
public struct Message: Hashable, Sendable {
    public var header: Header
    public var questions: [Question]
    public var answers: [ResourceRecord]
    public var authorities: [ResourceRecord]
    public var additionals: [ResourceRecord]
    public var edns: EDNS?

    public init(header: Header = Header(), questions: [Question] = [], answers: [ResourceRecord] = [],
                authorities: [ResourceRecord] = [], additionals: [ResourceRecord] = [], edns: EDNS? = nil) {
        self.header = header; self.questions = questions; self.answers = answers
        self.authorities = authorities; self.additionals = additionals; self.edns = edns
    }

    /// The full 12-bit RCODE: the header's four bits with EDNS's upper eight (RFC 6891 §6.1.3).
    public var rcode: RCode {
        get { RCode(rawValue: UInt16(edns?.extendedRCodeHigh ?? 0) << 4 | UInt16(header.rcodeLow)) }
        set {
            header.rcodeLow = UInt8(newValue.rawValue & 0xF)
            if edns != nil { edns!.extendedRCodeHigh = UInt8(truncatingIfNeeded: newValue.rawValue >> 4) }
        }
    }

    /// Parses a complete message. Rejects, with a typed error: anything shorter than a header,
    /// counts the length cannot hold, every overrun, bad names (see `WireReader.readName`),
    /// RDATA that does not fit its type, more than one OPT or one outside the additional
    /// section, trailing bytes, and messages over 65 535 octets.
    public init(parsing bytes: [UInt8]) throws(WireError) {
        guard bytes.count <= DNSWire.maxMessageSize else { throw .messageTooLarge(size: bytes.count) }
        var r = WireReader(bytes)
        header = Header(id: try r.readUInt16(), flags: try r.readUInt16())
        let qd = Int(try r.readUInt16()), an = Int(try r.readUInt16())
        let ns = Int(try r.readUInt16()), ar = Int(try r.readUInt16())
        // A question takes at least 5 octets and a record at least 11: reject impossible counts
        // before allocating for them.
        guard qd * 5 + (an + ns + ar) * 11 <= r.remaining else { throw .countsExceedMessage }

        questions = []
        questions.reserveCapacity(qd)
        for _ in 0..<qd {
            let name = try r.readName()
            questions.append(Question(name: name, type: RecordType(rawValue: try r.readUInt16()),
                                      recordClass: RecordClass(rawValue: try r.readUInt16())))
        }
        edns = nil
        answers = try Self.readSection(count: an, from: &r, edns: &edns, allowOPT: false)
        authorities = try Self.readSection(count: ns, from: &r, edns: &edns, allowOPT: false)
        additionals = try Self.readSection(count: ar, from: &r, edns: &edns, allowOPT: true)
        guard r.remaining == 0 else { throw .trailingData(offset: r.offset) }
    }

    private static func readSection(count: Int, from r: inout WireReader, edns: inout EDNS?,
                                    allowOPT: Bool) throws(WireError) -> [ResourceRecord] {
        var records: [ResourceRecord] = []
        records.reserveCapacity(count)
        for _ in 0..<count {
            let start = r.offset
            let name = try r.readName()
            let type = RecordType(rawValue: try r.readUInt16())
            let classField = try r.readUInt16()
            let ttl = try r.readUInt32()
            let length = Int(try r.readUInt16())
            if type == .opt {
                guard allowOPT, edns == nil, name.isRoot else { throw .badOPT(offset: start) }
                edns = try EDNS(classField: classField, ttlField: ttl, rdata: try r.readBytes(length), offset: start)
                continue
            }
            let data = try RData.read(type: type, length: length, from: &r)
            records.append(ResourceRecord(name: name, type: type, recordClass: RecordClass(rawValue: classField),
                                          ttl: ttl, data: data))
        }
        return records
    }

    /// Writes the message with name compression. Throws `messageTooLarge` past 65 535 octets.
    public func serialize() throws(WireError) -> [UInt8] {
        try serialize(maxSize: DNSWire.maxMessageSize)
    }

    /// Writes the message in at most `maxSize` octets (never less than 512, the size every
    /// client accepts). What does not fit is left out whole-RRset at a time; if any part of the
    /// answer or authority section was left out, TC is set (RFC 2181 §9), while leaving out
    /// additional records alone does not set it. The question and OPT are always kept.
    public func serialize(maxSize: Int) throws(WireError) -> [UInt8] {
        let limit = min(max(512, maxSize), DNSWire.maxMessageSize)
        var w = WireWriter(capacity: min(limit, 4096))
        var h = header
        w.writeUInt16(h.id)
        w.writeUInt16(h.flags)
        w.writeUInt16(UInt16(truncatingIfNeeded: questions.count))
        w.writeBytes([0, 0, 0, 0, 0, 0])
        for q in questions {
            w.writeName(q.name, compress: true)
            w.writeUInt16(q.type.rawValue)
            w.writeUInt16(q.recordClass.rawValue)
        }
        let reserve = edns?.wireLength ?? 0
        var counts: [Int] = [0, 0, 0]
        var truncatedAt: Int? = nil
        sections: for (index, section) in [answers, authorities, additionals].enumerated() {
            var i = 0
            while i < section.count {
                // Keep RRsets whole: find the end of the run of records sharing owner/type/class.
                var j = i + 1
                while j < section.count, section[j].sameRRset(as: section[i]) { j += 1 }
                let mark = w.count
                for rr in section[i..<j] { try Self.write(rr, to: &w) }
                if w.count + reserve > limit {
                    w.rollback(to: mark)
                    truncatedAt = index
                    break sections
                }
                counts[index] += j - i
                i = j
            }
        }
        if let t = truncatedAt, t < 2 { h.truncated = true; w.setUInt16(h.flags, at: 2) }
        if let e = edns { e.write(to: &w) }
        w.setUInt16(UInt16(counts[0]), at: 6)
        w.setUInt16(UInt16(counts[1]), at: 8)
        w.setUInt16(UInt16(counts[2] + (edns == nil ? 0 : 1)), at: 10)
        guard w.count <= DNSWire.maxMessageSize else { throw .messageTooLarge(size: w.count) }
        return w.bytes
    }

    private static func write(_ rr: ResourceRecord, to w: inout WireWriter) throws(WireError) {
        w.writeName(rr.name, compress: true)
        w.writeUInt16(rr.type.rawValue)
        w.writeUInt16(rr.recordClass.rawValue)
        w.writeUInt32(rr.ttl)
        let lengthAt = w.count
        w.writeUInt16(0)
        try rr.data.write(to: &w)
        let length = w.count - lengthAt - 2
        guard length <= 0xFFFF else { throw .messageTooLarge(size: w.count) }
        w.setUInt16(UInt16(length), at: lengthAt)
    }
}
