extension GatewayConfiguration {
    /// `[spool]`: the durable spool every received frame is written to before the broker is acknowledged.
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct Spool: Sendable, Equatable {
        var directory = "/var/lib/meter-gateway/spool"
        var segmentMegabytes = 64
        var fsyncIntervalMilliseconds = 200
        var maxBacklogMegabytes = 256
    }
}

extension GatewayConfiguration.Spool {
    /// The `[spool]` settings, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "spool",
            key: "directory",
            kind: .string(\.spool.directory, isSecret: false, allowed: nil),
            help:
                "Folder of the durable spool (local disk). Every received frame is written here before it is acknowledged to the broker."
        ),
        Setting(
            section: "spool",
            key: "segment_mb",
            kind: .integer(\.spool.segmentMegabytes, range: 1...4096),
            help: "Spool segment size."
        ),
        Setting(
            section: "spool",
            key: "fsync_interval_ms",
            kind: .integer(\.spool.fsyncIntervalMilliseconds, range: 0...60_000),
            help:
                "Retired, has no effect (accepted so older files load): every received frame is now fdatasynced, in groups, before its PUBACK, so neither a process crash nor an OS crash or power cut loses an acknowledged frame."
        ),
        Setting(
            section: "spool",
            key: "max_backlog_mb",
            kind: .integer(\.spool.maxBacklogMegabytes, range: 1...1_048_576),
            help: "Received-but-uncommitted bytes at which the gateway stops reading from the broker (backpressure)."
        ),
    ]
}
