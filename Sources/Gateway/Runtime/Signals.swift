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

    static func wait() -> Int32 {
        var set = sigset_t()
        sigemptyset(&set)
        for s in handled { sigaddset(&set, s) }
        var received: Int32 = 0
        while sigwait(&set, &received) != 0 {}
        return received
    }
}
