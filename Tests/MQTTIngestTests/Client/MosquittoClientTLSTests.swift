import Foundation
import InMemoryLogging
import Logging
import MQTTIngest
import Testing

/// TLS against a private `mosquitto` with a TLS listener, using the test CA of `scripts/services.sh`
/// (`GATEWAY_TEST_TLS_DIR`): the right CA connects; the wrong CA, a certificate for another host name, and a missing
/// or foreign client certificate where the broker requires one are refused.
///
/// Each refusal is paired with a connection that succeeds against the same broker, so a refusal cannot pass merely
/// because the broker is not there.
@Suite(
    .enabled(
        if: ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] != nil && MQTTPrivateBroker.executable != nil
            && MQTTPrivateBroker.certificateFolder != nil,
        "needs MQTT_TEST_PORT, mosquitto and GATEWAY_TEST_TLS_DIR (scripts/services.sh up)"
    ),
    .serialized,
    .timeLimit(.minutes(1))
)
struct MosquittoClientTLSTests {
    /// Whether a client with these TLS options connects to the broker within `timeout`.
    private func connects(
        to broker: MQTTPrivateBroker,
        host: String = "127.0.0.1",
        tls: MQTTTLSOptions,
        timeout: Duration = .seconds(3),
        logger: Logger = MQTTTestSupport.logger
    ) async throws -> Bool {
        var options = MQTTTestSupport.options(port: broker.port, clientID: MQTTTestSupport.uniqueName("tls"))
        options.host = host
        options.tls = tls
        let client = try MosquittoClient(options: options, subscriptions: [], logger: logger) { _ in }
        client.start()
        let connected = await client.waitUntilConnected(timeout: timeout)
        await client.stop()
        if !connected { #expect(client.statistics.connects == 0) }
        return connected
    }

    @Test func connectsOverTLSAndVerifiesTheBroker() async throws {
        let broker = try MQTTPrivateBroker(persistence: false, tls: MQTTPrivateBroker.TLS())
        try broker.start()
        defer { broker.terminate() }
        let prefix = MQTTTestSupport.uniqueName("tls")
        let recorder = MQTTMessageRecorder()
        var options = MQTTTestSupport.options(port: broker.port, clientID: "\(prefix)-gw")
        options.tls = MQTTTLSOptions(caFile: try MQTTPrivateBroker.certificate("ca.pem"))
        #expect(options.tls?.verifyHostname == true, "host name verification is on by default")
        let client = try MosquittoClient(
            options: options,
            subscriptions: [MQTTSubscription(filter: "\(prefix)/#")],
            logger: MQTTTestSupport.logger,
            onMessage: recorder.record
        )
        client.start()
        defer { client.stop() }
        #expect(await client.waitUntilConnected(timeout: .seconds(10)))
        try await client.publishAndWait(topic: "\(prefix)/loop", payload: Array("over tls".utf8))
        #expect(await recorder.waitForCount(1, timeout: .seconds(10)))
        #expect(recorder.messages.first?.payload == Array("over tls".utf8))
    }

    @Test func refusesABrokerSignedByAnotherCA() async throws {
        let broker = try MQTTPrivateBroker(persistence: false, tls: MQTTPrivateBroker.TLS())
        try broker.start()
        defer { broker.terminate() }
        let right = MQTTTLSOptions(caFile: try MQTTPrivateBroker.certificate("ca.pem"))
        let wrong = MQTTTLSOptions(caFile: try MQTTPrivateBroker.certificate("wrong-ca.pem"))
        #expect(try await connects(to: broker, tls: wrong) == false)
        #expect(try await connects(to: broker, tls: right, timeout: .seconds(10)))
    }

    @Test func refusesACertificateForAnotherHostNameUnlessVerificationIsOff() async throws {
        // Signed by the right CA, but for other-host.invalid only: not for 127.0.0.1 or localhost.
        let broker = try MQTTPrivateBroker(
            persistence: false,
            tls: MQTTPrivateBroker.TLS(serverCertificate: "other-host")
        )
        try broker.start()
        defer { broker.terminate() }
        let ca = try MQTTPrivateBroker.certificate("ca.pem")
        #expect(try await connects(to: broker, tls: MQTTTLSOptions(caFile: ca)) == false)
        // The same broker and CA with the host check off connect: the refusal above was the host name's.
        let logs = InMemoryLogHandler()
        var logger = Logger(label: "tls-insecure") { _ in logs }
        logger.logLevel = .warning
        let insecure = MQTTTLSOptions(caFile: ca, verifyHostname: false)
        #expect(try await connects(to: broker, tls: insecure, timeout: .seconds(10), logger: logger))
        #expect(
            logs.entries.contains { $0.level == .warning && $0.message.description.contains("verification is off") }
        )
    }

    @Test func warnsAtEveryClientCreatedWithoutHostNameVerification() throws {
        let logs = InMemoryLogHandler()
        let logger = Logger(label: "tls-warning") { _ in logs }
        let ca = try MQTTPrivateBroker.certificate("ca.pem")
        var options = MQTTTestSupport.options(port: 1, clientID: MQTTTestSupport.uniqueName("tls-warn"))
        options.tls = MQTTTLSOptions(caFile: ca)
        _ = try MosquittoClient(options: options, subscriptions: [], logger: logger) { _ in }
        #expect(logs.entries.filter { $0.level == .warning }.isEmpty)
        options.tls?.verifyHostname = false
        for _ in 0..<2 {
            _ = try MosquittoClient(options: options, subscriptions: [], logger: logger) { _ in }
        }
        let warnings = logs.entries.filter {
            $0.level == .warning && $0.message.description.contains("verification is off")
        }
        #expect(warnings.count == 2)
    }

    @Test func aBrokerThatRequiresClientCertificatesTakesOnlyThoseOfItsCA() async throws {
        let broker = try MQTTPrivateBroker(
            persistence: false,
            tls: MQTTPrivateBroker.TLS(requiresClientCertificate: true)
        )
        try broker.start()
        defer { broker.terminate() }
        let ca = try MQTTPrivateBroker.certificate("ca.pem")
        #expect(try await connects(to: broker, tls: MQTTTLSOptions(caFile: ca)) == false)
        let foreign = MQTTTLSOptions(
            caFile: ca,
            certFile: try MQTTPrivateBroker.certificate("wrong-client.pem"),
            keyFile: try MQTTPrivateBroker.certificate("wrong-client.key")
        )
        #expect(try await connects(to: broker, tls: foreign) == false)
        let own = MQTTTLSOptions(
            caFile: ca,
            certFile: try MQTTPrivateBroker.certificate("client.pem"),
            keyFile: try MQTTPrivateBroker.certificate("client.key")
        )
        #expect(try await connects(to: broker, tls: own, timeout: .seconds(10)))
    }
}
