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
    ]
}
