#if canImport(Glibc)
import Glibc
#endif

/// The signals `run` acts on, taken synchronously by the main thread with sigwait: blocked in
/// every thread (workers inherit the mask), so no handler runs on a data-path thread.
enum Signals {
    static let handled: [Int32] = [SIGHUP, SIGTERM, SIGINT, SIGUSR1]

    static func blockHandled() {
        var set = sigset_t()
        sigemptyset(&set)
        for s in handled { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        // A peer closing a TCP socket mid-write must not kill the process.
        signal(SIGPIPE, SIG_IGN)
    }

    /// The next signal, or nil when `milliseconds` pass first.
    static func wait(milliseconds: Int) -> Int32? {
        var set = sigset_t()
        sigemptyset(&set)
        for s in handled { sigaddset(&set, s) }
        var timeout = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        while true {
            let s = sigtimedwait(&set, nil, &timeout)
            if s >= 0 { return s }
            if errno == EAGAIN { return nil }
        }
    }

    static func wait() -> Int32 {
        var set = sigset_t()
        sigemptyset(&set)
        for s in handled { sigaddset(&set, s) }
        var received: Int32 = 0
        while sigwait(&set, &received) != 0 {}
        return received
    }
}
