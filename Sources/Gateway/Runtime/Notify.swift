import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// systemd readiness notifications (Type=notify) through libsystemd's sd_notify; a no-op when
/// NOTIFY_SOCKET is not set, as when run by hand.
enum Notify {
    static func ready() { send("READY=1\nSTATUS=serving") }
    static func reloading() { send("RELOADING=1\nMONOTONIC_USEC=\(monotonicMicros())") }
    static func stopping() { send("STOPPING=1") }
    static func status(_ text: String) { send("STATUS=\(text)") }

    private static func send(_ state: String) {
        guard getenv("NOTIFY_SOCKET") != nil else { return }
        _ = sd_notify(0, state)
    }

    private static func monotonicMicros() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }
}
