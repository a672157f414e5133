import Foundation
import GatewayHTTP
import GatewayTestSupport
import InMemoryLogging
import Logging
import Testing

@testable import GatewayApp

/// No secret in clear and no unverified server off loopback: `mqtt.password` without TLS, HTTP credentials without
/// TLS, and a PostgreSQL conninfo without `sslmode=verify-full` are refused for a non-loopback address unless the
/// setting that allows it is set.
@Suite struct TransportSecurityConfigurationTests {
    private static let credential = """
        [[http.credentials]]
        name = "desk-3"
        roles = ["dispatch"]
        token_sha256 = "\(String(repeating: "ab", count: 32))"
        """

    /// The error's setting, or `nil` when the configuration loads.
    private func refusal(_ toml: String, environment: [String: String] = [:]) -> ConfigurationError? {
        do {
            _ = try GatewayConfiguration.load(tomlText: toml, environment: environment)
            return nil
        } catch let error as ConfigurationError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test(arguments: [
        "localhost", "LOCALHOST.", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1",
    ])
    func loopbackAddresses(host: String) {
        #expect(LoopbackAddress.contains(host))
    }

    @Test(arguments: [
        "0.0.0.0", "::", "10.0.0.1", "192.168.1.20", "broker.example", "localhost.example", "128.0.0.1", "::2",
        // Resolved by DNS on a default Debian host, so not necessarily loopback.
        "gw.localhost",
        "::ffff:10.0.0.1", "",
    ])
    func nonLoopbackAddresses(host: String) {
        #expect(!LoopbackAddress.contains(host))
    }

    @Test func anMQTTPasswordGoesInClearOnlyToLoopbackOrWhenAllowed() throws {
        let remote = "[mqtt]\nhost = \"broker.example\"\nusername = \"gw\"\npassword = \"pw\"\n"
        let error = try #require(refusal(remote))
        #expect(error.setting == "mqtt.password")
        #expect(error.description.contains("broker.example"))
        #expect(error.description.contains("mqtt.allow_plaintext_credentials"))
        #expect(!error.description.contains("pw\""))
        #expect(refusal(remote + "allow_plaintext_credentials = true\n") == nil)
        #expect(refusal(remote, environment: ["METER_GATEWAY_MQTT_ALLOW_PLAINTEXT_CREDENTIALS": "true"]) == nil)
        if TestCertificates.isAvailable {
            let ca = try TestCertificates.path("ca.pem")
            #expect(refusal(remote + "[mqtt.tls]\nenabled = true\nca_file = \"\(ca)\"\n") == nil)
        }
        #expect(refusal("[mqtt]\nhost = \"127.0.0.1\"\nusername = \"gw\"\npassword = \"pw\"\n") == nil)
        // Without a password nothing secret is sent.
        #expect(refusal("[mqtt]\nhost = \"broker.example\"\nusername = \"gw\"\n") == nil)
    }

    @Test func apiCredentialsGoInClearOnlyOnLoopbackOrWhenAllowed() throws {
        let exposed = "[http]\nhost = \"0.0.0.0\"\n" + Self.credential + "\n"
        let error = try #require(refusal(exposed))
        #expect(error.setting == "http.host")
        #expect(error.description.contains("http.allow_plaintext"))
        #expect(refusal("[http]\nhost = \"0.0.0.0\"\nallow_plaintext = true\n" + Self.credential) == nil)
        #expect(refusal("[http]\nhost = \"::1\"\n" + Self.credential) == nil)
        // No credentials: only the open probes and metrics, nothing secret.
        #expect(refusal("[http]\nhost = \"0.0.0.0\"\n") == nil)
        // HTTP off: nothing listens.
        #expect(refusal("[http]\nenabled = false\nhost = \"0.0.0.0\"\n" + Self.credential) == nil)
        if TestCertificates.isAvailable {
            let tls = """
                [http.tls]
                enabled = true
                cert_file = "\(try TestCertificates.path("server.pem"))"
                key_file = "\(try TestCertificates.path("server.key"))"
                """
            #expect(refusal("[http]\nhost = \"0.0.0.0\"\n" + Self.credential + "\n" + tls) == nil)
            let configuration = try GatewayConfiguration.load(tomlText: tls, environment: [:])
            #expect(
                configuration.http.serverTLS
                    == HTTPServerTLS(
                        certificateFile: try TestCertificates.path("server.pem"),
                        keyFile: try TestCertificates.path("server.key")
                    )
            )
        }
    }

