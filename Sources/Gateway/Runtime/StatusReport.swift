import Forwarder

/// What `dnsbridge status` shows, as sent over the status socket (JSON). The same shape is
/// read back by `status` and `explain`.
struct StatusReport: Codable {
    struct Target: Codable {
        var address: String
        var transport: String
        var priority: Int
        var weight: Int
        var state: String
        var drained: Bool
        var consecutive_probe_failures: Int
        var probe_rtt_ms: Double?
        var last_healthy_seconds_ago: Double?
        var srtt_ms: Double?
        var outstanding: Int
        var outcomes: [String: UInt64]
        /// Answers by RTT: cumulative counts at each bound of `latency_bounds_seconds`, then all.
        var latency_buckets: [UInt64]?
        var latency_sum_seconds: Double?
    }
    struct Pool: Codable {
        var name: String
        var policy: String
        var targets: [Target]
    }
    struct Endpoint: Codable {
        var name: String
        var direction: String
        var addresses: [String]
        /// udp_queries, tcp_queries, refused, formerr, notimp, dropped, truncated, and
        /// rcode_NAME, qtype_NAME for the ones seen.
        var counters: [String: UInt64]?
    }

    var version: String
    var config_path: String
    var config_generation: Int
    var config_loaded_unix: Int
    var uptime_seconds: Double
    var workers: Int
    var endpoints: [Endpoint]
    var pools: [Pool]
    var counters: [String: UInt64]
    /// Queries matched by each rule since start, by rule name.
    var rule_hits: [String: UInt64]?

    func target(pool: String, address: String) -> Target? {
        pools.first { $0.name == pool }?.targets.first { $0.address == address }
    }
}
