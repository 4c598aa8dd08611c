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

    func target(pool: String, address: String) -> Target? {
        pools.first { $0.name == pool }?.targets.first { $0.address == address }
    }
}
