/// A cursor over a whole message. `read…` advances and throws `WireError` on any overrun; names
/// are decompressed with the RFC 1035 §4.1.4 guards (see `readName`).
public struct WireReader {
    public let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var remaining: Int { bytes.count - offset }

    public mutating func readUInt8() throws(WireError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readUInt16() throws(WireError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    public mutating func readUInt32() throws(WireError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    public mutating func readBytes(_ n: Int) throws(WireError) -> [UInt8] {
        guard n >= 0, offset + n <= bytes.count else { throw .truncated(offset: offset) }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    /// Reads a possibly compressed name. Guards, each a typed error rather than a trap or a loop:
    /// every pointer must point strictly before the start of the labels it follows (so a chain
    /// always moves backwards and ends), at most `maxCompressionPointers` pointers, labels of at
    /// most 63 octets, names of at most 255 octets, and only the 0b00 and 0b11 label types.
    public mutating func readName() throws(WireError) -> DNSName {
        let start = offset
        var wire: [UInt8] = []
        wire.reserveCapacity(32)
        var pos = offset
        var segmentStart = offset
        var pointers = 0
        var endAfterFirstPointer: Int? = nil
        while true {
            guard pos < bytes.count else { throw .truncated(offset: pos) }
            let len = bytes[pos]
            switch len & 0xC0 {
            case 0x00:
                if len == 0 {
                    offset = endAfterFirstPointer ?? pos + 1
                    return DNSName(uncheckedWire: wire)
                }
                let n = Int(len)
                guard pos + 1 + n <= bytes.count else { throw .truncated(offset: pos) }
                guard wire.count + 1 + n + 1 <= DNSWire.maxNameLength else { throw .nameTooLong(offset: start) }
                wire.append(len)
                wire.append(contentsOf: bytes[(pos + 1)...(pos + n)])
                pos += 1 + n
            case 0xC0:
                guard pos + 2 <= bytes.count else { throw .truncated(offset: pos) }
                let target = Int(len & 0x3F) << 8 | Int(bytes[pos + 1])
                guard target < segmentStart else { throw .forwardPointer(offset: pos) }
                pointers += 1
                guard pointers <= DNSWire.maxCompressionPointers else { throw .tooManyPointers(offset: start) }
                if endAfterFirstPointer == nil { endAfterFirstPointer = pos + 2 }
                pos = target
                segmentStart = target
            default:
                throw .badLabelType(offset: pos)
            }
        }
    }
}
