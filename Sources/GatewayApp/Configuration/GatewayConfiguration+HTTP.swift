import Foundation
import GatewayHTTP
import TOMLKit

extension GatewayConfiguration {
    /// `[http]`: the HTTP server: health, readiness, metrics, the billing, review and dispatch APIs, and the named
    /// credentials (`[[http.credentials]]`) that may use those APIs.
    ///
    /// Each scalar property is one row of ``settings``, which holds its TOML key, range and help text; the credentials
    /// are an array of tables read by ``credentials(from:)``, from the file only (not from the environment).
    struct HTTP: Sendable, Equatable {
        var isEnabled = true
        var host = "127.0.0.1"
        var port = 8080
        /// Connections of the billing API and of the dispatch API (each its own pool).
        var databaseConnections = 2
        var statementTimeoutMilliseconds = 15_000
        /// Who may use the APIs, with which roles; none refuses every API request (health, readiness and metrics
        /// stay open).
        var credentials: [Credential] = []
        /// Serve plain HTTP on a non-loopback address although credentials are configured (tokens in clear).
        var allowPlaintext = false
        /// How long a dispatch console session lasts after sign-in.
        var consoleSessionMinutes = 720
        /// A file with the console's session key (at least 32 bytes); empty: a random key per start.
        var consoleSessionKeyFile = ""
        var tls = TLS()

        /// `[http.tls]`: HTTPS, with optional client certificates (mutual TLS).
        struct TLS: Sendable, Equatable {
            var isEnabled = false
            var certFile = ""
            var keyFile = ""
            var clientCAFile = ""
        }
    }
}

