extension GatewayConfiguration {
    /// `[log]`: logging.
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct Log: Sendable, Equatable {
        var level = "info"
        /// `text` (swift-log's stream format, for people) or `json` (one object per line, ``JSONLogHandler``).
        var format = "text"
        /// One `http access` line per HTTP request at `info` (``AccessLogMiddleware``).
        var httpAccess = true
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
        Setting(
            section: "log",
            key: "format",
            kind: .string(\.log.format, isSecret: false, allowed: ["text", "json"]),
            help:
                "Log line format on standard error: \"text\" for people, or \"json\" for log shippers (one object per "
                + "line: timestamp, level, label, message, source and the metadata as fields)."
        ),
        Setting(
            section: "log",
            key: "http_access",
            kind: .boolean(\.log.httpAccess),
            help: "Log one line per HTTP request at info: method, path without its query, status, duration, bytes, "
                + "credential and role, remote address. Never the Authorization header or a token."
        ),
    ]
}
