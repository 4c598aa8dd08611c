import Addressing
#if canImport(Glibc)
import Glibc
#endif

/// Conversions between configuration addresses and the kernel's sockaddr forms. The data path
/// keeps peers as raw `sockaddr_storage` and converts only for access checks and logs.
extension SocketAddress {
    public func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        var storage = sockaddr_storage()
        let length = fill(&storage)
        return try withUnsafePointer(to: &storage) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, length) }
        }
    }

    /// Writes this address into `storage`, returning the length to pass to the kernel.
    public func fill(_ storage: inout sockaddr_storage) -> socklen_t {
        storage = sockaddr_storage()
        switch ip {
        case .v4(let v):
            return withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    sin.pointee.sin_family = sa_family_t(AF_INET)
                    sin.pointee.sin_port = port.bigEndian
                    sin.pointee.sin_addr.s_addr = v.bigEndian
                    return socklen_t(MemoryLayout<sockaddr_in>.size)
                }
            }
        case .v6:
            let octets = ip.octets
            return withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    sin6.pointee.sin6_family = sa_family_t(AF_INET6)
                    sin6.pointee.sin6_port = port.bigEndian
                    withUnsafeMutableBytes(of: &sin6.pointee.sin6_addr) { raw in
                        for i in 0..<16 { raw[i] = octets[i] }
                    }
                    return socklen_t(MemoryLayout<sockaddr_in6>.size)
                }
            }
        }
    }

    /// Reads a kernel address; nil for families other than IPv4 and IPv6.
    public init?(storage: UnsafePointer<sockaddr_storage>) {
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            let sin = UnsafeRawPointer(storage).assumingMemoryBound(to: sockaddr_in.self).pointee
            self.init(ip: .v4(UInt32(bigEndian: sin.sin_addr.s_addr)), port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            let sin6 = UnsafeRawPointer(storage).assumingMemoryBound(to: sockaddr_in6.self).pointee
            let octets = withUnsafeBytes(of: sin6.sin6_addr) { Array($0) }
            self.init(ip: IPAddress(v6Octets: octets), port: UInt16(bigEndian: sin6.sin6_port))
        default:
            return nil
        }
    }
}

/// The IP of a raw peer address without building a `SocketAddress`: what an access check needs.
@inline(__always)
public func peerIP(_ storage: UnsafePointer<sockaddr_storage>) -> IPAddress? {
    switch Int32(storage.pointee.ss_family) {
    case AF_INET:
        let sin = UnsafeRawPointer(storage).assumingMemoryBound(to: sockaddr_in.self)
        return .v4(UInt32(bigEndian: sin.pointee.sin_addr.s_addr))
    case AF_INET6:
        let raw = UnsafeRawPointer(storage).advanced(by: MemoryLayout<sockaddr_in6>.offset(of: \sockaddr_in6.sin6_addr)!)
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(raw.load(fromByteOffset: i, as: UInt8.self)) }
        for i in 8..<16 { low = low << 8 | UInt64(raw.load(fromByteOffset: i, as: UInt8.self)) }
        return .v6(high: high, low: low)
    default:
        return nil
    }
}
