import CNetShim
#if canImport(Glibc)
import Glibc
#endif

/// Answers waiting to leave one UDP listener, sent together with one sendmmsg at the end of a
/// loop turn. Buffers are allocated once; an answer is copied in, never allocated.
struct UDPOutbox {
    static let capacity = 64
    /// Answers to UDP clients never exceed 1232 octets (see AnswerBuilder); room to spare.
    static let slotBytes = 1500

    let fd: Int32
    private let slots: UnsafeMutablePointer<dnsb_datagram>
    private let buffers: UnsafeMutableRawPointer
    private(set) var count = 0

    init(fd: Int32) {
        self.fd = fd
        slots = .allocate(capacity: Self.capacity)
        buffers = .allocate(byteCount: Self.capacity * Self.slotBytes, alignment: 16)
        for i in 0..<Self.capacity {
            slots[i] = dnsb_datagram(buffer: buffers + i * Self.slotBytes, capacity: Self.slotBytes, length: 0,
                                     address: sockaddr_storage(), address_length: 0)
        }
    }

    /// Queues an answer; false when the box is full (flush, then add again). An answer larger
    /// than a slot is sent at once on its own.
    mutating func add(_ answer: UnsafeRawBufferPointer, to peer: sockaddr_storage) -> Bool {
        let length = socklen_t(Int32(peer.ss_family) == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
        if answer.count > Self.slotBytes {
            var p = peer
            _ = withUnsafePointer(to: &p) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, answer.baseAddress, answer.count, Int32(MSG_DONTWAIT), $0, length) }
            }
            return true
        }
        guard count < Self.capacity else { return false }
        slots[count].buffer.copyMemory(from: answer.baseAddress!, byteCount: answer.count)
        slots[count].length = answer.count
        slots[count].address = peer
        slots[count].address_length = length
        count += 1
        return true
    }

    /// Sends everything queued. A datagram the kernel refuses is dropped and counted; UDP
    /// clients retry.
    mutating func flush(_ counters: inout WorkerCounters) {
        var sent = 0
        while sent < count {
            let n = dnsb_send_batch(fd, slots + sent, UInt32(count - sent))
            if n < 0 {
                if errno == EINTR { continue }
                counters.udpSendErrors += 1
                sent += 1  // skip the datagram that failed
                continue
            }
            sent += Int(n)
        }
        count = 0
    }

    func release() {
        slots.deallocate()
        buffers.deallocate()
    }
}