    @Test(arguments: [
        ("[http.tls]\nenabled = true", "http.tls.cert_file"),
        ("[http.tls]\nenabled = true\ncert_file = \"/etc/hostname\"", "http.tls.key_file"),
        (
            "[http.tls]\nenabled = true\ncert_file = \"/nonexistent.pem\"\nkey_file = \"/etc/hostname\"",
            "http.tls.cert_file"
        ),
        (
            "[http.tls]\nenabled = true\ncert_file = \"/etc/hostname\"\nkey_file = \"/etc/hostname\"\nclient_ca_file = \"/nonexistent\"",
            "http.tls.client_ca_file"
        ),
    ])
    func httpTLSNeedsReadableFiles(toml: String, setting: String) {
        #expect(refusal(toml)?.setting == setting)
    }

    @Test(
        arguments: [
            ("host=db.example dbname=x", [:], "db.example"),
            ("host=db.example dbname=x sslmode=require", [:], "sslmode=require"),
            ("host=db.example dbname=x sslmode=verify-ca sslrootcert=/ca.pem", [:], "sslmode=verify-ca"),
            ("host=localhost hostaddr=10.1.2.3 dbname=x", [:], "10.1.2.3"),
            ("host=127.0.0.1,db.example dbname=x", [:], "db.example"),
            ("postgresql://gw@db.example/x", [:], "db.example"),
            ("dbname=x", ["PGHOST": "db.example"], "db.example"),
            ("host=db.example dbname=x sslmode=verify-full", ["PGSSLMODE": "disable"], nil),
            ("host=db.example dbname=x", ["PGSSLMODE": "verify-full"], nil),
            ("service=billing", [:], "service billing"),
            ("host=127.0.0.1 dbname=x", [:], nil),
            ("host=/var/run/postgresql dbname=x", [:], nil),
            ("dbname=x", [:], nil),
            ("postgresql://gw@db.example/x?sslmode=verify-full&sslrootcert=/ca.pem", [:], nil),
        ] as [(String, [String: String], String?)]
    )
    func postgresOffLoopbackNeedsVerifyFull(conninfo: String, environment: [String: String], named: String?) {
        let toml = "[postgres]\nconninfo = \"\(conninfo)\"\n"
        let error = refusal(toml, environment: environment)
        if let named {
            #expect(error?.setting == "postgres.conninfo")
            #expect(error?.description.contains(named) == true)
            #expect(error?.description.contains("sslmode=verify-full sslrootcert=") == true)
            #expect(refusal(toml + "allow_unverified = true\n", environment: environment) == nil)
        } else {
            #expect(error == nil)
        }
    }

    @Test(arguments: ["ingest_conninfo", "validation_conninfo", "http_conninfo"])
    func eachServiceConninfoIsCheckedLikeTheOwners(key: String) {
        let loopbackOwner = "[postgres]\nconninfo = \"host=127.0.0.1 dbname=x\"\n"
        let remote = loopbackOwner + "\(key) = \"host=db.example dbname=x user=gw\"\n"
        let error = refusal(remote)
        #expect(error?.setting == "postgres.\(key)")
        #expect(error?.description.contains("db.example") == true)
        #expect(refusal(remote + "allow_unverified = true\n") == nil)
        #expect(refusal(loopbackOwner + "\(key) = \"host=db.example dbname=x sslmode=verify-full\"\n") == nil)
    }

    @Test func anUnparsableConninfoIsRefusedWithoutQuotingIt() throws {
        let error = try #require(refusal("[postgres]\nconninfo = \"host=x password='s3cret\"\n"))
        #expect(error.setting == "postgres.conninfo")
        #expect(!error.description.contains("s3cret"))
    }

    @Test(.enabled(if: TestCertificates.isAvailable, "needs GATEWAY_TEST_TLS_DIR"))
    func everyStartWithTheBrokerHostNameUncheckedLogsAWarning() throws {
        let logs = InMemoryLogHandler()
        let logger = Logger(label: "tls-start") { _ in logs }
        func start(verifyHostname: Bool) throws {
            let folder = NSTemporaryDirectory() + "tls-start-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let toml = """
                [mqtt.tls]
                enabled = true
                ca_file = "\(try TestCertificates.path("ca.pem"))"
                verify_hostname = \(verifyHostname)
                [spool]
                directory = "\(folder)"
                [http]
                enabled = false
                """
            let configuration = try GatewayConfiguration.load(tomlText: toml, environment: [:])
            _ = try GatewayRuntime(configuration: configuration, logger: logger)
        }
        func warnings() -> Int {
            logs.entries.filter { $0.level == .warning && $0.message.description.contains("verification is off") }.count
        }
        try start(verifyHostname: true)
        #expect(warnings() == 0)
        try start(verifyHostname: false)
        try start(verifyHostname: false)
        #expect(warnings() == 2)
    }
}
