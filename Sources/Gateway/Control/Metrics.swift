import Forwarder
import NetIsolation

/// The Prometheus text exposition (format 0.0.4) of a status report: per-worker counters summed
/// on scrape, so counting costs the data path nothing beyond its own per-worker counters.
struct Metrics {
    private var out = ""

    static func render(_ r: StatusReport, reloads: (ok: Int, rejected: Int), isolation: [RuleCounter]?,
                       queryLog: (lines: UInt64, dropped: UInt64)?) -> String {
        var m = Metrics()
        m.family("dnsbridge_build_info", "gauge", "Always 1; the version as a label.", [(["version": r.version], 1)])
        m.family("dnsbridge_uptime_seconds", "gauge", "Seconds since the gateway started.", [([:], r.uptime_seconds)])
        m.family("dnsbridge_workers", "gauge", "Data-plane worker threads.", [([:], Double(r.workers))])
        m.family("dnsbridge_config_generation", "gauge", "Configurations loaded since start (1 at start).",
                 [([:], Double(r.config_generation))])
        m.family("dnsbridge_reloads_total", "counter", "Reloads, by result.",
                 [(["result": "ok"], Double(reloads.ok)), (["result": "rejected"], Double(reloads.rejected))])
        let c = r.counters
        func value(_ key: String) -> Double { Double(c[key] ?? 0) }
        m.family("dnsbridge_queries_total", "counter", "Client queries read, by transport.",
                 [(["transport": "udp"], value("udp_queries")), (["transport": "tcp"], value("tcp_queries"))])
        for (name, key, help) in Self.gatewayCounters {
            m.family(name, "counter", help, [([:], value(key))])
        }
        m.family("dnsbridge_cache_entries", "gauge", "Answers in the caches of all workers.", [([:], value("cache_entries"))])

        var perEndpoint: [String: [([String: String], Double)]] = [:]
        for e in r.endpoints {
            guard let c = e.counters else { continue }
            let labels = ["endpoint": e.name]
            func add(_ family: String, _ extra: [String: String], _ key: String) {
                perEndpoint[family, default: []].append((labels.merging(extra) { a, _ in a }, Double(c[key] ?? 0)))
            }
            add("queries", ["transport": "udp"], "udp_queries")
            add("queries", ["transport": "tcp"], "tcp_queries")
            for single in ["refused", "formerr", "notimp", "dropped", "truncated"] { add(single, [:], single) }
            for key in c.keys.sorted() {
                if key.hasPrefix("rcode_") { add("answers", ["rcode": String(key.dropFirst(6))], key) }
                if key.hasPrefix("qtype_") { add("qtypes", ["qtype": String(key.dropFirst(6))], key) }
            }
        }
        for (family, name, help) in Self.endpointFamilies {
            m.family(name, "counter", help, perEndpoint[family] ?? [])
        }
        m.family("dnsbridge_rule_hits_total", "counter", "Queries the rule matched.",
                 (r.rule_hits ?? [:]).sorted { $0.key < $1.key }.map { (["rule": $0.key], Double($0.value)) })

        var states: [([String: String], Double)] = [], srtt: [([String: String], Double)] = []
        var probe: [([String: String], Double)] = [], outstanding: [([String: String], Double)] = []
        var tries: [([String: String], Double)] = []
        for pool in r.pools {
            for t in pool.targets {
                let labels = ["pool": pool.name, "target": t.address]
                for state in ["up", "suspect", "down"] {
                    states.append((labels.merging(["state": state]) { a, _ in a }, t.state == state ? 1 : 0))
                }
                if let v = t.srtt_ms { srtt.append((labels, v / 1000)) }
                if let v = t.probe_rtt_ms { probe.append((labels, v / 1000)) }
                outstanding.append((labels, Double(t.outstanding)))
                for (outcome, n) in t.outcomes.sorted(by: { $0.key < $1.key }) {
                    tries.append((labels.merging(["outcome": outcome]) { a, _ in a }, Double(n)))
                }
            }
        }
        m.family("dnsbridge_target_state", "gauge", "1 for the target's health state (up, suspect, down), else 0.", states)
        m.family("dnsbridge_target_tries_total", "counter", "Tries sent to the target, by outcome.", tries)
        m.family("dnsbridge_target_srtt_seconds", "gauge", "Smoothed RTT of the target's answers (RFC 6298), the slowest worker's.", srtt)
        m.family("dnsbridge_target_probe_rtt_seconds", "gauge", "RTT of the target's last health probe.", probe)
        m.family("dnsbridge_target_outstanding", "gauge", "Tries in flight to the target.", outstanding)
        m.histogram(r.pools)
        if let queryLog {
            m.family("dnsbridge_query_log_lines_total", "counter", "Lines written to the query log.", [([:], Double(queryLog.lines))])
            m.family("dnsbridge_query_log_dropped_total", "counter", "Query-log records dropped because the writer fell behind.",
                     [([:], Double(queryLog.dropped))])
        }
        if let isolation {
            m.family("dnsbridge_isolation_packets_total", "counter", "Packets matched by each rule of table inet dnsbridge, by chain and comment.",
                     isolation.map { (["chain": $0.chain, "rule": $0.comment], Double($0.packets)) })
            m.family("dnsbridge_isolation_bytes_total", "counter", "Bytes matched by each rule of table inet dnsbridge.",
                     isolation.map { (["chain": $0.chain, "rule": $0.comment], Double($0.bytes)) })
        }
        return m.out
    }

