import Foundation
import PostgresSink

extension GatewayConfiguration {
    /// Refuses a configuration that would send a secret in clear, or trust an unverified server, off loopback:
    ///
    /// * `mqtt.password` with `[mqtt.tls]` off to a non-loopback broker, unless `mqtt.allow_plaintext_credentials`;
    /// * `[[http.credentials]]` with `[http.tls]` off on a non-loopback `http.host`, unless `http.allow_plaintext`;
    /// * a `postgres.conninfo` (or a service's own `ingest_conninfo`, `validation_conninfo`, `http_conninfo`)
    ///   reaching a non-loopback server with an `sslmode` other than `verify-full` (libpq's default `prefer` checks
    ///   no certificate), unless `postgres.allow_unverified`.
    ///
    /// Also checks that `[http.tls]` names readable files.
    /// - Parameter environment: The environment libpq would see (`PGHOST`, `PGSSLMODE`, …).
    /// - Throws: ``ConfigurationError`` naming the setting, what would travel in clear or unverified, and the
    ///   settings that fix it. Never a password, token or conninfo.
    func validateTransportSecurity(environment: [String: String]) throws {
        if !mqtt.password.isEmpty && !mqtt.tls.isEnabled && !LoopbackAddress.contains(mqtt.host)
            && !mqtt.allowPlaintextCredentials
        {
            throw ConfigurationError(
                setting: "mqtt.password",
                problem:
                    "would be sent in clear to \(mqtt.host), which is not a loopback address: enable [mqtt.tls] "
                    + "(enabled = true, ca_file = …), or set mqtt.allow_plaintext_credentials = true to accept that"
            )
        }
        if http.isEnabled && !http.credentials.isEmpty && !http.tls.isEnabled && !LoopbackAddress.contains(http.host)
            && !http.allowPlaintext
        {
            throw ConfigurationError(
                setting: "http.host",
                problem:
                    "\(http.host) is not a loopback address and [http.tls] is off, so the API's bearer tokens would "
                    + "travel in clear: enable [http.tls] (enabled = true, cert_file = …, key_file = …), listen on "
                    + "127.0.0.1 behind a TLS-terminating proxy, or set http.allow_plaintext = true to accept that"
            )
        }
        if http.tls.isEnabled {
            for (setting, path) in [("http.tls.cert_file", http.tls.certFile), ("http.tls.key_file", http.tls.keyFile)]
            where path.isEmpty {
                throw ConfigurationError(setting: setting, problem: "is required when http.tls.enabled is true")
            }
            for (setting, path) in [
                ("http.tls.cert_file", http.tls.certFile), ("http.tls.key_file", http.tls.keyFile),
                ("http.tls.client_ca_file", http.tls.clientCAFile),
            ]
            where !path.isEmpty && !FileManager.default.isReadableFile(atPath: path) {
                throw ConfigurationError(setting: setting, problem: "file \(path) is not readable")
            }
        }
        for (setting, conninfo) in [
            ("postgres.conninfo", postgres.conninfo), ("postgres.ingest_conninfo", postgres.ingestConninfo),
            ("postgres.validation_conninfo", postgres.validationConninfo),
            ("postgres.http_conninfo", postgres.httpConninfo),
        ] where setting == "postgres.conninfo" || !conninfo.isEmpty {
            try validatePostgresTransport(setting: setting, conninfo: conninfo, environment: environment)
        }
    }

    private func validatePostgresTransport(
        setting: String,
        conninfo: String,
        environment: [String: String]
    ) throws {
        let target: PostgresConnectionTarget
        do {
            target = try PostgresConnectionTarget.parse(conninfo: conninfo, environment: environment)
        } catch {
            throw ConfigurationError(setting: setting, problem: "libpq cannot parse it")
        }
        guard target.sslMode != "verify-full", !postgres.allowUnverified else { return }
        let fix =
            "write sslmode=verify-full sslrootcert=<the CA's PEM file> into the conninfo (host= must be a name or "
            + "address in the server's certificate), or set postgres.allow_unverified = true to accept that"
        if let service = target.service, target.addresses == [""] {
            throw ConfigurationError(
                setting: setting,
                problem:
                    "names service \(service), whose pg_service.conf entry may reach a server off loopback, with "
                    + "sslmode=\(target.sslMode), which does not verify the server; give host= in the conninfo, or "
                    + fix
            )
        }
        for address in target.addresses where !LoopbackAddress.containsPostgres(address) {
            throw ConfigurationError(
                setting: setting,
                problem:
                    "reaches \(address), which is not a loopback address, with sslmode=\(target.sslMode), which "
                    + "does not verify the server's certificate and host name (libpq's default is prefer); " + fix
            )
        }
    }
}

/// Whether a host name or address stays on this machine.
enum LoopbackAddress {
    /// `localhost`, `127.0.0.0/8`, `::1` and `::ffff:127.x.y.z`; every other name or address is taken as off the
    /// machine, `0.0.0.0` and `::` (every interface) included. Names under `.localhost` are not: RFC 6761 asks
    /// resolvers to keep them on loopback, but Debian's default `hosts: files dns` sends them to DNS, which may
    /// answer with any address, and a password or token would then cross the network in clear.
    /// - Parameter host: A host name or a numeric IPv4 or IPv6 address (IPv6 optionally in brackets).
    /// - Returns: Whether the host is the loopback interface.
    static func contains(_ host: String) -> Bool {
        var host = host.lowercased()
        if host.hasSuffix(".") { host.removeLast() }
        if host == "localhost" { return true }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var ipv4 = in_addr()
        if inet_pton(AF_INET, host, &ipv4) == 1 {
            return UInt32(bigEndian: ipv4.s_addr) >> 24 == 127
        }
        var ipv6 = in6_addr()
        guard inet_pton(AF_INET6, host, &ipv6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: ipv6) { Array($0) }
        let isLoopback = bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
        let isMappedLoopback =
            bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
            && bytes[12] == 127
        return isLoopback || isMappedLoopback
    }

    /// ``contains(_:)`` for a libpq address, where an empty entry (libpq's default socket) and a path starting with
    /// `/` or `@` (a Unix-domain socket) are on this machine too.
    /// - Parameter address: One entry of ``PostgresSink/PostgresConnectionTarget/addresses``.
    /// - Returns: Whether libpq stays on this machine for it.
    static func containsPostgres(_ address: String) -> Bool {
        address.isEmpty || address.hasPrefix("/") || address.hasPrefix("@") || contains(address)
    }
}
