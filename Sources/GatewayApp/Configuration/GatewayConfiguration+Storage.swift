extension GatewayConfiguration {
    /// `[storage]`: the monthly partitions of `readings` and `interval_days` (migration v23), kept by
    /// `meter-gateway storage maintain`.
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct Storage: Sendable, Equatable {
        var partitionMonthsAhead = 3
        var readingsRetentionMonths = 0
        var intervalDaysRetentionMonths = 0
        var lockTimeoutSeconds = 10
    }
}

extension GatewayConfiguration.Storage {
    /// The `[storage]` settings, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "storage",
            key: "partition_months_ahead",
            kind: .integer(\.storage.partitionMonthsAhead, range: 1...120),
            help:
                "`meter-gateway storage maintain` makes sure this many months after the current one have partitions (readings, interval_days)."
        ),
        Setting(
            section: "storage",
            key: "readings_retention_months",
            kind: .integer(\.storage.readingsRetentionMonths, range: 0...1200),
            help:
                "Whole months of readings kept before the current month; older monthly partitions are dropped by `storage maintain`. 0 keeps everything."
        ),
        Setting(
            section: "storage",
            key: "interval_days_retention_months",
            kind: .integer(\.storage.intervalDaysRetentionMonths, range: 0...1200),
            help:
                "Whole months of interval logs (interval_days) kept before the current month; older monthly partitions are dropped by `storage maintain`. 0 keeps everything."
        ),
        Setting(
            section: "storage",
            key: "lock_timeout_s",
            kind: .integer(\.storage.lockTimeoutSeconds, range: 1...3600),
            help:
                "How long `storage maintain` waits for a table lock per step before it gives up with an error (rerun it later)."
        ),
    ]
}
