import Foundation
import GatewayHTTP
import GatewayTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import NIOSSL
import Testing

/// HTTPS of the real server on a loopback socket, with the test CA of `scripts/services.sh`: the right CA connects,
/// the wrong CA and plain HTTP do not; with client certificates required, none or one of another CA is refused.
///
/// Every refusal is checked against a server that has just answered a good client, so it cannot pass merely because
/// the server is not up.
///
/// Its waits are hang guards, not speed checks: alone the suite takes well under a second, but the server answers
/// from tasks on the cooperative pool, which a full parallel run (two threads on two cores, suites that block them
/// on database calls) can hold for tens of seconds — trivial tests finished 47 s after they started in the run where
/// a 20 s wait for the first good answer ran out. So a client waits 30 s for an answer, the first good answer may
/// take 2 minutes, and the suite 3.
@Suite(
    .enabled(if: TestCertificates.isAvailable, "needs GATEWAY_TEST_TLS_DIR (scripts/services.sh up)"),
    .serialized,
    .timeLimit(.minutes(3))
)
struct HTTPServerTLSTests {
    /// A client configuration that trusts `authority` (and checks the host name `localhost`), presenting the client
    /// certificate `certificate` (`client` for `client.pem`/`client.key`) if given.
    private static func client(trusting authority: String, certificate: String? = nil) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(TestCertificates.path(authority)))
        configuration.certificateVerification = .fullVerification
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

    /// `GET /healthz` over one new connection.
    private static func health(port: Int, tls: TLSConfiguration?) async throws -> (status: Int, body: String) {
        try await TestClient.withClient(
            host: "127.0.0.1",
            port: port,
            configuration: TestClient.Configuration(
                tlsConfiguration: tls,
                timeout: .seconds(30),
                serverName: "localhost"
            )
        ) { client in
            let response = try await client.get("/healthz")
            return (Int(response.status.code), response.body.map { String(buffer: $0) } ?? "")
        }
    }

    /// Runs the server with `tls` on a free port; waits until a client with `working` TLS gets `/healthz`.
    private static func withServer(
        tls: HTTPServerTLS,
        working: TLSConfiguration,
        _ body: (Int) async throws -> Void
    ) async throws {
        let port = try LoopbackPort.free()
        var logger = Logger(label: "http-tls-test")
        logger.logLevel = .critical
        let server = try GatewayHTTPServer(
            host: "127.0.0.1",
            port: port,
            tls: tls,
            logger: logger,
            readiness: { [] },
            metrics: MetricsExport()
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await server.run() }
            defer { tasks.cancelAll() }
            let deadline = ContinuousClock.now + .seconds(120)
            while (try? await health(port: port, tls: working))?.status != 200 {
                try #require(ContinuousClock.now < deadline, "the HTTPS server did not answer a good client")
                try await Task.sleep(for: .milliseconds(100))
            }
            try await body(port)
        }
    }

    @Test func servesHTTPSToClientsThatTrustItsCAOnly() async throws {
        let tls = HTTPServerTLS(
            certificateFile: try TestCertificates.path("server.pem"),
            keyFile: try TestCertificates.path("server.key")
        )
        let right = try Self.client(trusting: "ca.pem")
        try await Self.withServer(tls: tls, working: right) { (port: Int) async throws in
            let answer = try await Self.health(port: port, tls: right)
            #expect(answer.status == 200)
            await #expect(throws: (any Error).self) {
                try await Self.health(port: port, tls: Self.client(trusting: "wrong-ca.pem"))
            }
            await #expect(throws: (any Error).self) { try await Self.health(port: port, tls: nil) }
            // The server still answers the right client after the refusals.
            #expect(try await Self.health(port: port, tls: right).status == 200)
        }
    }

    @Test func requiresAClientCertificateOfTheClientCAWhenOneIsConfigured() async throws {
        let tls = HTTPServerTLS(
            certificateFile: try TestCertificates.path("server.pem"),
            keyFile: try TestCertificates.path("server.key"),
            clientCAFile: try TestCertificates.path("ca.pem")
        )
        let withCertificate = try Self.client(trusting: "ca.pem", certificate: "client")
        try await Self.withServer(tls: tls, working: withCertificate) { (port: Int) async throws in
            #expect(try await Self.health(port: port, tls: withCertificate).status == 200)
            await #expect(throws: (any Error).self) {
                try await Self.health(port: port, tls: Self.client(trusting: "ca.pem"))
            }
            await #expect(throws: (any Error).self) {
                try await Self.health(port: port, tls: Self.client(trusting: "ca.pem", certificate: "wrong-client"))
            }
            #expect(try await Self.health(port: port, tls: withCertificate).status == 200)
        }
    }

    @Test func aMissingOrUnusableFileIsNamedWhenTheServerIsCreated() throws {
        let folder = NSTemporaryDirectory() + "http-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let garbage = folder + "/garbage.pem"
        try "not a certificate\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        let key = try TestCertificates.path("server.key")
        let certificate = try TestCertificates.path("server.pem")
        for (tls, file) in [
            (HTTPServerTLS(certificateFile: folder + "/missing.pem", keyFile: key), folder + "/missing.pem"),
            (HTTPServerTLS(certificateFile: garbage, keyFile: key), garbage),
            (HTTPServerTLS(certificateFile: certificate, keyFile: garbage), garbage),
            (HTTPServerTLS(certificateFile: certificate, keyFile: key, clientCAFile: garbage), garbage),
        ] {
            let error = #expect(throws: HTTPServerTLSError.self) {
                _ = try GatewayHTTPServer(
                    host: "127.0.0.1",
                    port: 1,
                    tls: tls,
                    logger: Logger(label: "http-tls-test"),
                    readiness: { [] },
                    metrics: MetricsExport()
                )
            }
            #expect(error?.file == file)
        }
    }
}
