extension GatewayConfiguration {
    /// `[pipeline]`: the decode-and-commit pipeline: batching, commit retries, native acks and deduplication.
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct Pipeline: Sendable, Equatable {
        var maxBatchFrames = 2000
        var gatherMilliseconds = 2
        var retryMinMilliseconds = 200
        var retryMaxMilliseconds = 10_000
        var ackNative = true
        var dedupeHorizonDays = 7
    }
}

extension GatewayConfiguration.Pipeline {
    /// The `[pipeline]` settings, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "pipeline",
            key: "max_batch_frames",
            kind: .integer(\.pipeline.maxBatchFrames, range: 1...100_000),
            help: "Most frames per database transaction."
        ),
        Setting(
            section: "pipeline",
            key: "gather_ms",
            kind: .integer(\.pipeline.gatherMilliseconds, range: 0...50),
            help:
                "How long a batch that is not full waits for more received frames before its database transaction, "
                + "so several spool commits share one transaction; 0 commits whatever the spool holds at once. Adds "
                + "at most this to a frame's time to storage; a full batch never waits, and a batch holding an alarm "
                + "stops gathering at the alarm (its alarm frames are committed first, in a transaction of their own)."
        ),
        Setting(
            section: "pipeline",
            key: "retry_min_ms",
            kind: .integer(\.pipeline.retryMinMilliseconds, range: 10...600_000),
            help: "First delay before retrying a failed database commit."
        ),
        Setting(
            section: "pipeline",
            key: "retry_max_ms",
            kind: .integer(\.pipeline.retryMaxMilliseconds, range: 10...3_600_000),
            help: "Longest delay between commit retries."
        ),
        Setting(
            section: "pipeline",
            key: "ack_native",
            kind: .boolean(\.pipeline.ackNative),
            help: "Send the native protocol's application ack (with server time) to the meter after each commit."
        ),
        Setting(
            section: "pipeline",
            key: "dedupe_horizon_days",
            kind: .integer(\.pipeline.dedupeHorizonDays, range: 1...3650),
            help:
                "How long a stored frame's identity is kept to recognise a redelivery (spool replay, broker "
                + "redelivery, retained message, meter retry) as a duplicate. Frames without a counter or meter clock "
                + "are known only by it."
        ),
    ]
}
