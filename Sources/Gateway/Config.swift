import Addressing
import DNSWire
import Forwarder
import NetIsolation

/// The configuration file as typed values, each remembering the line it came from so later
/// checks (and, later, runtime failures) can point at it. Validated cross-references become a
/// `RoutingTable` in `LoadedConfig`.
struct GatewayConfig {
    var workers: Located<Int>?
    var endpoints: [EndpointConfig] = []
    var pools: [PoolConfig] = []
    var rules: [RuleConfig] = []
    var cache: Located<CacheConfig>?
    var isolation: Located<IsolationPolicy>?
    var control: Located<ControlConfig>?
    var queryLog: Located<QueryLogConfig>?
    var tcp = TCPConfig()
    /// Where `run` serves status for `dnsbridge status`, `cache flush` and `explain`, locally.
    var statusSocket = GatewayConfig.defaultStatusSocket
    static let defaultStatusSocket = "/run/dnsbridge/status.sock"
}

/// Client TCP limits (RFC 7766 §6.2): close idle connections, cap how many are open.
struct TCPConfig {
    var idleTimeout = ConfigDuration(milliseconds: 10_000)
    /// Across all workers.
    var maxConnections = 1000
}

/// A value and the line that set it.
struct Located<T> {
    var value: T
    var line: Int
}

struct EndpointConfig {
    var line: Int
    var name: String
    var direction: Direction
    var addresses: [Located<SocketAddress>]
    var protocols: [Transport]
    var allow: [CIDR]
    var sourceAddresses: [IPAddress]
    var systemPool: Located<String>

    /// When `allow` is omitted: loopback and the private ranges, as dnsdist's default ACL —
    /// never the whole Internet.
    static let defaultAllow: [String] = [
        "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
        "::1/128", "fc00::/7", "fe80::/10",
    ]
}

struct TargetConfig {
    var line: Int
    var spec: TargetSpec
}

struct PoolConfig {
    var line: Int
    var name: String
    var policy: PoolPolicy
    var targets: [TargetConfig]
    var healthCheck: Located<HealthCheckSpec>?
    var retry: RetrySpec
}

enum RuleActionName: String, CaseIterable {
    case forward, system
}

struct RuleConfig {
    var line: Int
    var name: String
    var domain: DNSName
    var action: RuleActionName
    var pool: Located<String>?
    var endpoints: [Located<String>]?
}

struct CacheConfig {
    var maxEntries: Int = 100_000
    var maxTTL = ConfigDuration(milliseconds: 86_400_000)
    var minTTL = ConfigDuration(milliseconds: 0)
    var negativeMaxTTL = ConfigDuration(milliseconds: 900_000)
    var servfailTTL = ConfigDuration(milliseconds: 5_000)
    var prefetch = true
    /// 0: never serve stale.
    var serveStale = ConfigDuration(milliseconds: 0)
}

struct ControlConfig {
    var listen = SocketAddress(ip: .v4(0x7F00_0001), port: 8053)
    var tokensFile: String?
    var auditLog: String?
}

struct QueryLogConfig {
    var path: String
    /// Fraction of queries logged, in (0, 1].
    var sample: Double = 1.0
}
