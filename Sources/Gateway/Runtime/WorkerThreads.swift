#if canImport(Glibc)
import Glibc
#endif

/// Starting and joining worker threads. The start routine is a plain C-convention function
/// (a closure from top-level code would be main-actor isolated and trap on another thread).
enum WorkerThreads {
    static func start(_ worker: Worker) -> pthread_t {
        let context = Unmanaged.passRetained(worker).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, workerMain, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return thread
    }

    static func join(_ thread: pthread_t) {
        pthread_join(thread, nil)
    }
}

private func workerMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let worker = Unmanaged<Worker>.fromOpaque(context!).takeRetainedValue()
    worker.run()
    return nil
}
