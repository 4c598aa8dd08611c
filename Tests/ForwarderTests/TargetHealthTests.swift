import Forwarder
import Testing

@Suite("target health")
struct TargetHealthTests {
    let policy = HealthPolicy(intervalNanos: 1_000, timeoutNanos: 500, fall: 2, rise: 3)

    /// Feeds probe results at the given times; returns the state change each one caused.
    func probes(_ h: inout TargetHealth, _ results: [(Bool, UInt64)]) -> [HealthState?] {
        results.map { h.probed(healthy: $0.0, now: $0.1, policy: policy) }
    }

    @Test func fallThenRise() {
        var h = TargetHealth(now: 0)
        #expect(h.state == .up)
        // One failure is not enough; the second takes it down.
        #expect(probes(&h, [(false, 10), (false, 20)]) == [nil, .down])
        #expect(h.nextProbe == 1_020)
        // A failure in the middle resets the rise count.
        #expect(probes(&h, [(true, 30), (true, 40), (false, 50)]) == [nil, nil, nil])
        #expect(h.state == .down)
        #expect(probes(&h, [(true, 60), (true, 70), (true, 80)]) == [nil, nil, .up])
        #expect(h.lastSuccess == 80)
    }

    @Test func trafficFailuresMakeSuspectAndProbeAtOnce() {
        var h = TargetHealth(now: 0)
        _ = probes(&h, [(true, 0)])
        #expect(h.nextProbe == 1_000)
        let first = h.trafficFailing(now: 300)
        #expect(first)
        #expect(h.state == .suspect && h.nextProbe == 300)
        let second = h.trafficFailing(now: 300)
        #expect(!second)  // already due: no second probe
        #expect(probes(&h, [(true, 310)]) == [.up])  // one good probe clears suspicion
    }

    @Test func suspectGoesDownAfterFallBadProbes() {
        var h = TargetHealth(now: 0)
        h.trafficFailing(now: 5)
        #expect(probes(&h, [(false, 6), (false, 7)]) == [nil, .down])
        let again = h.trafficFailing(now: 8)
        #expect(!again)  // a down target stays down until it rises
        #expect(h.state == .down)
    }

    @Test func healthyRCodes() {
        #expect(policy.isHealthy(rcode: 0) && policy.isHealthy(rcode: 3))
        #expect(!policy.isHealthy(rcode: 2) && !policy.isHealthy(rcode: 5))
        let strict = HealthPolicy(healthyRCodes: 1)
        #expect(!strict.isHealthy(rcode: 3))
    }
}
