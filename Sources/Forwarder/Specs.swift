import Addressing
import DNSWire

/// Which side an endpoint faces (PRODUCT.md "endpoint").
public enum Direction: String, Sendable, CaseIterable {
    /// Faces on-premises clients, resolves cloud names.
    case inbound
    /// Faces the VPC, forwards on-premises zones out.
    case outbound
}

/// A protocol a listener or a target speaks.
public enum Transport: String, Sendable, CaseIterable {
    /// Plain DNS over UDP and TCP, port 53.
    case do53
    /// DNS over TLS (RFC 7858), port 853.
    case dot
    /// DNS over HTTPS (RFC 8484), port 443.
    case doh

    public var defaultPort: UInt16 {
        switch self {
        case .do53: return 53
        case .dot: return 853
        case .doh: return 443
        }
    }
}

/// How a pool picks a target.
public enum PoolPolicy: String, Sendable, CaseIterable {
    case firstAvailable = "first-available"
    case roundRobin = "round-robin"
    case random
    case fastest
    case leastOutstanding = "least-outstanding"
}

public struct EndpointSpec: Sendable {
    public var name: String
    public var direction: Direction
    public var addresses: [SocketAddress]
    public var protocols: [Transport]
    public var allow: [CIDR]
    public var sourceAddresses: [IPAddress]
    /// Index into `RoutingTable.pools`.
    public var systemPool: Int

    public init(name: String, direction: Direction, addresses: [SocketAddress], protocols: [Transport],
                allow: [CIDR], sourceAddresses: [IPAddress], systemPool: Int) {
        self.name = name; self.direction = direction; self.addresses = addresses; self.protocols = protocols
        self.allow = allow; self.sourceAddresses = sourceAddresses; self.systemPool = systemPool
    }

    /// The in-process access check: the source must lie in one of the `allow` prefixes.
    public func allows(_ source: IPAddress) -> Bool {
        for prefix in allow where prefix.contains(source) { return true }
        return false
    }
}

public struct TargetSpec: Sendable {
    public var address: SocketAddress
    public var transport: Transport
    public var tlsName: String?
    public var weight: Int
    /// Lower tiers are used only when every target of the tiers above is down.
    public var priority: Int

    public init(address: SocketAddress, transport: Transport = .do53, tlsName: String? = nil,
                weight: Int = 1, priority: Int = 0) {
        self.address = address; self.transport = transport; self.tlsName = tlsName
        self.weight = weight; self.priority = priority
    }
}

public struct HealthCheckSpec: Sendable {
    public var intervalMilliseconds: Int64
    public var timeoutMilliseconds: Int64
    /// The probe question; nil until the configuration layer fills in the default (the pool's
    /// first rule domain with SOA, or `. SOA` for a pool no rule forwards to).
    public var query: Question?
    public var fall: Int
    public var rise: Int
    /// RCODEs (0-15) that count as healthy, as a bitmask; default NOERROR and NXDOMAIN.
    public var healthyRCodes: UInt16

    public init(intervalMilliseconds: Int64 = 1000, timeoutMilliseconds: Int64 = 500,
                query: Question? = nil, fall: Int = 2, rise: Int = 2,
                healthyRCodes: UInt16 = HealthPolicy.defaultHealthyRCodes) {
        self.intervalMilliseconds = intervalMilliseconds; self.timeoutMilliseconds = timeoutMilliseconds
        self.query = query; self.fall = fall; self.rise = rise; self.healthyRCodes = healthyRCodes
    }
}

/// How a query is retried across a pool's targets.
public struct RetrySpec: Sendable, Equatable {
    /// Tries per query, the first included.
    public var tries: Int
    /// Time from the first try after which no new try starts.
    public var budgetMilliseconds: Int64
    /// Bounds of a try's timeout, which otherwise follows the target's measured RTT.
    public var minTryTimeoutMilliseconds: Int64
    public var maxTryTimeoutMilliseconds: Int64

    public init(tries: Int = 3, budgetMilliseconds: Int64 = 1500, minTryTimeoutMilliseconds: Int64 = 200,
                maxTryTimeoutMilliseconds: Int64 = 1000) {
        self.tries = tries; self.budgetMilliseconds = budgetMilliseconds
        self.minTryTimeoutMilliseconds = minTryTimeoutMilliseconds; self.maxTryTimeoutMilliseconds = maxTryTimeoutMilliseconds
    }
}

public struct PoolSpec: Sendable {
    public var name: String
    public var policy: PoolPolicy
    public var targets: [TargetSpec]
    public var healthCheck: HealthCheckSpec?
    public var retry: RetrySpec

    public init(name: String, policy: PoolPolicy = .firstAvailable, targets: [TargetSpec],
                healthCheck: HealthCheckSpec? = nil, retry: RetrySpec = RetrySpec()) {
        self.name = name; self.policy = policy; self.targets = targets; self.healthCheck = healthCheck
        self.retry = retry
    }

    /// Target indices grouped by priority tier, lowest (preferred) first, config order within.
    public var tiers: [[Int]] {
        Dictionary(grouping: targets.indices, by: { targets[$0].priority }).sorted { $0.key < $1.key }.map(\.value)
    }
}

/// What a rule does with a name it matches.
public enum RuleAction: Sendable, Equatable {
    /// Send to the pool at this index of `RoutingTable.pools`.
    case forward(pool: Int)
    /// Resolve through the receiving endpoint's system pool: carves a subdomain out of a
    /// broader forward rule.
    case system
}

public struct Rule: Sendable {
    public var name: String
    public var domain: DNSName
    public var action: RuleAction
    /// Indices into `RoutingTable.endpoints`; nil means every endpoint.
    public var endpoints: [Int]?

    public init(name: String, domain: DNSName, action: RuleAction, endpoints: [Int]?) {
        self.name = name; self.domain = domain; self.action = action; self.endpoints = endpoints
    }
}
