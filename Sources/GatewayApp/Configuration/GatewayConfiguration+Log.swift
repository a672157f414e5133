extension GatewayConfiguration {
    /// `[log]`: logging.
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct Log: Sendable, Equatable {
        var level = "info"
    }
}

extension GatewayConfiguration.Log {
    /// The `[log]` settings, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "log",
            key: "level",
            kind: .string(
                \.log.level,
                isSecret: false,
                allowed: ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            ),
            help: "Log level."
        ),
    ]
}
