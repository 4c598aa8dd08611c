/// EDNS(0) as carried in the OPT pseudo-record (RFC 6891 §6). Options are kept as they came,
/// in order, so a forwarder passes on what it does not interpret.
public struct EDNS: Hashable, Sendable {
    /// The largest UDP payload the sender can reassemble; values below 512 mean 512 (§6.2.3).
    public var udpPayloadSize: UInt16
    /// The upper eight bits of the 12-bit extended RCODE.
    public var extendedRCodeHigh: UInt8
    public var version: UInt8
    /// DNSSEC OK (RFC 3225).
    public var dnssecOK: Bool
    /// The other fifteen flag bits, kept so nothing is lost in transit.
    public var otherFlags: UInt16
    public var options: [Option]

    public struct Option: Hashable, Sendable {
        public var code: UInt16
        public var data: [UInt8]
        public init(code: UInt16, data: [UInt8]) { self.code = code; self.data = data }
    }

    public init(udpPayloadSize: UInt16 = 1232, extendedRCodeHigh: UInt8 = 0, version: UInt8 = 0,
                dnssecOK: Bool = false, otherFlags: UInt16 = 0, options: [Option] = []) {
        self.udpPayloadSize = udpPayloadSize
        self.extendedRCodeHigh = extendedRCodeHigh
        self.version = version
        self.dnssecOK = dnssecOK
        self.otherFlags = otherFlags & 0x7FFF
        self.options = options
    }

    /// What the sender accepts over UDP, with RFC 6891's floor of 512.
    public var effectivePayloadSize: Int { max(512, Int(udpPayloadSize)) }

    /// The OPT record's TTL field: extended RCODE, version, DO and the other flags.
    var ttlField: UInt32 {
        UInt32(extendedRCodeHigh) << 24 | UInt32(version) << 16
            | (dnssecOK ? 0x8000 : 0) | UInt32(otherFlags & 0x7FFF)
    }

    init(classField: UInt16, ttlField: UInt32, rdata: [UInt8], offset: Int) throws(WireError) {
        self.init(udpPayloadSize: classField,
                  extendedRCodeHigh: UInt8(truncatingIfNeeded: ttlField >> 24),
                  version: UInt8(truncatingIfNeeded: ttlField >> 16),
                  dnssecOK: ttlField & 0x8000 != 0,
                  otherFlags: UInt16(truncatingIfNeeded: ttlField) & 0x7FFF)
        var r = WireReader(rdata)
        while r.remaining > 0 {
            guard r.remaining >= 4 else { throw .badRdata(type: RecordType.opt.rawValue, offset: offset) }
            let code = try r.readUInt16()
            let length = Int(try r.readUInt16())
            guard length <= r.remaining else { throw .badRdata(type: RecordType.opt.rawValue, offset: offset) }
            options.append(Option(code: code, data: try r.readBytes(length)))
        }
    }

    /// Octets the OPT record takes on the wire.
    var wireLength: Int { 11 + options.reduce(0) { $0 + 4 + $1.data.count } }

    func write(to w: inout WireWriter) {
        w.writeUInt8(0)  // root owner
        w.writeUInt16(RecordType.opt.rawValue)
        w.writeUInt16(udpPayloadSize)
        w.writeUInt32(ttlField)
        w.writeUInt16(UInt16(truncatingIfNeeded: options.reduce(0) { $0 + 4 + $1.data.count }))
        for o in options {
            w.writeUInt16(o.code)
            w.writeUInt16(UInt16(truncatingIfNeeded: o.data.count))
            w.writeBytes(o.data)
        }
    }
}