    static let endpointFamilies: [(String, String, String)] = [
        ("queries", "dnsbridge_endpoint_queries_total", "Queries read by the endpoint, by transport."),
        ("answers", "dnsbridge_endpoint_answers_total", "Answers the endpoint sent, by RCODE."),
        ("qtypes", "dnsbridge_endpoint_query_types_total", "Well-formed queries by type (common types, the rest as other)."),
        ("refused", "dnsbridge_endpoint_refused_total", "Queries refused: source outside the endpoint's allow list."),
        ("formerr", "dnsbridge_endpoint_formerr_total", "Malformed queries answered FORMERR."),
        ("notimp", "dnsbridge_endpoint_notimp_total", "Queries with an opcode other than QUERY."),
        ("dropped", "dnsbridge_endpoint_dropped_total", "Datagrams dropped unanswered: no header, or a response."),
        ("truncated", "dnsbridge_endpoint_truncated_total", "UDP answers cut to the client's size with TC set."),
    ]

    /// `dnsbridge_target_latency_seconds`: upstream answer times, per target.
    private mutating func histogram(_ pools: [StatusReport.Pool]) {
        let name = "dnsbridge_target_latency_seconds"
        out += "# HELP \(name) Time from a try's send to its accepted answer.\n# TYPE \(name) histogram\n"
        let bounds = LatencyHistogram.bounds.map { Self.number(Double($0) / 1e9) } + ["+Inf"]
        for pool in pools {
            for t in pool.targets {
                guard let buckets = t.latency_buckets, buckets.count == bounds.count else { continue }
                let labels = "pool=\"\(Self.escape(pool.name))\",target=\"\(Self.escape(t.address))\""
                for (le, n) in zip(bounds, buckets) { out += "\(name)_bucket{\(labels),le=\"\(le)\"} \(n)\n" }
                out += "\(name)_sum{\(labels)} \(Self.number(t.latency_sum_seconds ?? 0))\n"
                out += "\(name)_count{\(labels)} \(buckets.last ?? 0)\n"
            }
        }
    }

    /// (metric, key in the report's counters, help), all counters without labels.
    static let gatewayCounters: [(String, String, String)] = [
        ("dnsbridge_refused_total", "refused", "Queries answered REFUSED: source outside the endpoint's allow list."),
        ("dnsbridge_formerr_total", "formerr", "Malformed queries answered FORMERR."),
        ("dnsbridge_notimp_total", "notimp", "Queries with an opcode other than QUERY, answered NOTIMP."),
        ("dnsbridge_dropped_total", "dropped", "Datagrams dropped unanswered: shorter than a header, or a response."),
        ("dnsbridge_upstream_queries_total", "upstream_queries", "Queries sent to targets, retries included."),
        ("dnsbridge_upstream_answers_total", "answers", "Answers accepted from targets."),
        ("dnsbridge_upstream_timeouts_total", "timeouts", "Tries that timed out."),
        ("dnsbridge_upstream_network_errors_total", "network_errors", "Tries that failed to send or were refused by ICMP."),
        ("dnsbridge_upstream_retries_total", "retries", "Queries moved to another target."),
        ("dnsbridge_upstream_tcp_retries_total", "tcp_retries", "Truncated answers asked again over TCP."),
        ("dnsbridge_upstream_spoofed_total", "spoofed_or_late", "Answers dropped: wrong ID or question, or too late."),
        ("dnsbridge_upstream_malformed_total", "malformed_answers", "Malformed answers from targets."),
        ("dnsbridge_servfail_total", "servfail", "Queries answered SERVFAIL after every try failed."),
        ("dnsbridge_all_down_tries_total", "all_down_tries", "Tries made while every target of the pool was down."),
        ("dnsbridge_deduplicated_total", "deduplicated", "Queries joined to an identical question already in flight."),
        ("dnsbridge_over_capacity_total", "over_capacity", "Queries refused for want of room in the in-flight table."),
        ("dnsbridge_cache_hits_total", "cache_hits", "Queries answered from the cache."),
        ("dnsbridge_cache_misses_total", "cache_misses", "Cacheable queries not found in the cache."),
        ("dnsbridge_cache_inserts_total", "cache_inserts", "Answers stored in the cache."),
        ("dnsbridge_cache_evictions_total", "cache_evictions", "Entries evicted to make room."),
        ("dnsbridge_cache_prefetches_total", "cache_prefetches", "Popular entries refreshed before they expired."),
        ("dnsbridge_cache_stale_served_total", "cache_stale_served", "Expired answers served because upstream failed (RFC 8767)."),
    ]

    private mutating func family(_ name: String, _ type: String, _ help: String, _ samples: [([String: String], Double)]) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for (labels, value) in samples {
            let text = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }.joined(separator: ",")
            out += labels.isEmpty ? name : "\(name){\(text)}"
            out += " \(Self.number(value))\n"
        }
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}
