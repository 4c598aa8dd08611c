/// An address prefix such as `192.168.0.0/16` or `2001:db8::/32`. A bare address is a host
/// prefix (/32 or /128). Host bits must be zero: `192.168.1.5/24` is more likely a typo than an
/// intent, so it is rejected with the network it probably meant.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notAnAddress(String)
        case badPrefixLength(String)
        case hostBitsSet(String, suggestion: String)

        public var description: String {
            switch self {
            case .notAnAddress(let t): return "'\(t)' is not an IPv4 or IPv6 address or prefix"
            case .badPrefixLength(let t): return "'\(t)' has a prefix length out of range"
            case .hostBitsSet(let t, let s): return "'\(t)' has host bits set; did you mean \(s)?"
            }
        }
    }

    public init(network: IPAddress, prefixLength: Int) {
        self.prefixLength = prefixLength
        self.network = CIDR.mask(network, prefixLength)
    }

    public init(parsing text: String) throws(ParseError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { throw .notAnAddress(text) }
        let maxLength = address.isV4 ? 32 : 128
        var length = maxLength
        if parts.count == 2 {
            guard let n = Int(parts[1]), (0...maxLength).contains(n) else { throw .badPrefixLength(text) }
            length = n
        }
        let masked = CIDR.mask(address, length)
        guard masked == address else {
            throw .hostBitsSet(text, suggestion: "\(masked)/\(length)")
        }
        self.network = masked
        self.prefixLength = length
    }

    /// True when `address` lies inside this prefix; an IPv4 prefix never contains an IPv6 address.
    @inlinable public func contains(_ address: IPAddress) -> Bool {
        CIDR.mask(address, prefixLength) == network && address.isV4 == network.isV4
    }

    @inlinable static func mask(_ a: IPAddress, _ length: Int) -> IPAddress {
        switch a {
        case .v4(let v):
            let m: UInt32 = length == 0 ? 0 : ~UInt32(0) << UInt32(32 - min(length, 32))
            return .v4(v & m)
        case .v6(let h, let l):
            let hm: UInt64 = length <= 0 ? 0 : (length >= 64 ? ~0 : ~UInt64(0) << UInt64(64 - length))
            let lm: UInt64 = length <= 64 ? 0 : (length >= 128 ? ~0 : ~UInt64(0) << UInt64(128 - length))
            return .v6(high: h & hm, low: l & lm)
        }
    }

    public var description: String { "\(network)/\(prefixLength)" }
}
