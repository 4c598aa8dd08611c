import Addressing
import EventIO
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("event loop")
struct EventLoopTests {
    @Test func timerHeapOrdersDeadlines() {
        var heap = TimerHeap()
        for (i, d) in [50, 10, 40, 10, 30, 20].enumerated() { heap.schedule(at: UInt64(d), id: UInt64(i)) }
        var fired: [UInt64] = []
        while let e = heap.popDue(now: 35) { fired.append(e.deadline) }
        #expect(fired == [10, 10, 20, 30])
        #expect(heap.earliest == 40)
    }

    final class Echo: EventHandler {
        let loop: EventLoop
        let fd: Int32
        var received: [[UInt8]] = []
        var timerFired = false
        init(loop: EventLoop, fd: Int32) { self.loop = loop; self.fd = fd }
        func handleEvent(token: UInt64, events: UInt32) {
            var buffer = [UInt8](repeating: 0, count: 512)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 512, 0) }
            if n > 0 { received.append(Array(buffer[0..<n])) }
        }
        func handleTimer(id: UInt64, now: UInt64) { timerFired = true; loop.stop() }
        func handleWake() {}
        func turnEnded() {}
    }

    /// A UDP listener on loopback receives through the loop, and a timer ends the run.
    @Test func udpAndTimer() throws {
        let loop = try EventLoop()
        let listener = try Sockets.udpListener(SocketAddress(ip: .v4(0x7F00_0001), port: 0))
        defer { close(listener) }
        let bound = try #require(Sockets.localAddress(listener))
        #expect(bound.port != 0)
        try loop.register(listener, events: EventLoop.readable, token: 7)
        let client = try Sockets.udpConnected(to: bound, from: nil)
        defer { close(client) }
        let payload: [UInt8] = [1, 2, 3, 4]
        _ = payload.withUnsafeBytes { send(client, $0.baseAddress, 4, 0) }
        let echo = Echo(loop: loop, fd: listener)
        loop.schedule(at: monotonicNanos() + 50_000_000, id: 1)
        loop.run(echo)
        #expect(echo.received == [payload])
        #expect(echo.timerFired)
    }

    @Test func syscallErrorsNameTheCall() {
        #expect(throws: SystemError(call: "bind", errno: EADDRNOTAVAIL)) {
            try Sockets.udpListener(SocketAddress(ip: .v4(0xC612_FFFE), port: 53))  // 198.18.255.254 is not ours
        }
    }
}
