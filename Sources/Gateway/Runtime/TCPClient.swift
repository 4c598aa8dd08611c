import CNetShim
#if canImport(Glibc)
import Glibc
#endif

/// One client TCP connection (RFC 7766): many length-prefixed queries in, answers out in the
/// order they complete. Buffers are kept across the connection's life and reused by the next
/// connection in the same slot.
struct TCPClient {
    enum ReadState { case open, closedByPeer, failed }
    enum WriteState { case drained, blocked, failed }

    /// An answer backlog beyond this means the client is not reading: the connection is closed.
    static let maxOutput = 1 << 20

    var fd: Int32 = -1
    var generation: UInt32 = 0
    var endpoint = 0
    var peer = sockaddr_storage()
    var lastActivity: UInt64 = 0
    var pendingAnswers = 0
    var readClosed = false
    var watchingWrites = false
    private var input: [UInt8] = []
    private var consumed = 0
    private var output: [UInt8] = []
    private var sent = 0
    private(set) var inputOverflow = false

    init() {
        input.reserveCapacity(4096)
        output.reserveCapacity(4096)
    }

    mutating func open(fd: Int32, endpoint: Int, peer: sockaddr_storage, now: UInt64) {
        self.fd = fd
        self.endpoint = endpoint
        self.peer = peer
        lastActivity = now
        pendingAnswers = 0
        readClosed = false
        watchingWrites = false
        input.removeAll(keepingCapacity: true)
        consumed = 0
        output.removeAll(keepingCapacity: true)
        sent = 0
        inputOverflow = false
    }

    var hasOutput: Bool { sent < output.count }

    /// Reads what the socket has, through the worker's scratch buffer.
    mutating func readAvailable(scratch: UnsafeMutableRawBufferPointer) -> ReadState {
        for _ in 0..<16 {
            let n = recv(fd, scratch.baseAddress, scratch.count, Int32(MSG_DONTWAIT))
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { return .open }
                if errno == EINTR { continue }
                return .failed
            }
            if n == 0 {
                readClosed = true
                return .closedByPeer
            }
            input.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
            // A frame is at most 65 535 octets; more unconsumed input than two frames is abuse.
            if input.count - consumed > 2 * 65_537 { inputOverflow = true; return .open }
        }
        return .open
    }

    /// The range of the next whole query in the input buffer, if one has arrived.
    mutating func nextFrame() -> Range<Int>? {
        guard input.count - consumed >= 2 else { return nil }
        let length = Int(input[consumed]) << 8 | Int(input[consumed + 1])
        guard input.count - consumed >= 2 + length else { return nil }
        let range = (consumed + 2)..<(consumed + 2 + length)
        consumed += 2 + length
        return range
    }

    func withFrame<R>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        input.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// Drops the consumed prefix once in a while, not per frame.
    mutating func compactInput() {
        if consumed == input.count {
            input.removeAll(keepingCapacity: true)
            consumed = 0
        } else if consumed > 32_768 {
            input.removeSubrange(0..<consumed)
            consumed = 0
        }
    }

    mutating func queue(_ answer: UnsafeRawBufferPointer) {
        output.append(UInt8(answer.count >> 8))
        output.append(UInt8(answer.count & 0xFF))
        output.append(contentsOf: answer)
    }

    mutating func writeQueued() -> WriteState {
        while sent < output.count {
            let n = output.withUnsafeBytes { p in send(fd, p.baseAddress! + sent, p.count - sent, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    return output.count - sent > Self.maxOutput ? .failed : .blocked
                }
                return .failed
            }
            sent += n
        }
        output.removeAll(keepingCapacity: true)
        sent = 0
        return .drained
    }
}