extension GatewayConfiguration.HTTP {
    /// The `[http]` settings, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "http",
            key: "enabled",
            kind: .boolean(\.http.isEnabled),
            help:
                "Serve /healthz, /readyz and /metrics (open), and the billing, review and dispatch APIs (credentials)."
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
        Setting(
            section: "http",
            key: "allow_plaintext",
            kind: .boolean(\.http.allowPlaintext),
            help:
                "Start although http.host is not a loopback address, [[http.credentials]] are configured and http.tls is off, "
                + "so bearer tokens would cross the network in clear. Only behind a TLS-terminating proxy on a trusted link."
        ),
        Setting(
            section: "http",
            key: "console_session_minutes",
            kind: .integer(\.http.consoleSessionMinutes, range: 5...1440),
            help:
                "How long a dispatch console sign-in lasts (/console): the session cookie expires then, and the "
                + "dispatcher signs in again with the token. Default: one 12-hour shift."
        ),
        Setting(
            section: "http",
            key: "console_session_key_file",
            kind: .string(\.http.consoleSessionKeyFile, isSecret: false, allowed: nil),
            help:
                "Secret file holding the key (text of at least 32 bytes, e.g. openssl rand -hex 32; not readable by "
                + "others; a relative path is inside $CREDENTIALS_DIRECTORY) that signs dispatch console session "
                + "cookies; the same file on every gateway behind one address lets each accept the others' sessions. "
                + "Empty: a random key at each start (sessions end when the gateway restarts)."
        ),
        Setting(
            section: "http.tls",
            key: "enabled",
            kind: .boolean(\.http.tls.isEnabled),
            help: "Serve HTTPS only (TLS 1.2 or later) with cert_file and key_file."
        ),
        Setting(
            section: "http.tls",
            key: "cert_file",
            kind: .string(\.http.tls.certFile, isSecret: false, allowed: nil),
            help: "PEM certificate chain of the server, its own certificate first (required with TLS)."
        ),
        Setting(
            section: "http.tls",
            key: "key_file",
            kind: .string(\.http.tls.keyFile, isSecret: false, allowed: nil),
            help: "PEM private key of cert_file, not encrypted (required with TLS); readable by the gateway only."
        ),
        Setting(
            section: "http.tls",
            key: "client_ca_file",
            kind: .string(\.http.tls.clientCAFile, isSecret: false, allowed: nil),
            help:
                "PEM CAs of client certificates: if set, every connection must present a certificate signed by one of "
                + "them (mutual TLS), in addition to the bearer token of the APIs; empty for no client certificates."
        ),
    ]

    /// The server's TLS settings, or `nil` for plain HTTP.
    var serverTLS: HTTPServerTLS? {
        guard tls.isEnabled else { return nil }
        return HTTPServerTLS(
            certificateFile: tls.certFile,
            keyFile: tls.keyFile,
            clientCAFile: tls.clientCAFile.isEmpty ? nil : tls.clientCAFile
        )
    }

    /// The console's session key: the key file's text as bytes, or 32 random bytes when no file is set.
    ///
    /// The file is a secret file like the others (``SecretSources/read(path:origin:environment:)``): a relative
    /// path is inside `$CREDENTIALS_DIRECTORY`, and a file that others may read or its group may write is refused.
    /// Whoever reads it and a credential's token digest can sign console sessions (and their CSRF tokens).
    /// - Parameter environment: The process environment (for `CREDENTIALS_DIRECTORY`).
    /// - Throws: ``ConfigurationError`` when the file cannot be used or holds fewer than 32 bytes.
    func consoleSessionKey(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [UInt8] {
        guard !consoleSessionKeyFile.isEmpty else { return ConsoleSessions.randomKey() }
        let text = try SecretSources.read(
            path: consoleSessionKeyFile,
            origin: "http.console_session_key_file",
            environment: environment
        )
        let bytes = Array(text.utf8)
        guard bytes.count >= 32 else {
            throw ConfigurationError(
                setting: "http.console_session_key_file",
                problem: "must hold at least 32 bytes (openssl rand -hex 32)"
            )
        }
        return bytes
    }

    /// The TOML name of the credentials' array of tables.
    static let credentialsName = "http.credentials"

    /// What to write instead of a setting that was removed.
    static let credentialsInstead =
        "write [[http.credentials]] tables instead: name = \"desk-3\", roles = [\"dispatch\"], "
        + "token_sha256 = \"…\" (print the hash with: meter-gateway credentials hash < token-file)"

    /// Settings that no longer exist, with what to write instead. Start-up refuses them (from the file or the
    /// environment) rather than ignore them: a left-over shared token must not look like it still protects
    /// anything.
    static let removedSettings: [String: String] = [
        "http.dispatch_token": "was removed: the dispatch API takes named credentials with roles; "
            + credentialsInstead,
        "http.review_token": "was removed: the review API takes named credentials with roles; " + credentialsInstead,
    ]

    /// The commented example of the credentials, appended to the `[http]` section of the example file.
    static let credentialsExample = [
        "",
        "# Who may use the APIs: one [[http.credentials]] table per person or system. The name is recorded as the",
        "# actor of everything done with the credential. roles: billing (billing reads), dispatch (tickets, steps,",
        "# notes, hotline tickets, inspections, reports), supervisor (dispatch plus planned outages), review (held-read",
        "# decisions), admin (everything). token_sha256 is the SHA-256 of the token, never the token itself; make a",
        "# token of at least \(Credential.minimumTokenLength) random characters (openssl rand -hex 32) and print its hash with",
        "#   meter-gateway credentials hash < token-file",
        "# Without credentials every API request is refused (401); /healthz, /readyz and /metrics stay open.",
        "# Credentials come from this file only, not from the environment.",
        "# [[http.credentials]]",
        "# name = \"desk-3\"",
        "# roles = [\"dispatch\"]",
        "# token_sha256 = \"<64 hexadecimal digits>\"",
    ]

    /// Reads `[[http.credentials]]`.
    /// - Parameter value: The TOML value of `http.credentials`.
    /// - Returns: The credentials, checked one by one (unique names and tokens are checked with the rest).
    /// - Throws: ``ConfigurationError`` naming `http.credentials[i]` and the field that is wrong (never a hash).
    static func credentials(from value: any TOMLValueConvertible) throws -> [Credential] {
        guard let array = value.array else {
            throw ConfigurationError(
                setting: credentialsName,
                problem: "must be an array of tables: [[http.credentials]] with name, roles and token_sha256"
            )
        }
        var credentials: [Credential] = []
        for (index, element) in array.enumerated() {
            let setting = "\(credentialsName)[\(index)]"
            guard let table = element.table else {
                throw ConfigurationError(setting: setting, problem: "must be a table with name, roles and token_sha256")
            }
            for key in table.keys where !["name", "roles", "token_sha256"].contains(key) {
                throw ConfigurationError(setting: "\(setting).\(key)", problem: "unknown setting")
            }
            guard let name = table["name"]?.string else {
                throw ConfigurationError(setting: "\(setting).name", problem: "must be a string")
            }
            let allowed = Role.allCases.map(\.rawValue).joined(separator: ", ")
            guard let list = table["roles"]?.array else {
                throw ConfigurationError(setting: "\(setting).roles", problem: "must be a list of: \(allowed)")
            }
            var roles: Set<Role> = []
            for item in list {
                guard let role = item.string.flatMap(Role.init(rawValue:)) else {
                    throw ConfigurationError(
                        setting: "\(setting).roles",
                        problem: "each role must be one of: \(allowed)"
                    )
                }
                roles.insert(role)
            }
            guard let digest = table["token_sha256"]?.string else {
                throw ConfigurationError(setting: "\(setting).token_sha256", problem: "must be a string")
            }
            do {
                credentials.append(try Credential(name: name, roles: roles, tokenSHA256: digest))
            } catch {
                throw ConfigurationError(setting: setting, problem: error.description)
            }
        }
        return credentials
    }
}
