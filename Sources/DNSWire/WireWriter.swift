/// Builds a message, compressing names against the suffixes already written (RFC 1035 §4.1.4).
/// Compression is case-insensitive, like name comparison; only suffixes that start within the
/// first 16 KiB can be pointed at.
public struct WireWriter {
    public private(set) var bytes: [UInt8]
    /// Canonical suffix wire bytes → offset of its first occurrence.
    private var suffixes: [ArraySlice<UInt8>: Int] = [:]

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func writeUInt8(_ v: UInt8) { bytes.append(v) }
    public mutating func writeUInt16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }
    public mutating func writeUInt32(_ v: UInt32) {
        writeUInt16(UInt16(truncatingIfNeeded: v >> 16))
        writeUInt16(UInt16(truncatingIfNeeded: v))
    }
    public mutating func writeBytes<C: Collection>(_ b: C) where C.Element == UInt8 { bytes.append(contentsOf: b) }

    public mutating func setUInt16(_ v: UInt16, at: Int) {
        bytes[at] = UInt8(truncatingIfNeeded: v >> 8)
        bytes[at + 1] = UInt8(truncatingIfNeeded: v)
    }

    /// Writes `name`, pointing at an earlier copy of its longest known suffix when `compress`
    /// is true, and remembering the new suffixes it writes for later names.
    public mutating func writeName(_ name: DNSName, compress: Bool) {
        let canonical = name.canonical.wire
        var i = 0
        while i < canonical.count {
            if compress, let target = suffixes[canonical[i...]] {
                writeUInt16(0xC000 | UInt16(target))
                return
            }
            let here = bytes.count
            if compress, here < 0x4000 {
                suffixes[canonical[i...]] = here
            }
            let n = Int(name.wire[i])
            bytes.append(contentsOf: name.wire[i...(i + n)])
            i += n + 1
        }
        bytes.append(0)
    }

    /// Returns to an earlier length, forgetting suffixes recorded past it, so a record that does
    /// not fit can be taken back.
    public mutating func rollback(to mark: Int) {
        guard mark < bytes.count else { return }
        bytes.removeSubrange(mark...)
        suffixes = suffixes.filter { $0.value < mark }
    }
}
