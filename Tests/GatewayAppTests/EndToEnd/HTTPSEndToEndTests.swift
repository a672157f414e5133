import Foundation
import GatewayHTTP
import GatewayTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import NIOSSL
import ServiceLifecycle
import Synchronization
import Testing

@testable import GatewayApp

/// The running gateway serves HTTPS from its `[http.tls]` settings, with client certificates required: a client of
/// the test CA with its certificate and token is served, one without a certificate is refused at the handshake.
@Suite(
    .enabled(
        if: IntegrationEnvironment.isAvailable && TestCertificates.isAvailable,
        "needs GATEWAY_TEST_PG, MQTT_TEST_PORT and GATEWAY_TEST_TLS_DIR"
    ),
    .timeLimit(.minutes(3))
)
struct HTTPSEndToEndTests {
    private static let token = "feed-" + String(repeating: "6b", count: 20)

    private static func client(certificate: String?) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(TestCertificates.path("ca.pem")))
        if let certificate {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(
                TestCertificates.path("\(certificate).pem")
            ).map { .certificate($0) }
            configuration.privateKey = .privateKey(
                try NIOSSLPrivateKey(file: TestCertificates.path("\(certificate).key"), format: .pem)
            )
        }
        return configuration
    }

    private static func get(_ path: String, port: Int, tls: TLSConfiguration, token: String? = nil) async throws -> Int
    {
        try await TestClient.withClient(
            host: "localhost",
            port: port,
            configuration: TestClient.Configuration(tlsConfiguration: tls, timeout: .seconds(30))
        ) { client in
            var headers = HTTPFields()
            if let token { headers[.authorization] = "Bearer \(token)" }
            return Int(try await client.get(path, headers: headers).status.code)
        }
    }

    @Test func theGatewayServesHTTPSAndRequiresTheClientCertificateItsConfigurationNames() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "https_e2e")
        defer { environment.dropDatabase(database) }
        let port = try LoopbackPort.free()
        let path = try environment.writeConfiguration(
            in: try environment.makeFolder(),
            database: database,
            clientID: "gw-https"
        )
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text += """

            [http.tls]
            enabled = true
            cert_file = "\(try TestCertificates.path("server.pem"))"
            key_file = "\(try TestCertificates.path("server.key"))"
            client_ca_file = "\(try TestCertificates.path("ca.pem"))"

            [[http.credentials]]
            name = "billing-feed"
            roles = ["billing"]
            token_sha256 = "\(try Credential.hexDigest(ofToken: Self.token))"
            """
        let configuration = try GatewayConfiguration.load(
            tomlText: text,
            environment: ["METER_GATEWAY_HTTP_ENABLED": "true", "METER_GATEWAY_HTTP_PORT": String(port)]
        )
        let logger = Logger(label: "https-e2e")
        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        let withCertificate = try Self.client(certificate: "client")
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            // Generous: a full parallel run can hold the cooperative pool, which serves the server, for tens of seconds.
            let deadline = ContinuousClock.now + .seconds(90)
            while (try? await Self.get("/healthz", port: port, tls: withCertificate)) != 200 {
                try #require(ContinuousClock.now < deadline, "the HTTPS server did not answer")
                try await Task.sleep(for: .milliseconds(100))
            }
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try #require(ContinuousClock.now < deadline, "the database was not migrated")
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await Self.get("/billing/v1/daily-reads", port: port, tls: withCertificate) == 401)
            let served = try await Self.get(
                "/billing/v1/daily-reads",
                port: port,
                tls: withCertificate,
                token: Self.token
            )
            #expect(served == 200)
            await #expect(throws: (any Error).self) {
                try await Self.get(
                    "/billing/v1/daily-reads",
                    port: port,
                    tls: Self.client(certificate: nil),
                    token: Self.token
                )
            }
            await group.triggerGracefulShutdown()
        }
    }
}
