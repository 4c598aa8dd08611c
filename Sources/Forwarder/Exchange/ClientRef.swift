#if canImport(Glibc)
import Glibc
#endif

/// Who asked, in the listener's terms: the exchange stores it with the waiting query and hands
/// it back with the answer. It never interprets it beyond `acceptedSize`.
public struct ClientRef {
    public enum Transport: UInt8 { case udp, tcp }

    public var transport: Transport
    /// The listener (UDP) or connection (TCP) slot, as the listener numbers them.
    public var slot: Int32
    /// Guards against answering a reused connection slot.
    public var generation: UInt32
    /// The UDP peer; unused for TCP.
    public var peer: sockaddr_storage

    public init(transport: Transport, slot: Int32, generation: UInt32, peer: sockaddr_storage) {
        self.transport = transport; self.slot = slot; self.generation = generation; self.peer = peer
    }
}

/// Where answers go: implemented by the listeners.
public protocol AnswerSink: AnyObject {
    /// `answer` is final: ID, question case, EDNS size and truncation already done for this
    /// client. The bytes are valid only during the call.
    func deliver(_ answer: UnsafeRawBufferPointer, to client: ClientRef)
}

/// Why a query got no answer from upstream, for counters and logs (per attempt outcomes,
/// health and policies arrive with the pools issue).
public enum AttemptOutcome: Int, CaseIterable, Sendable {
    case answered, timeout, networkError, truncatedRetriedOverTCP
}

/// Per-worker counters: plain integers written by one thread only, summed by readers.
public struct ExchangeCounters: Sendable {
    public var upstreamQueries: UInt64 = 0
    public var answers: UInt64 = 0
    public var timeouts: UInt64 = 0
    public var networkErrors: UInt64 = 0
    public var tcpRetries: UInt64 = 0
    /// Answers that matched no outstanding query or failed the question check.
    public var spoofedOrLate: UInt64 = 0
    public var malformedAnswers: UInt64 = 0
    public var servfails: UInt64 = 0
    /// Client queries joined to an identical question already in flight.
    public var deduplicated: UInt64 = 0
    public var overCapacity: UInt64 = 0
    public init() {}
}

/// Limits for the exchange, defaults chosen to keep a failed try within a client's patience
/// (about one second in all).
public struct ExchangeSettings: Sendable {
    /// How long one try waits for an answer before the next target is tried.
    public var tryTimeoutNanos: UInt64 = 500_000_000
    /// Tries per query, the first included (a timeout or network error moves to another target).
    public var maxTries: Int = 2
    /// Queries in flight upstream per worker; past it, clients get SERVFAIL at once.
    public var maxInFlight: Int = 8192
    /// Connected UDP sockets per target and worker; each query picks one at random.
    public var socketsPerTarget: Int = 8
    /// A socket is replaced by a fresh one (new random source port) after this many queries.
    public var socketRotation: Int = 512

    public init() {}
}
