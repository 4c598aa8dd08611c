import DNSWire
import EventIO
import Forwarder
import Synchronization

/// What the status socket and the control listener read of the running gateway: the workers'
/// published snapshots, summed on request, and the configuration in force. Never touched by a
/// data-path thread except through the workers' own once-a-second publication.
final class GatewayView: @unchecked Sendable {
    struct State: Sendable {
        var path: String
        var routing: RoutingTable
        var board: HealthBoard
        var generation: Int
        var loadedUnix: Int
        var reloadsRejected = 0
        /// Whether the configuration in force has `isolation.enabled`.
        var isolationEnabled = false
    }

    let workers: [Worker]
    let state: Mutex<State>
    let started = monotonicNanos()
    /// Set once at start, before the control listener opens, when `query_log:` is configured.
    var queryLog: QueryLogWriter?

    init(state: State, workers: [Worker]) {
        self.state = Mutex(state)
        self.workers = workers
    }

    /// Drops cached answers in every worker (all, or at and below `name`) and waits for them.
    func flush(_ name: DNSName?) -> FlushReport {
        let ticket = FlushTicket()
        for w in workers { w.post(.flushCache(name, ticket)) }
        return FlushReport(name: name?.description, dropped: ticket.wait(workers: workers.count))
    }

    /// The status of `address` in pool `pool` of the configuration in force.
    func targetStatus(pool: String, address: String) -> TargetStatus? {
        let s = state.withLock { $0 }
        guard let p = s.routing.pools.firstIndex(where: { $0.name == pool }),
              let t = s.routing.pools[p].targets.firstIndex(where: { $0.address.description == address }) else { return nil }
        return s.board.statuses[p][t]
    }

    func report() -> StatusReport {
        let s = state.withLock { $0 }
        let total = WorkerSnapshot.sum(workers.map { w in w.published.withLock { $0 } })
        let now = monotonicNanos()
        let table = s.routing
        let pools = table.pools.enumerated().map { (p, pool) in
            StatusReport.Pool(name: pool.name, policy: pool.policy.rawValue, targets: pool.targets.enumerated().map { (t, target) in
                let status = s.board.statuses[p][t]
                let stats = total.targets[status.key] ?? TargetStats()
                let rtt = status.lastProbeRTTNanos
                let last = status.lastSuccessNanos
                var outcomes: [String: UInt64] = [:]
                for o in AttemptOutcome.allCases { outcomes[o.description] = stats.outcomes[o.rawValue] }
                return StatusReport.Target(
                    address: target.address.description, transport: target.transport.rawValue, priority: target.priority,
                    weight: target.weight, state: status.state.description, drained: status.drained,
                    consecutive_probe_failures: status.consecutiveProbeFailures,
                    probe_rtt_ms: rtt == 0 ? nil : Double(rtt) / 1e6,
                    last_healthy_seconds_ago: last == 0 ? nil : Double(now - last) / 1e9,
                    srtt_ms: stats.srttNanos == 0 ? nil : Double(stats.srttNanos) / 1e6,
                    outstanding: stats.outstanding, outcomes: outcomes,
                    latency_buckets: stats.latency.reduce(into: [UInt64]()) { $0.append(($0.last ?? 0) + $1) },
                    latency_sum_seconds: Double(stats.latencySumNanos) / 1e9)
            })
        }
        let c = total.queries, x = total.exchange
        let counters: [String: UInt64] = [
            "udp_queries": c.udpQueries, "tcp_queries": c.tcpQueries, "refused": c.refused, "formerr": c.formerr,
            "notimp": c.notimp, "dropped": c.dropped, "upstream_queries": x.upstreamQueries, "answers": x.answers,
            "timeouts": x.timeouts, "network_errors": x.networkErrors, "retries": x.retries, "tcp_retries": x.tcpRetries,
            "spoofed_or_late": x.spoofedOrLate, "malformed_answers": x.malformedAnswers, "servfail": x.servfails,
            "all_down_tries": x.allDownTries, "deduplicated": x.deduplicated, "over_capacity": x.overCapacity,
            "cache_hits": total.cache.hits, "cache_misses": total.cache.misses, "cache_inserts": total.cache.inserts,
            "cache_evictions": total.cache.evictions, "cache_prefetches": total.cache.prefetches,
            "cache_stale_served": total.cache.staleServed, "cache_entries": UInt64(total.cacheEntries),
        ]
        return StatusReport(
            version: VersionCommand.version, config_path: s.path, config_generation: s.generation,
            config_loaded_unix: s.loadedUnix, uptime_seconds: Double(now - started) / 1e9, workers: workers.count,
            endpoints: table.endpoints.enumerated().map { (i, e) in
                .init(name: e.name, direction: e.direction.rawValue, addresses: e.addresses.map(\.description),
                      counters: i < total.endpoints.count ? total.endpoints[i].dictionary : nil)
            },
            pools: pools, counters: counters, rule_hits: total.rules)
    }

}

extension EndpointCounters {
    var dictionary: [String: UInt64] {
        var d: [String: UInt64] = ["udp_queries": udpQueries, "tcp_queries": tcpQueries, "refused": refused,
                                   "formerr": formerr, "notimp": notimp, "dropped": dropped, "truncated": truncated]
        for (code, n) in rcodes.enumerated() where n > 0 { d["rcode_\(RCode(rawValue: UInt16(code)).description)"] = n }
        for c in QueryTypeClass.allCases where qtypes[c.rawValue] > 0 { d["qtype_\(c.label)"] = qtypes[c.rawValue] }
        return d
    }
}
