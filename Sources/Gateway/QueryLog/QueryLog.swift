/// `query_log:` in `run`: a ring per worker and the writer thread that empties them.
enum QueryLog {
    static func attach(_ config: QueryLogConfig, to workers: [Worker], view: GatewayView) throws(QueryLogWriter.OpenError) -> QueryLogWriter {
        let rings = workers.map { _ in QueryLogRing() }
        let writer = try QueryLogWriter(path: config.path, rings: rings, view: view)
        let threshold = config.sample >= 1 ? UInt64.max : UInt64(config.sample * 18_446_744_073_709_551_615.0)
        for (worker, ring) in zip(workers, rings) {
            worker.queryLog = ring
            worker.sampleThreshold = threshold
        }
        Log.info("query log: \(config.path)" + (config.sample < 1 ? ", sampling \(config.sample)" : ""))
        return writer
    }
}
