/// A domain name, held as its uncompressed wire labels without the final root octet
/// (`www.example.` is `3 w w w 7 e x a m p l e`; the root is empty). Comparison and hashing are
/// case-insensitive (RFC 4343); the bytes keep the case they arrived in, so an answer can carry a
/// question exactly as the client asked it.
public struct DNSName: Sendable, CustomStringConvertible {
    public let wire: [UInt8]

    public static let root = DNSName(uncheckedWire: [])

    @usableFromInline init(uncheckedWire: [UInt8]) { self.wire = uncheckedWire }

    /// Builds a name from labels in wire form, checking the RFC 1035 limits.
    public init(labels: [[UInt8]]) throws(WireError) {
        var w: [UInt8] = []
        for label in labels {
            guard !label.isEmpty else { throw .emptyLabel }
            guard label.count <= DNSWire.maxLabelLength else { throw .labelTooLong(offset: w.count) }
            w.append(UInt8(label.count))
            w.append(contentsOf: label)
        }
        guard w.count + 1 <= DNSWire.maxNameLength else { throw .nameTooLong(offset: 0) }
        self.wire = w
    }

    /// Parses presentation form: `www.example.com`, with or without the trailing dot, `.` for the
    /// root, `\.` and `\DDD` escapes inside labels (RFC 1035 §5.1).
    public init(_ text: String) throws(WireError) {
        if text == "." { self = .root; return }
        var labels: [[UInt8]] = []
        var label: [UInt8] = []
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw .badNameText(text) }
        var i = 0
        var endedWithDot = false
        while i < bytes.count {
            let c = bytes[i]
            endedWithDot = false
            if c == UInt8(ascii: ".") {
                guard !label.isEmpty else { throw .badNameText(text) }
                labels.append(label)
                label = []
                endedWithDot = true
                i += 1
            } else if c == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count else { throw .badNameText(text) }
                let d = bytes[i + 1]
                if (48...57).contains(d) {
                    guard i + 3 < bytes.count,
                          (48...57).contains(bytes[i + 2]), (48...57).contains(bytes[i + 3]) else {
                        throw .badNameText(text)
                    }
                    let v = Int(d - 48) * 100 + Int(bytes[i + 2] - 48) * 10 + Int(bytes[i + 3] - 48)
                    guard v <= 255 else { throw .badNameText(text) }
                    label.append(UInt8(v))
                    i += 4
                } else {
                    label.append(d)
                    i += 2
                }
            } else {
                label.append(c)
                i += 1
            }
        }
        if !endedWithDot { labels.append(label) }
        do {
            try self.init(labels: labels)
        } catch {
            throw .badNameText(text)
        }
    }

    public var isRoot: Bool { wire.isEmpty }

    /// Octets this name takes uncompressed on the wire, root octet included.
    public var wireLength: Int { wire.count + 1 }

    /// Number of labels, not counting the root.
    public var labelCount: Int {
        var n = 0, i = 0
        while i < wire.count { n += 1; i += Int(wire[i]) + 1 }
        return n
    }

    /// The labels, leftmost first.
    public var labels: [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var i = 0
        while i < wire.count {
            let n = Int(wire[i])
            out.append(wire[(i + 1)..<(i + 1 + n)])
            i += n + 1
        }
        return out
    }

    /// The name with ASCII letters lowered: the form used as a key (RFC 4034 §6.2 canonical form).
    public var canonical: DNSName {
        DNSName(uncheckedWire: wire.map(asciiLower))
    }

    /// The name without its leftmost label; the root's parent is the root.
    public var parent: DNSName {
        guard !wire.isEmpty else { return self }
        return DNSName(uncheckedWire: Array(wire[(Int(wire[0]) + 1)...]))
    }

    /// True when `self` is `other` or a name below it, comparing whole labels.
    public func isSubdomain(of other: DNSName) -> Bool {
        guard other.wire.count <= wire.count else { return false }
        var i = 0
        while i < wire.count {
            if wire.count - i == other.wire.count {
                return Self.equalFolded(wire[i...], other.wire[...])
            }
            i += Int(wire[i]) + 1
        }
        return other.wire.isEmpty
    }

    /// Presentation form with the trailing dot; the root is `.`.
    public var description: String {
        if wire.isEmpty { return "." }
        var out = ""
        var i = 0
        while i < wire.count {
            let n = Int(wire[i])
            for b in wire[(i + 1)..<(i + 1 + n)] {
                switch b {
                case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: ";"),
                     UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                    out.append("\\")
                    out.unicodeScalars.append(Unicode.Scalar(b))
                case 0x21...0x7E:
                    out.unicodeScalars.append(Unicode.Scalar(b))
                default:
                    let s = String(b)
                    out.append("\\" + String(repeating: "0", count: 3 - s.count) + s)
                }
            }
            out.append(".")
            i += n + 1
        }
        return out
    }

    @inlinable static func equalFolded(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var i = a.startIndex, j = b.startIndex
        while i < a.endIndex {
            if asciiLower(a[i]) != asciiLower(b[j]) { return false }
            i += 1; j += 1
        }
        return true
    }
}

/// Lowers A–Z only: DNS case-insensitivity is ASCII-only (RFC 4343 §3).
@inlinable public func asciiLower(_ b: UInt8) -> UInt8 {
    (b &- 0x41) < 26 ? b | 0x20 : b
}

extension DNSName: Hashable {
    public static func == (a: DNSName, b: DNSName) -> Bool { equalFolded(a.wire[...], b.wire[...]) }
    public func hash(into hasher: inout Hasher) {
        for b in wire { hasher.combine(asciiLower(b)) }
    }
}
