import Synchronization

/// What the health monitor publishes about one target of one pool, read by every worker without
/// a lock: relaxed atomic loads of a state that changes a few times a day.
public final class TargetStatus: Sendable {
    /// `pool/address`, stable across reloads so state survives them.
    public let key: String
    private let stateRaw = Atomic<UInt8>(HealthState.up.rawValue)
    private let lastSuccess = Atomic<UInt64>(0)
    private let probeWanted = Atomic<Bool>(false)
    private let probeRTT = Atomic<UInt64>(0)
    private let failures = Atomic<Int>(0)
    private let drainedFlag = Atomic<Bool>(false)

    init(key: String) { self.key = key }

    /// Taken out of service by hand (control API): no query is sent to it, whatever its health,
    /// while probes go on. Kept across reloads with the rest of the status.
    public var drained: Bool { drainedFlag.load(ordering: .relaxed) }
    public func setDrained(_ on: Bool) { drainedFlag.store(on, ordering: .relaxed) }

    public var state: HealthState { HealthState(rawValue: stateRaw.load(ordering: .relaxed)) ?? .up }
    /// Monotonic nanoseconds of the last good probe, 0 if never.
    public var lastSuccessNanos: UInt64 { lastSuccess.load(ordering: .relaxed) }
    public var lastProbeRTTNanos: UInt64 { probeRTT.load(ordering: .relaxed) }
    public var consecutiveProbeFailures: Int { failures.load(ordering: .relaxed) }

    func publish(_ h: TargetHealth, rtt: UInt64?) {
        stateRaw.store(h.state.rawValue, ordering: .relaxed)
        lastSuccess.store(h.lastSuccess, ordering: .relaxed)
        failures.store(h.consecutiveFailures, ordering: .relaxed)
        if let rtt { probeRTT.store(rtt, ordering: .relaxed) }
    }

    /// A worker saw a run of failures: ask the monitor for a probe now.
    func requestProbe() { probeWanted.store(true, ordering: .relaxed) }
    func takeProbeRequest() -> Bool { probeWanted.exchange(false, ordering: .relaxed) }
}

/// The statuses of one routing snapshot, `statuses[pool][target]`, and how to reach the monitor.
public final class HealthBoard: Sendable {
    public let statuses: [[TargetStatus]]
    let wake: @Sendable () -> Void

    init(statuses: [[TargetStatus]], wake: @escaping @Sendable () -> Void) {
        self.statuses = statuses
        self.wake = wake
    }

    /// A board with every target up and nobody to tell: for tables used without a monitor.
    public static func allUp(_ table: RoutingTable) -> HealthBoard {
        HealthBoard(statuses: table.pools.map { p in p.targets.map { TargetStatus(key: "\(p.name)/\($0.address)") } },
                    wake: {})
    }

    func requestProbe(pool: Int, target: Int) {
        statuses[pool][target].requestProbe()
        wake()
    }
}
