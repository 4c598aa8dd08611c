import Addressing
import Forwarder
#if canImport(Glibc)
import Glibc
#endif

/// `dnsbridge run [--config PATH]`: the gateway in the foreground.
enum RunCommand {
    static let help = """
    usage: dnsbridge run [--config PATH]

    Run the gateway in the foreground: one worker thread per core (or `workers:`), each
    listening on every endpoint address over UDP and TCP, forwarding by rule to pools.
    Logs go to stderr. Under systemd (Type=notify) readiness is reported with sd_notify.

    signals:
      SIGHUP    re-read the configuration and swap the routing snapshot atomically; a bad
                configuration is rejected with its errors logged and the old one kept
      SIGTERM   stop accepting, answer what is in flight, exit 0 (SIGINT does the same)

    options:
      --config PATH   the configuration (default \(ConfigLoader.defaultPath))

    With isolation.enabled, the nftables table (see `dnsbridge isolation`) is applied at start
    and on every reload, and removed at exit only with isolation.remove_on_exit.

    exit status: 0 after SIGTERM, 1 bad configuration, isolation the kernel refused, or a
    listener that cannot be opened
    """

    static func run(_ words: [String]) throws(Arguments.UsageError) -> Int32 {
        let args = try Arguments(words, valued: ["config"], switches: [])
        if args.flags.contains("help") { Output.out(help); return 0 }
        guard args.positional.isEmpty else { throw Arguments.UsageError(description: "run takes no arguments besides options") }
        let path = args.values["config"] ?? ConfigLoader.defaultPath
        guard let loaded = ConfigLoader.loadOrReport(path: path) else { return 1 }
        for w in loaded.warnings { Output.err(w.formatted(path: path)) }
        let settings = runtimeSettings(loaded.config)
        // A tokens file that cannot be trusted stops the start before anything listens.
        var tokens: Tokens?
        if let path = loaded.config.control?.value.tokensFile {
            do { tokens = try Tokens.load(path: path) } catch {
                Log.error(error.description)
                return 1
            }
        }
        guard Isolation.apply(loaded.config, wasEnabled: false) else { return 1 }

        Signals.blockHandled()
        let monitor: HealthMonitor
        do {
            monitor = try HealthMonitor(log: { Log.info($0) })
        } catch {
            Log.error("cannot start health checks: \(error)")
            return 1
        }
        let board = monitor.board(for: loaded.routing)
        var workers: [Worker] = []
        do {
            for i in 0..<settings.workers {
                let w = try Worker(index: i, table: loaded.routing, board: board, settings: settings)
                try w.openListeners()
                workers.append(w)
            }
        } catch let error as ListenError {
            Log.error(error.description)
            return 1
        } catch {
            Log.error("cannot start: \(error)")
            return 1
        }
        let view = GatewayView(state: .init(path: path, routing: loaded.routing, board: board, generation: 1,
                                            loadedUnix: Int(time(nil)),
                                            isolationEnabled: loaded.config.isolation?.value.enabled ?? false),
                               workers: workers)
        var queryLog: QueryLogWriter?
        if let config = loaded.config.queryLog?.value {
            do {
                queryLog = try QueryLog.attach(config, to: workers, view: view)
                view.queryLog = queryLog
            } catch {
                Log.error(error.description)
                return 1
            }
        }
        let queryLogThread = queryLog.map(WorkerThreads.start)
        let monitorThread = WorkerThreads.start(monitor)
        let threads = workers.map(WorkerThreads.start)
        var control: ControlServer?
        if let config = loaded.config.control?.value {
            do {
                control = try ControlServer.start(config, tokens: tokens, view: view)
                Log.info("control listener on \(config.listen)\(config.tokensFile == nil ? " (no tokens_file: read-only)" : "")")
            } catch {
                Log.error(error.description)
                return 1
            }
        }
        let status: StatusServer?
        switch StatusServer.open(path: loaded.config.statusSocket, view: view) {
        case .success(let server):
            status = server
            _ = WorkerThreads.start(server)
        case .failure(let error):
            status = nil
            Log.warning("status socket unavailable (\(error)); `dnsbridge status` will not reach this gateway")
        }
        logStart(loaded, settings: settings)
        Notify.ready()

        var current = loaded
        var nextVerify = Isolation.nextVerify(current.config)
        while true {
            guard let signal = Isolation.waitForSignal(until: nextVerify) else {
                Isolation.repairDrift(current.config)
                nextVerify = Isolation.nextVerify(current.config)
                continue
            }
            switch signal {
            case SIGUSR1:
                queryLog?.reopen()
            case SIGHUP:
                Notify.reloading()
                let next = reload(current, path: path, workers: workers, monitor: monitor)
                if let (loaded, board) = next {
                    current = loaded
                    view.state.withLock {
                        $0.routing = loaded.routing
                        $0.board = board
                        $0.generation += 1
                        $0.loadedUnix = Int(time(nil))
                        $0.isolationEnabled = loaded.config.isolation?.value.enabled ?? false
                    }
                } else {
                    view.state.withLock { $0.reloadsRejected += 1 }
                }
                nextVerify = Isolation.nextVerify(current.config)
                Notify.ready()
            case SIGTERM, SIGINT:
                Log.info("stopping: answering queries in flight")
                Notify.stopping()
                for w in workers { w.post(.drain) }
                for t in threads { WorkerThreads.join(t) }
                monitor.stop()
                WorkerThreads.join(monitorThread)
                status?.stop()
                control?.stop()
                queryLog?.stop()
                if let queryLogThread { WorkerThreads.join(queryLogThread) }
                Isolation.atExit(current.config)
                logCounters(workers)
                Log.info("stopped")
                return 0
            default:
                break
            }
        }
    }

