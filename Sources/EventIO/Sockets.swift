import Addressing
import CNetShim
#if canImport(Glibc)
import Glibc
#endif

/// Creating and configuring non-blocking sockets. Every descriptor is close-on-exec.
public enum Sockets {
    /// Socket buffers large enough that a burst is not dropped at the kernel's receive queue
    /// (RcvbufErrors) before a worker drains it.
    public static let bufferBytes: Int32 = 4 << 20

    static func family(_ a: SocketAddress) -> Int32 { a.ip.isV4 ? AF_INET : AF_INET6 }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ call: StaticString) throws(SystemError) {
        var v = value
        try sysOrThrow(call) { setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) }
    }

    static func newSocket(_ family: Int32, _ type: Int32) throws(SystemError) -> Int32 {
        try sysOrThrow("socket") { socket(family, type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
    }

    /// A UDP socket bound to `address` with SO_REUSEPORT, so each worker binds its own socket to
    /// the same address and the kernel spreads datagrams across them.
    public static func udpListener(_ address: SocketAddress) throws(SystemError) -> Int32 {
        let fd = try newSocket(family(address), Int32(SOCK_DGRAM.rawValue))
        do {
            try prepareListener(fd, address)
            try bind(fd, address)
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// A TCP listening socket, SO_REUSEPORT like the UDP one.
    public static func tcpListener(_ address: SocketAddress, backlog: Int32 = 1024) throws(SystemError) -> Int32 {
        let fd = try newSocket(family(address), Int32(SOCK_STREAM.rawValue))
        do {
            try prepareListener(fd, address)
            try bind(fd, address)
            try sysOrThrow("listen") { listen(fd, backlog) }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    private static func prepareListener(_ fd: Int32, _ address: SocketAddress) throws(SystemError) {
        try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)")
        try setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1, "setsockopt(SO_REUSEPORT)")
        try setOption(fd, SOL_SOCKET, SO_RCVBUF, bufferBytes, "setsockopt(SO_RCVBUF)")
        try setOption(fd, SOL_SOCKET, SO_SNDBUF, bufferBytes, "setsockopt(SO_SNDBUF)")
        if !address.ip.isV4 {
            try setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1, "setsockopt(IPV6_V6ONLY)")
        }
    }

    static func bind(_ fd: Int32, _ address: SocketAddress) throws(SystemError) {
        var storage = sockaddr_storage()
        let length = address.fill(&storage)
        try withUnsafePointer(to: &storage) { p throws(SystemError) in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                _ = try sysOrThrow("bind") { Glibc.bind(fd, sa, length) }
            }
        }
    }

    /// A UDP socket connected to `target`, optionally bound to `source` (port chosen by the
    /// kernel, at random from the ephemeral range). Connecting makes the kernel drop datagrams
    /// from any other address or port — the first of the checks on an upstream answer.
    public static func udpConnected(to target: SocketAddress, from source: IPAddress?) throws(SystemError) -> Int32 {
        try connected(Int32(SOCK_DGRAM.rawValue), to: target, from: source) { fd throws(SystemError) in
            try setOption(fd, SOL_SOCKET, SO_RCVBUF, 1 << 20, "setsockopt(SO_RCVBUF)")
        }
    }

    /// Starts a non-blocking TCP connection; completion is signalled by writability.
    public static func tcpConnect(to target: SocketAddress, from source: IPAddress?) throws(SystemError) -> Int32 {
        try connected(Int32(SOCK_STREAM.rawValue), to: target, from: source) { fd throws(SystemError) in
            try setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1, "setsockopt(TCP_NODELAY)")
        }
    }

    private static func connected(_ type: Int32, to target: SocketAddress, from source: IPAddress?,
                                  configure: (Int32) throws(SystemError) -> Void) throws(SystemError) -> Int32 {
        let fd = try newSocket(family(target), type)
        do {
            try configure(fd)
            if let source { try bind(fd, SocketAddress(ip: source, port: 0)) }
            try connect(fd, target)
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    static func connect(_ fd: Int32, _ target: SocketAddress) throws(SystemError) {
        var storage = sockaddr_storage()
        let length = target.fill(&storage)
        try withUnsafePointer(to: &storage) { p throws(SystemError) in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                _ = try sys("connect") { Glibc.connect(fd, sa, length) }
            }
        }
    }

    /// Accepts one connection, non-blocking and close-on-exec; nil when none is waiting.
    public static func accept(_ listener: Int32, peer: UnsafeMutablePointer<sockaddr_storage>) throws(SystemError) -> Int32? {
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let r = try peer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
            try sys("accept4") { dnsb_accept(listener, sa, &length) }
        }
        switch r {
        case .done(let fd):
            try? setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1, "setsockopt(TCP_NODELAY)")
            return fd
        case .wouldBlock: return nil
        }
    }

    /// The error a non-blocking connect ended with (SO_ERROR), 0 when it succeeded.
    public static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length)
        return value
    }

    /// The address a socket is bound to (to learn a kernel-chosen port).
    public static func localAddress(_ fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { return nil }
        return withUnsafePointer(to: &storage) { SocketAddress(storage: $0) }
    }
}
