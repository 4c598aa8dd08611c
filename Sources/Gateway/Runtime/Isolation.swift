import EventIO
import NetIsolation

/// What `run` does with `isolation:`: the table follows the configuration at start and at each
/// reload, and outlives the process unless `remove_on_exit` says otherwise — protection should
/// survive a crash.
enum Isolation {
    /// Applies the table when isolation is enabled, removes it when a reload disabled it.
    /// False, logged, when the kernel refused: the previous table (if any) stays in force.
    static func apply(_ config: GatewayConfig, wasEnabled: Bool) -> Bool {
        guard let policy = config.isolation?.value, policy.enabled else {
            if wasEnabled {
                if case .failure(let error) = NetlinkTable.flush() {
                    Log.error("isolation disabled, but its table could not be removed: \(error)")
                    return false
                }
                Log.info("isolation disabled: table inet dnsbridge removed")
            }
            return true
        }
        let ruleset = config.ruleset
        switch NetlinkTable.replace(with: ruleset) {
        case .success:
            let rules = ruleset.chains.reduce(0) { $0 + $1.rules.count }
            Log.info("isolation applied: table inet dnsbridge, \(ruleset.chains.count) chains, \(ruleset.sets.count) sets, \(rules) rules")
            return true
        case .failure(let error):
            Log.error("isolation could not be applied: \(error)")
            return false
        }
    }

    static func atExit(_ config: GatewayConfig) {
        guard let policy = config.isolation?.value, policy.enabled, policy.removeOnExit else { return }
        switch NetlinkTable.flush() {
        case .success: Log.info("isolation removed on exit (remove_on_exit)")
        case .failure(let error): Log.error("isolation could not be removed on exit: \(error)")
        }
    }

    /// When the next drift check is due (monotonic milliseconds), or nil when none is.
    static func nextVerify(_ config: GatewayConfig) -> Int? {
        guard let policy = config.isolation?.value, policy.enabled, policy.verifyIntervalMilliseconds > 0 else { return nil }
        return Int(monotonicNanos() / 1_000_000) + policy.verifyIntervalMilliseconds
    }

    /// The next signal, or nil when the drift check is due first.
    static func waitForSignal(until due: Int?) -> Int32? {
        guard let due else { return Signals.wait() }
        return Signals.wait(milliseconds: max(0, due - Int(monotonicNanos() / 1_000_000)))
    }

    /// Compares the live table with the plan; on drift, logs each difference and applies the plan
    /// again.
    static func repairDrift(_ config: GatewayConfig) {
        let ruleset = config.ruleset
        switch NetlinkTable.verify(against: ruleset) {
        case .failure(let error):
            Log.error("isolation drift check failed: \(error)")
        case .success(let drift) where drift.isEmpty:
            break
        case .success(let drift):
            for d in drift { Log.warning("isolation drift: \(d)") }
            switch NetlinkTable.replace(with: ruleset) {
            case .success: Log.info("isolation drift repaired: table inet dnsbridge applied again")
            case .failure(let error): Log.error("isolation drift could not be repaired: \(error)")
            }
        }
    }
}
