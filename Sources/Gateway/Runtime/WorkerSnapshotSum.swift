import Forwarder

extension WorkerSnapshot {
    /// All workers' snapshots added up: counters summed, target views merged by key.
    static func sum(_ snapshots: [WorkerSnapshot]) -> WorkerSnapshot {
        var total = WorkerSnapshot()
        for s in snapshots {
            total.counters.add(s.counters)
            total.exchange.add(s.exchange)
            for (key, stats) in s.targets { total.targets[key, default: TargetStats()].add(stats) }
            total.cache.hits += s.cache.hits; total.cache.misses += s.cache.misses; total.cache.inserts += s.cache.inserts
            total.cache.evictions += s.cache.evictions; total.cache.prefetches += s.cache.prefetches
            total.cache.staleServed += s.cache.staleServed
            total.cacheEntries += s.cacheEntries
            if total.endpoints.count < s.endpoints.count {
                total.endpoints += [EndpointCounters](repeating: EndpointCounters(), count: s.endpoints.count - total.endpoints.count)
            }
            for (i, e) in s.endpoints.enumerated() { total.endpoints[i].add(e) }
            for (name, n) in s.rules { total.rules[name, default: 0] += n }
        }
        return total
    }
}

extension WorkerSnapshot {
    /// Every endpoint's counts added up: the gateway's query totals.
    var queries: EndpointCounters {
        endpoints.reduce(into: EndpointCounters()) { $0.add($1) }
    }
}

extension WorkerCounters {
    mutating func add(_ o: WorkerCounters) {
        tcpAccepted += o.tcpAccepted
        tcpRejectedAtLimit += o.tcpRejectedAtLimit; tcpIdleClosed += o.tcpIdleClosed; udpSendErrors += o.udpSendErrors
    }
}

extension ExchangeCounters {
    mutating func add(_ o: ExchangeCounters) {
        upstreamQueries += o.upstreamQueries; answers += o.answers; timeouts += o.timeouts
        networkErrors += o.networkErrors; tcpRetries += o.tcpRetries; retries += o.retries
        spoofedOrLate += o.spoofedOrLate; malformedAnswers += o.malformedAnswers; servfails += o.servfails
        allDownTries += o.allDownTries; deduplicated += o.deduplicated; overCapacity += o.overCapacity
    }
}
