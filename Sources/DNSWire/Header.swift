/// The 12-byte message header as a value (RFC 1035 §4.1.1). Section counts are not stored:
/// they follow from the sections when a message is written.
public struct Header: Hashable, Sendable {
    public var id: UInt16
    /// QR, OPCODE, AA, TC, RD, RA, Z, AD, CD and the low four bits of RCODE, as on the wire.
    public var flags: UInt16

    @inlinable public init(id: UInt16 = 0, flags: UInt16 = 0) {
        self.id = id
        self.flags = flags
    }

    @usableFromInline static let qrBit: UInt16 = 0x8000
    @usableFromInline static let aaBit: UInt16 = 0x0400
    @usableFromInline static let tcBit: UInt16 = 0x0200
    @usableFromInline static let rdBit: UInt16 = 0x0100
    @usableFromInline static let raBit: UInt16 = 0x0080
    @usableFromInline static let adBit: UInt16 = 0x0020
    @usableFromInline static let cdBit: UInt16 = 0x0010

    @inlinable func bit(_ mask: UInt16) -> Bool { flags & mask != 0 }
    @inlinable mutating func setBit(_ mask: UInt16, _ on: Bool) {
        flags = on ? flags | mask : flags & ~mask
    }

    public var isResponse: Bool { get { bit(Self.qrBit) } set { setBit(Self.qrBit, newValue) } }
    public var authoritative: Bool { get { bit(Self.aaBit) } set { setBit(Self.aaBit, newValue) } }
    public var truncated: Bool { get { bit(Self.tcBit) } set { setBit(Self.tcBit, newValue) } }
    public var recursionDesired: Bool { get { bit(Self.rdBit) } set { setBit(Self.rdBit, newValue) } }
    public var recursionAvailable: Bool { get { bit(Self.raBit) } set { setBit(Self.raBit, newValue) } }
    public var authenticData: Bool { get { bit(Self.adBit) } set { setBit(Self.adBit, newValue) } }
    public var checkingDisabled: Bool { get { bit(Self.cdBit) } set { setBit(Self.cdBit, newValue) } }

    public var opcode: Opcode {
        get { Opcode(rawValue: UInt8((flags >> 11) & 0xF)) }
        set { flags = (flags & ~0x7800) | (UInt16(newValue.rawValue & 0xF) << 11) }
    }

    /// The low four bits of RCODE; `Message.rcode` combines them with EDNS's upper eight.
    public var rcodeLow: UInt8 {
        get { UInt8(flags & 0xF) }
        set { flags = (flags & ~0xF) | UInt16(newValue & 0xF) }
    }
}

/// In-place access to the header of a message in a buffer, for the forwarding path: a forwarder
/// mostly rewrites ID and flags, so it touches only those bytes. Callers check `isReadable` first.
public enum WireHeader {
    public static let size = 12

    @inlinable public static func isReadable(_ p: UnsafeRawBufferPointer) -> Bool { p.count >= size }

    @inlinable static func load16(_ p: UnsafeRawBufferPointer, _ at: Int) -> UInt16 {
        UInt16(p[at]) << 8 | UInt16(p[at + 1])
    }
    @inlinable static func store16(_ p: UnsafeMutableRawBufferPointer, _ at: Int, _ v: UInt16) {
        p[at] = UInt8(truncatingIfNeeded: v >> 8)
        p[at + 1] = UInt8(truncatingIfNeeded: v)
    }

    @inlinable public static func id(_ p: UnsafeRawBufferPointer) -> UInt16 { load16(p, 0) }
    @inlinable public static func setID(_ p: UnsafeMutableRawBufferPointer, _ id: UInt16) { store16(p, 0, id) }
    @inlinable public static func flags(_ p: UnsafeRawBufferPointer) -> UInt16 { load16(p, 2) }
    @inlinable public static func setFlags(_ p: UnsafeMutableRawBufferPointer, _ f: UInt16) { store16(p, 2, f) }
    @inlinable public static func header(_ p: UnsafeRawBufferPointer) -> Header { Header(id: id(p), flags: flags(p)) }

    @inlinable public static func questionCount(_ p: UnsafeRawBufferPointer) -> UInt16 { load16(p, 4) }
    @inlinable public static func answerCount(_ p: UnsafeRawBufferPointer) -> UInt16 { load16(p, 6) }
    @inlinable public static func authorityCount(_ p: UnsafeRawBufferPointer) -> UInt16 { load16(p, 8) }
    @inlinable public static func additionalCount(_ p: UnsafeRawBufferPointer) -> UInt16 { load16(p, 10) }
    @inlinable public static func setCounts(_ p: UnsafeMutableRawBufferPointer,
                                            qd: UInt16, an: UInt16, ns: UInt16, ar: UInt16) {
        store16(p, 4, qd); store16(p, 6, an); store16(p, 8, ns); store16(p, 10, ar)
    }

    @inlinable public static func isResponse(_ p: UnsafeRawBufferPointer) -> Bool { flags(p) & Header.qrBit != 0 }
    @inlinable public static func setTruncated(_ p: UnsafeMutableRawBufferPointer, _ on: Bool) {
        let f = load16(UnsafeRawBufferPointer(p), 2)
        store16(p, 2, on ? f | Header.tcBit : f & ~Header.tcBit)
    }
}
