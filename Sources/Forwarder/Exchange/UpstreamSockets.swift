import Addressing
import EventIO
#if canImport(Glibc)
import Glibc
#endif

/// The UDP sockets a worker uses towards one target from one source address: a few connected
/// sockets, one picked at random per query and replaced after `socketRotation` uses, so source
/// ports keep changing (RFC 5452 §4.5) without a socket per query.
final class UpstreamTarget {
    let address: SocketAddress
    let source: IPAddress?
    /// Indices into `Exchange.sockets`.
    var socketSlots: [Int32] = []
    /// Requests in flight through this target; a retired target closes its sockets at zero.
    var inFlight = 0
    var retired = false
    /// Smoothed RTT and its variation (RFC 6298 weights), nanoseconds; 0 before a sample.
    var srtt: UInt64 = 0
    var rttvar: UInt64 = 0
    /// Failed tries in a row, from this worker's traffic.
    var consecutiveFailures = 0
    /// Tries by outcome, indexed by `AttemptOutcome.rawValue`.
    var outcomes = [UInt64](repeating: 0, count: AttemptOutcome.allCases.count)
    /// Answers by RTT, `LatencyHistogram.bounds` buckets and one above them, and their sum.
    var latency = [UInt64](repeating: 0, count: LatencyHistogram.bounds.count + 1)
    var latencySum: UInt64 = 0

    func recordRTT(_ sample: UInt64) {
        var bucket = 0
        while bucket < LatencyHistogram.bounds.count && sample > LatencyHistogram.bounds[bucket] { bucket += 1 }
        latency[bucket] &+= 1
        latencySum &+= sample
        if srtt == 0 {
            srtt = sample
            rttvar = sample / 2
        } else {
            let delta = sample > srtt ? sample - srtt : srtt - sample
            rttvar = (3 * rttvar + delta) / 4
            srtt = (7 * srtt + sample) / 8
        }
    }

    init(address: SocketAddress, source: IPAddress?) {
        self.address = address
        self.source = source
    }
}

/// One connected UDP socket.
struct UpstreamSocket {
    var fd: Int32
    var uses: Int
    var outstanding: Int
    var target: UpstreamTarget?
}

/// What the exchange keeps per routing snapshot: the snapshot, the health board, each pool's
/// tiers, and for every pool its targets' socket sets (shared with the previous snapshot where
/// target and source are unchanged).
public final class UpstreamSnapshot {
    public let table: RoutingTable
    let board: HealthBoard
    /// `tiers[pool]`: target indices by priority, preferred tier first.
    let tiers: [[[Int]]]
    /// Cache keys of the pools, by name.
    let poolKeys: [UInt64]
    /// `targets[endpoint][pool][target]`: the socket set used when that endpoint's query goes to
    /// that target — sets differ only by source address (the endpoint's `source_addresses`).
    let targets: [[[UpstreamTarget]]]

    init(table: RoutingTable, board: HealthBoard, targets: [[[UpstreamTarget]]]) {
        self.table = table
        self.board = board
        self.targets = targets
        tiers = table.pools.map(\.tiers)
        poolKeys = table.pools.map { AnswerCache.poolKey($0.name) }
    }
}
