#if canImport(Glibc)
import Glibc
#endif

import Forwarder

/// Something that runs on a thread of its own until told to stop.
protocol ThreadBody: AnyObject {
    func run()
}

extension Worker: ThreadBody {}
extension HealthMonitor: ThreadBody {}

/// Starting and joining threads. The start routine is a plain C-convention function (a closure
/// from top-level code would be main-actor isolated and trap on another thread).
enum WorkerThreads {
    static func start(_ body: ThreadBody) -> pthread_t {
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, workerMain, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return thread
    }

    static func join(_ thread: pthread_t) {
        pthread_join(thread, nil)
    }
}

private final class Box {
    let body: ThreadBody
    init(_ body: ThreadBody) { self.body = body }
}

private func workerMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
    box.body.run()
    return nil
}
