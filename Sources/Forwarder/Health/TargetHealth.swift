/// A target's health as the gateway sees it.
public enum HealthState: UInt8, Sendable, CustomStringConvertible {
    /// In service.
    case up = 0
    /// Real traffic saw a run of failures: avoided while any target is up, probed at once.
    case suspect = 1
    /// `fall` probes in a row failed: used only when nothing better is left.
    case down = 2

    public var description: String {
        switch self {
        case .up: return "up"
        case .suspect: return "suspect"
        case .down: return "down"
        }
    }
}

/// The health rules of one pool.
public struct HealthPolicy: Sendable, Equatable {
    public var intervalNanos: UInt64
    public var timeoutNanos: UInt64
    /// Consecutive failed probes that take a target down.
    public var fall: Int
    /// Consecutive good probes that bring it back.
    public var rise: Int
    /// RCODEs that count as a healthy answer, as a bitmask over RCODE values 0-15.
    public var healthyRCodes: UInt16

    /// NOERROR and NXDOMAIN: a server that says a name does not exist is working.
    public static let defaultHealthyRCodes: UInt16 = 1 << 0 | 1 << 3

    public init(intervalNanos: UInt64 = 1_000_000_000, timeoutNanos: UInt64 = 500_000_000, fall: Int = 2, rise: Int = 2,
                healthyRCodes: UInt16 = HealthPolicy.defaultHealthyRCodes) {
        self.intervalNanos = intervalNanos; self.timeoutNanos = timeoutNanos
        self.fall = fall; self.rise = rise; self.healthyRCodes = healthyRCodes
    }

    public func isHealthy(rcode: UInt8) -> Bool { rcode < 16 && healthyRCodes & (1 << UInt16(rcode)) != 0 }
}

/// The per-target health state machine. It holds no sockets and reads no clock: each event
/// carries `now`, so every transition is tested without waiting.
///
///     up --(run of failures in traffic)--> suspect --(fall bad probes)--> down
///     up/suspect --(fall bad probes)--> down --(rise good probes)--> up
///     suspect --(a good probe)--> up
public struct TargetHealth: Sendable, Equatable {
    public private(set) var state: HealthState = .up
    public private(set) var consecutiveFailures = 0
    public private(set) var consecutiveSuccesses = 0
    /// When a probe or real answer last succeeded; orders targets when all are down.
    public private(set) var lastSuccess: UInt64 = 0
    /// When the next probe is due.
    public private(set) var nextProbe: UInt64

    public init(now: UInt64) { nextProbe = now }

    /// A probe finished. Returns the new state when it changed.
    @discardableResult
    public mutating func probed(healthy: Bool, now: UInt64, policy: HealthPolicy) -> HealthState? {
        let before = state
        nextProbe = now + policy.intervalNanos
        if healthy {
            consecutiveSuccesses += 1
            consecutiveFailures = 0
            lastSuccess = now
            switch state {
            case .suspect: state = .up
            case .down where consecutiveSuccesses >= policy.rise: state = .up
            default: break
            }
        } else {
            consecutiveFailures += 1
            consecutiveSuccesses = 0
            if state != .down, consecutiveFailures >= policy.fall { state = .down }
        }
        return state == before ? nil : state
    }

    /// Real traffic saw a run of failures: an up target becomes suspect and is probed now.
    /// Returns true when a probe should start at once.
    @discardableResult
    public mutating func trafficFailing(now: UInt64) -> Bool {
        guard state == .up else { return state == .suspect && nextProbe > now }
        state = .suspect
        nextProbe = now
        return true
    }

    /// Real traffic got a good answer: counts as evidence of life for ordering when all are down.
    public mutating func trafficAnswered(now: UInt64) {
        lastSuccess = now
    }
}
