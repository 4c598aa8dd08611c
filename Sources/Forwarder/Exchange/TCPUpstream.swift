import CNetShim
import EventIO
#if canImport(Glibc)
import Glibc
#endif

/// One TCP exchange with a target after a truncated UDP answer: connect, write the
/// length-prefixed query, read one length-prefixed answer (RFC 1035 §4.2.2). A small state
/// machine driven by readiness events.
struct TCPUpstream {
    enum Progress {
        case waiting
        case failed
        case message([UInt8])
    }

    var fd: Int32 = -1
    var request: Int32 = -1
    private var output: [UInt8] = []
    private var written = 0
    private var input: [UInt8] = []
    private var connected = false

    var wantsWrite: Bool { written < output.count }

    mutating func open(fd: Int32, request: Int32, query: [UInt8]) {
        self.fd = fd
        self.request = request
        output.removeAll(keepingCapacity: true)
        output.append(UInt8(query.count >> 8))
        output.append(UInt8(query.count & 0xFF))
        output.append(contentsOf: query)
        written = 0
        input.removeAll(keepingCapacity: true)
        connected = false
    }

    mutating func progress(events: UInt32) -> Progress {
        if !connected {
            guard events & (EventLoop.writable | EventLoop.hangup) != 0 else { return .waiting }
            guard Sockets.pendingError(fd) == 0 else { return .failed }
            connected = true
        }
        if wantsWrite {
            let n = output.withUnsafeBytes { p in Glibc.send(fd, p.baseAddress! + written, p.count - written, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { return .waiting }
                return .failed
            }
            written += n
            if wantsWrite { return .waiting }
        }
        var chunk = (0..<4096).map { _ in UInt8(0) }
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { break }
                return .failed
            }
            if n == 0 {
                return .failed  // closed before a whole answer arrived
            }
            input.append(contentsOf: chunk[0..<n])
            if input.count >= 2 {
                let length = Int(input[0]) << 8 | Int(input[1])
                if input.count >= 2 + length { return .message(Array(input[2..<(2 + length)])) }
            }
        }
        return .waiting
    }
}