    static func runtimeSettings(_ c: GatewayConfig) -> RuntimeSettings {
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let workers = c.workers?.value ?? max(1, cores)
        let cache = c.cache.map { located -> CacheSettings in
            let v = located.value
            func seconds(_ d: ConfigDuration) -> UInt32 { UInt32(clamping: d.milliseconds / 1000) }
            return CacheSettings(maxEntries: max(1, v.maxEntries / workers), maxTTL: seconds(v.maxTTL), minTTL: seconds(v.minTTL),
                                 negativeMaxTTL: seconds(v.negativeMaxTTL), servfailTTL: seconds(v.servfailTTL),
                                 prefetch: v.prefetch, serveStale: seconds(v.serveStale))
        }
        return RuntimeSettings(workers: workers,
                               tcpIdleTimeoutNanos: UInt64(c.tcp.idleTimeout.milliseconds) * 1_000_000,
                               tcpMaxConnections: c.tcp.maxConnections, cache: cache)
    }

    /// Loads the file again; installs it in every worker only when it is valid and needs no new
    /// sockets. Returns the new configuration and its health board, or nil when the old stays.
    static func reload(_ current: LoadedConfig, path: String, workers: [Worker],
                       monitor: HealthMonitor) -> (LoadedConfig, HealthBoard)? {
        switch ConfigLoader.load(path: path) {
        case .failure(let error):
            Log.error("reload rejected; the previous configuration stays in force:")
            for line in error.lines { Output.err(line) }
            return nil
        case .success(let next):
            let before = current.routing.endpoints.map { "\($0.name)=\($0.addresses)" }
            let after = next.routing.endpoints.map { "\($0.name)=\($0.addresses)" }
            guard before == after else {
                Log.error("reload rejected: endpoints or their addresses changed, which needs new sockets; restart dnsbridge to apply. The previous configuration stays in force.")
                return nil
            }
            if runtimeSettings(next.config).workers != workers.count {
                Log.warning("reload: a new worker count takes effect at the next restart")
            }
            if runtimeSettings(next.config).cache != runtimeSettings(current.config).cache {
                Log.warning("reload: cache settings take effect at the next restart")
            }
            for w in next.warnings { Output.err(w.formatted(path: path)) }
            guard Isolation.apply(next.config, wasEnabled: current.config.isolation?.value.enabled ?? false) else {
                Log.error("reload rejected: isolation could not be applied; the previous configuration and table stay in force")
                return nil
            }
            let board = monitor.board(for: next.routing)
            for w in workers { w.post(.install(next.routing, board)) }
            Log.info("reloaded \(path): \(next.routing.endpoints.count) endpoints, \(next.routing.pools.count) pools, \(next.routing.rules.count) rules")
            return (next, board)
        }
    }

    static func logStart(_ loaded: LoadedConfig, settings: RuntimeSettings) {
        let table = loaded.routing
        Log.info("dnsbridge \(VersionCommand.version) serving with \(settings.workers) workers, \(table.rules.count) rules")
        for e in table.endpoints {
            let addresses = e.addresses.map(\.description).joined(separator: ", ")
            Log.info("endpoint \(e.name) (\(e.direction.rawValue)) on \(addresses) udp+tcp, allow \(e.allow.count) prefixes, system pool \(table.pools[e.systemPool].name)")
        }
        for p in table.pools {
            let targets = p.targets.map { "\($0.address) \($0.transport.rawValue)" }.joined(separator: ", ")
            Log.info("pool \(p.name) (\(p.policy.rawValue)): \(targets)")
        }
    }

    static func logCounters(_ workers: [Worker]) {
        let total = WorkerSnapshot.sum(workers.map { w in w.published.withLock { $0 } })
        let w = total.counters, x = total.exchange, q = total.queries
        Log.info("counters: udp_queries=\(q.udpQueries) tcp_queries=\(q.tcpQueries) refused=\(q.refused) formerr=\(q.formerr) notimp=\(q.notimp) dropped=\(q.dropped) tcp_accepted=\(w.tcpAccepted) tcp_rejected_at_limit=\(w.tcpRejectedAtLimit) tcp_idle_closed=\(w.tcpIdleClosed) udp_send_errors=\(w.udpSendErrors)")
        Log.info("counters: upstream_queries=\(x.upstreamQueries) answers=\(x.answers) timeouts=\(x.timeouts) network_errors=\(x.networkErrors) tcp_retries=\(x.tcpRetries) spoofed_or_late=\(x.spoofedOrLate) malformed_answers=\(x.malformedAnswers) retries=\(x.retries) all_down_tries=\(x.allDownTries) servfail=\(x.servfails) deduplicated=\(x.deduplicated) over_capacity=\(x.overCapacity)")
    }
}
