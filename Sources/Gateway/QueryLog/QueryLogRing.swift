import Forwarder
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One worker's query-log records on their way to the log thread: a single-producer,
/// single-consumer ring of fixed-size slots allocated once, so recording a query costs a copy of
/// its answer and never an allocation, a lock or a wait. When the writer falls behind and the
/// ring is full, records are dropped and counted: a slow disk must never slow a query.
final class QueryLogRing: @unchecked Sendable {
    /// What the worker knows of the exchange; the answer itself (the client's question, the
    /// rcode, the records) follows it in the slot.
    struct Record {
        var realtimeNanos: UInt64 = 0
        var latencyNanos: UInt64 = 0
        var peer = sockaddr_storage()
        var endpoint: Int32 = 0
        var rule: Int32 = -1
        var pool: Int32 = -1
        var target: Int32 = -1
        var tcp = false
        var source = AnswerOrigin.Source.local
        var answerLength: UInt32 = 0
        var captured: UInt32 = 0
    }

    static let slots = 8192
    /// Answers longer than this (the EDNS size we advertise; only TCP answers can be) are logged
    /// without their records (the question and rcode stay:
    /// they come first).
    static let answerCapacity = 1232
    static let slotSize = (MemoryLayout<Record>.stride + answerCapacity + 63) & ~63

    private let memory: UnsafeMutableRawPointer
    private let head = Atomic<Int>(0)
    private let tail = Atomic<Int>(0)
    let dropped = Atomic<UInt64>(0)

    init() {
        memory = UnsafeMutableRawPointer.allocate(byteCount: Self.slots * Self.slotSize, alignment: 64)
    }

    deinit { memory.deallocate() }

    /// Producer side (the worker's thread only).
    func record(_ record: Record, answer: UnsafeRawBufferPointer) {
        let h = head.load(ordering: .relaxed)
        guard h - tail.load(ordering: .acquiring) < Self.slots else {
            dropped.wrappingAdd(1, ordering: .relaxed)
            return
        }
        let slot = memory + (h % Self.slots) * Self.slotSize
        var r = record
        r.answerLength = UInt32(answer.count)
        r.captured = UInt32(min(answer.count, Self.answerCapacity))
        slot.storeBytes(of: r, as: Record.self)
        if r.captured > 0, let base = answer.baseAddress {
            (slot + MemoryLayout<Record>.stride).copyMemory(from: base, byteCount: Int(r.captured))
        }
        head.store(h + 1, ordering: .releasing)
    }

    /// Consumer side (the log thread only): every record waiting, oldest first.
    func drain(_ each: (Record, UnsafeRawBufferPointer) -> Void) {
        let t = tail.load(ordering: .relaxed)
        let h = head.load(ordering: .acquiring)
        for i in t..<h {
            let slot = memory + (i % Self.slots) * Self.slotSize
            let r = slot.load(as: Record.self)
            each(r, UnsafeRawBufferPointer(start: slot + MemoryLayout<Record>.stride, count: Int(r.captured)))
        }
        tail.store(h, ordering: .releasing)
    }
}
