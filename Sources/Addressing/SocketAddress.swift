/// An `ip:port` pair as written in configuration: `192.0.2.1:53`, `[2001:db8::1]:53`, or an
/// address alone, which takes the caller's default port.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    public var ip: IPAddress
    public var port: UInt16

    public init(ip: IPAddress, port: UInt16) { self.ip = ip; self.port = port }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notAnAddress(String)
        case badPort(String)
        case ipv6NeedsBrackets(String)

        public var description: String {
            switch self {
            case .notAnAddress(let t): return "'\(t)' is not an address (expected ip:port, or [ipv6]:port)"
            case .badPort(let t): return "'\(t)' has a port outside 1-65535"
            case .ipv6NeedsBrackets(let t): return "'\(t)': write an IPv6 address with a port as [addr]:port"
            }
        }
    }

    public init(parsing text: String, defaultPort: UInt16) throws(ParseError) {
        var host = Substring(text)
        var portText: Substring? = nil
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw .notAnAddress(text) }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw .notAnAddress(text) }
                portText = rest.dropFirst()
            }
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        } else if host.contains(":") {
            // A bare IPv6 address has no port; `2001:db8::1:53` would be ambiguous, so only
            // accept it when it parses as an address and say how to add a port.
            guard IPAddress(String(host)) != nil else { throw .ipv6NeedsBrackets(text) }
        }
        guard let ip = IPAddress(String(host)) else { throw .notAnAddress(text) }
        var port = defaultPort
        if let p = portText {
            guard let n = UInt16(p), n > 0 else { throw .badPort(text) }
            port = n
        }
        self.ip = ip
        self.port = port
    }

    public var description: String {
        ip.isV4 ? "\(ip):\(port)" : "[\(ip)]:\(port)"
    }
}

/// An inclusive range of ports, written `53` or `1024-65535`.
public struct PortRange: Hashable, Sendable, CustomStringConvertible {
    public let low: UInt16
    public let high: UInt16

    public init(low: UInt16, high: UInt16) { self.low = low; self.high = high }

    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            .map { $0.trimmed(" ") }
        guard parts.count == 1 || parts.count == 2,
              let lo = UInt16(parts[0]), let hi = UInt16(parts.count == 2 ? parts[1] : parts[0]),
              lo >= 1, lo <= hi else { return nil }
        self.low = lo
        self.high = hi
    }

    public func contains(_ port: UInt16) -> Bool { port >= low && port <= high }

    public var description: String { low == high ? "\(low)" : "\(low)-\(high)" }
}

extension Substring {
    func trimmed(_ set: Character) -> String {
        var s = self
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return String(s)
    }
}
