import CNetShim
#if canImport(Glibc)
import Glibc
#endif

/// What a loop calls back. Tokens and timer ids are the owner's own encoding.
public protocol EventHandler: AnyObject {
    func handleEvent(token: UInt64, events: UInt32)
    func handleTimer(id: UInt64, now: UInt64)
    /// Another thread called `wake()`.
    func handleWake()
    /// Called once per loop turn after events and timers: the place to flush batched output.
    func turnEnded()
}

/// One epoll loop with timers, owned by one thread. Only `wake()` may be called from elsewhere.
public final class EventLoop: @unchecked Sendable {
    public static let readable = DNSB_EPOLLIN
    public static let writable = DNSB_EPOLLOUT
    public static let hangup = DNSB_EPOLLHUP | DNSB_EPOLLERR | DNSB_EPOLLRDHUP

    /// The token reserved for the wake-up eventfd.
    static let wakeToken = UInt64.max

    let epfd: Int32
    let wakeFD: Int32
    private let events: UnsafeMutablePointer<dnsb_event>
    private let eventCapacity = 256
    public var timers = TimerHeap()
    public private(set) var running = false

    public init() throws(SystemError) {
        epfd = try sysOrThrow("epoll_create1") { dnsb_epoll_create() }
        wakeFD = try sysOrThrow("eventfd") { dnsb_eventfd() }
        events = .allocate(capacity: 256)
        try sysOrThrow("epoll_ctl") { dnsb_epoll_add(epfd, wakeFD, DNSB_EPOLLIN, Self.wakeToken) }
    }

    deinit {
        events.deallocate()
        close(wakeFD)
        close(epfd)
    }

    public func register(_ fd: Int32, events: UInt32, token: UInt64) throws(SystemError) {
        try sysOrThrow("epoll_ctl(ADD)") { dnsb_epoll_add(epfd, fd, events, token) }
    }

    public func modify(_ fd: Int32, events: UInt32, token: UInt64) throws(SystemError) {
        try sysOrThrow("epoll_ctl(MOD)") { dnsb_epoll_mod(epfd, fd, events, token) }
    }

    /// Removing a descriptor that is about to be closed is optional (close removes it), but
    /// doing it first keeps a stale event from reaching a reused descriptor number.
    public func unregister(_ fd: Int32) {
        _ = dnsb_epoll_del(epfd, fd)
    }

    /// Safe from any thread.
    public func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    public func schedule(at deadline: UInt64, id: UInt64) { timers.schedule(at: deadline, id: id) }

    /// Runs until `stop()`; each turn waits for events or the earliest timer, dispatches the
    /// events, then every timer that is due.
    public func run<H: EventHandler>(_ handler: H) {
        running = true
        while running {
            var timeout: Int32 = -1
            if let deadline = timers.earliest {
                let now = monotonicNanos()
                timeout = deadline <= now ? 0 : Int32(min((deadline - now + 999_999) / 1_000_000, 60_000))
            }
            let n = dnsb_epoll_wait(epfd, events, Int32(eventCapacity), timeout)
            if n > 0 {
                for i in 0..<Int(n) {
                    let e = events[i]
                    if e.token == Self.wakeToken {
                        var value: UInt64 = 0
                        _ = read(wakeFD, &value, 8)
                        handler.handleWake()
                    } else {
                        handler.handleEvent(token: e.token, events: e.events)
                    }
                }
            }
            if !timers.isEmpty {
                let now = monotonicNanos()
                while let due = timers.popDue(now: now) { handler.handleTimer(id: due.id, now: now) }
            }
            handler.turnEnded()
        }
    }

    /// Ends `run` after the current turn; call from the loop's own thread.
    public func stop() { running = false }
}
