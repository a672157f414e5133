extension GatewayConfiguration {
    /// `[http]`: the HTTP server: health, readiness, metrics, the billing and dispatch APIs and their tokens.
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct HTTP: Sendable, Equatable {
        var isEnabled = true
        var host = "127.0.0.1"
        var port = 8080
        var reviewToken = ""
        var dispatchToken = ""
        /// Connections of the billing API and of the dispatch API (each its own pool).
        var databaseConnections = 2
        var statementTimeoutMilliseconds = 15_000
    }
}

extension GatewayConfiguration.HTTP {
    /// The `[http]` settings, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "http",
            key: "enabled",
            kind: .boolean(\.http.isEnabled),
            help: "Serve /healthz, /readyz and /metrics."
        ),
        Setting(
            section: "http",
            key: "host",
            kind: .string(\.http.host, isSecret: false, allowed: nil),
            help: "HTTP listen address."
        ),
        Setting(section: "http", key: "port", kind: .integer(\.http.port, range: 1...65535), help: "HTTP listen port."),
        Setting(
            section: "http",
            key: "review_token",
            kind: .string(\.http.reviewToken, isSecret: true, allowed: nil),
            help:
                "Bearer token reviewers send to accept or reject held reads over HTTP (POST /review/v1/decisions). Empty disables review over HTTP; the billing API is read-only either way."
        ),
        Setting(
            section: "http",
            key: "dispatch_token",
            kind: .string(\.http.dispatchToken, isSecret: true, allowed: nil),
            help:
                "Bearer token of the dispatch API (/dispatch/v1/…: tickets, lifecycle steps, hotline tickets, outages, reports). Empty disables it."
        ),
        Setting(
            section: "http",
            key: "database_connections",
            kind: .integer(\.http.databaseConnections, range: 1...16),
            help:
                "PostgreSQL connections of the billing API, and as many again of the dispatch API: each API has its own, apart from ingest, validation and the dispatch service, so a slow billing page cannot hold up a dispatcher."
        ),
        Setting(
            section: "http",
            key: "statement_timeout_ms",
            kind: .integer(\.http.statementTimeoutMilliseconds, range: 100...600_000),
            help:
                "How long one statement of an HTTP request may run before PostgreSQL cancels it (the request then answers 500 database_error)."
        ),
    ]
}
