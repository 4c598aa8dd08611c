#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, and errno.
public struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    public var call: String
    public var errno: Int32
    public init(call: String, errno: Int32) { self.call = call; self.errno = errno }
    public var description: String { "\(call): \(String(cString: strerror(errno)))" }
}

/// What a non-blocking call did: finished with a value, or would have blocked.
public enum IOResult<T> {
    case done(T)
    case wouldBlock
}

/// Runs `body`, a libc call that returns -1 and sets errno on failure: retries EINTR, turns
/// EAGAIN/EWOULDBLOCK/EINPROGRESS into `.wouldBlock`, and throws anything else named by `call`.
@inline(__always)
public func sys<T: BinaryInteger>(_ call: StaticString, _ body: () -> T) throws(SystemError) -> IOResult<T> {
    while true {
        let r = body()
        if r >= 0 { return .done(r) }
        let e = errno
        if e == EINTR { continue }
        if e == EAGAIN || e == EWOULDBLOCK || e == EINPROGRESS { return .wouldBlock }
        throw SystemError(call: "\(call)", errno: e)
    }
}

/// For calls that never legitimately block (socket, bind, setsockopt, epoll_ctl).
@inline(__always)
@discardableResult
public func sysOrThrow<T: BinaryInteger>(_ call: StaticString, _ body: () -> T) throws(SystemError) -> T {
    switch try sys(call, body) {
    case .done(let v): return v
    case .wouldBlock: throw SystemError(call: "\(call)", errno: EAGAIN)
    }
}

/// Monotonic time in nanoseconds: the only clock the data path reads.
@inline(__always)
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
