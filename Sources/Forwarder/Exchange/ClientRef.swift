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
    func deliver(_ answer: UnsafeRawBufferPointer, to client: ClientRef, origin: AnswerOrigin)
}

/// Where an answer came from, for counting and the query log.
public struct AnswerOrigin: Sendable {
    public enum Source: UInt8, Sendable {
        /// A target answered.
        case upstream
        case cache
        /// An expired cache entry, served because upstream failed (RFC 8767).
        case stale
        /// Made here: SERVFAIL after every try failed, or no room for the query.
        case local
    }

    public var source: Source
    /// Pool index, and the target index of its last try (-1: none tried).
    public var pool: Int32
    public var target: Int32
    /// What the caller passed with the query (the worker: its rule), handed back untouched.
    public var tag: Int32
    /// Monotonic nanoseconds when the query arrived.
    public var arrived: UInt64

    public init(source: Source, pool: Int32, target: Int32, tag: Int32, arrived: UInt64) {
        self.source = source; self.pool = pool; self.target = target; self.tag = tag; self.arrived = arrived
    }
}

/// What one try at a target came to: fed back to selection (RTT, failures in a row) and to
/// health (a run of failures makes the target suspect), and counted per target.
public enum AttemptOutcome: Int, CaseIterable, Sendable, CustomStringConvertible {
    case answered, servfail, refused, timeout, networkError, malformed, truncated

    public var description: String {
        switch self {
        case .answered: return "answered"
        case .servfail: return "servfail"
        case .refused: return "refused"
        case .timeout: return "timeout"
        case .networkError: return "network_error"
        case .malformed: return "malformed"
        case .truncated: return "truncated"
        }
    }

    /// Outcomes that count against a target's health.
    var isFailure: Bool { self == .servfail || self == .timeout || self == .networkError || self == .malformed }
}

/// Per-worker counters: plain integers written by one thread only, summed by readers.
public struct ExchangeCounters: Sendable {
    public var upstreamQueries: UInt64 = 0
    public var answers: UInt64 = 0
    public var timeouts: UInt64 = 0
    public var networkErrors: UInt64 = 0
    public var tcpRetries: UInt64 = 0
    /// Tries after the first (another target, after a failure).
    public var retries: UInt64 = 0
    /// Answers that matched no outstanding query or failed the question check.
    public var spoofedOrLate: UInt64 = 0
    public var malformedAnswers: UInt64 = 0
    /// SERVFAIL made by the gateway because every try failed.
    public var servfails: UInt64 = 0
    /// Tries sent while no target of the pool was up or suspect.
    public var allDownTries: UInt64 = 0
    /// Client queries joined to an identical question already in flight.
    public var deduplicated: UInt64 = 0
    public var overCapacity: UInt64 = 0
    public init() {}
}

/// Limits for the exchange itself; retry timing is per pool (`RetrySpec`).
public struct ExchangeSettings: Sendable {
    /// Queries in flight upstream per worker; past it, clients get SERVFAIL at once.
    public var maxInFlight: Int = 8192
    /// Connected UDP sockets per target and worker; each query picks one at random.
    public var socketsPerTarget: Int = 8
    /// A socket is replaced by a fresh one (new random source port) after this many queries.
    public var socketRotation: Int = 512

    public init() {}
}

/// One worker's view of one target, for `dnsbridge status`.
public struct TargetStats: Sendable {
    public var srttNanos: UInt64 = 0
    public var outstanding = 0
    /// Tries by outcome, indexed by `AttemptOutcome.rawValue`.
    public var outcomes = [UInt64](repeating: 0, count: AttemptOutcome.allCases.count)
    /// Answers by RTT: one count per bucket of `LatencyHistogram.bounds`, then those above.
    public var latency = [UInt64](repeating: 0, count: LatencyHistogram.bounds.count + 1)
    public var latencySumNanos: UInt64 = 0
    public init() {}

    /// Sums two workers' views (the slower RTT wins: it is the one clients feel).
    public mutating func add(_ other: TargetStats) {
        srttNanos = max(srttNanos, other.srttNanos)
        outstanding += other.outstanding
        for i in outcomes.indices { outcomes[i] += other.outcomes[i] }
        for i in latency.indices { latency[i] += other.latency[i] }
        latencySumNanos += other.latencySumNanos
    }
}

/// The buckets of the upstream latency histogram, upper bounds in nanoseconds: from what a
/// target on the same network answers in to what a client stops waiting after.
public enum LatencyHistogram {
    public static let bounds: [UInt64] = [250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000,
                                          50_000_000, 100_000_000, 250_000_000, 500_000_000, 1_000_000_000]
}
