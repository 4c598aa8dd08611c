#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address held as integers in host order, so prefix matching is two masks and
/// a compare.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible, Comparable {
    case v4(UInt32)
    case v6(high: UInt64, low: UInt64)

    /// Parses `192.0.2.1` or `2001:db8::1` (text forms accepted by inet_pton).
    public init?(_ text: String) {
        if text.contains(":") {
            var a = in6_addr()
            guard inet_pton(AF_INET6, text, &a) == 1 else { return nil }
            let b = withUnsafeBytes(of: a) { Array($0) }
            self.init(v6Octets: b)
        } else {
            var a = in_addr()
            guard inet_pton(AF_INET, text, &a) == 1 else { return nil }
            self = .v4(UInt32(bigEndian: a.s_addr))
        }
    }

    /// From sixteen octets in network order.
    public init(v6Octets b: [UInt8]) {
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(b[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(b[i]) }
        self = .v6(high: high, low: low)
    }

    public var isV4: Bool { if case .v4 = self { return true } else { return false } }

    /// The address in network order: 4 or 16 octets.
    public var octets: [UInt8] {
        switch self {
        case .v4(let v): return (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) }
        case .v6(let h, let l):
            return (0..<8).map { UInt8(truncatingIfNeeded: h >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: l >> (56 - 8 * $0)) }
        }
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var octets = self.octets
        let family = isV4 ? AF_INET : AF_INET6
        _ = inet_ntop(family, &octets, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        switch (a, b) {
        case (.v4(let x), .v4(let y)): return x < y
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        case (.v6(let ah, let al), .v6(let bh, let bl)): return (ah, al) < (bh, bl)
        }
    }
}
