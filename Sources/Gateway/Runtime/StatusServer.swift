import CNetShim
import EventIO
import Forwarder
import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Serves `StatusReport` JSON on a local unix socket, one report per connection, on a thread of
/// its own (never a data-path thread): the local, unauthenticated counterpart of the control
/// listener, for `dnsbridge status`, `cache flush` and `explain` on the machine itself.
final class StatusServer: ThreadBody, @unchecked Sendable {
    let path: String
    private let fd: Int32
    let view: GatewayView
    private let stopping = Atomic<Bool>(false)

    /// Binds the socket (replacing a stale one, creating its folder); nil with a reason when
    /// that is not possible — the gateway then runs without it.
    static func open(path: String, view: GatewayView) -> Result<StatusServer, SystemError> {
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            mkdir(String(path[..<slash]), 0o755)
        }
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(SystemError(call: "socket(AF_UNIX)", errno: errno)) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            return .failure(SystemError(call: "bind(\(path))", errno: ENAMETOOLONG))
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let e = errno
            close(fd)
            return .failure(SystemError(call: "bind(\(path))", errno: e))
        }
        chmod(path, 0o660)
        return .success(StatusServer(path: path, fd: fd, view: view))
    }

    private init(path: String, fd: Int32, view: GatewayView) {
        self.path = path
        self.fd = fd
        self.view = view
    }

    func run() {
        while !stopping.load(ordering: .relaxed) {
            let client = dnsb_accept_blocking(fd)
            if client < 0 {
                if errno == EINTR { continue }
                break
            }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var bytes: Data
            switch StatusRequest(readLineFrom: client) {
            case .status:
                bytes = (try? JSONEncoder().encode(view.report())) ?? Data("{}".utf8)
            case .flush(let name):
                bytes = (try? JSONEncoder().encode(view.flush(name))) ?? Data("{}".utf8)
            case .invalid(let why):
                bytes = (try? JSONEncoder().encode(["error": why])) ?? Data("{}".utf8)
            }
            bytes.append(0x0A)
            bytes.withUnsafeBytes { p in
                var done = 0
                while done < p.count {
                    let n = send(client, p.baseAddress! + done, p.count - done, Int32(MSG_NOSIGNAL))
                    if n <= 0 { break }
                    done += n
                }
            }
            close(client)
        }
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        unlink(path)
    }

    /// Reads a report from a running gateway; the reason when none answers.
    static func fetch(path: String) -> Result<StatusReport, FileReadError> {
        exchange(path: path, request: "status", as: StatusReport.self)
    }

    /// Sends one request line and decodes the JSON answer.
    static func exchange<T: Decodable>(path: String, request: String, as: T.Type) -> Result<T, FileReadError> {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(FileReadError(path: path, reason: String(cString: strerror(errno)))) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            return .failure(FileReadError(path: path, reason: "path too long"))
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard ok == 0 else { return .failure(FileReadError(path: path, reason: String(cString: strerror(errno)))) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let line = Array((request + "\n").utf8)
        _ = line.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        guard let value = try? JSONDecoder().decode(T.self, from: data) else {
            return .failure(FileReadError(path: path, reason: "the answer is not what was asked for"))
        }
        return .success(value)
    }
}
