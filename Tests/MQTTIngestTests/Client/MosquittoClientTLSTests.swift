import Foundation
import MQTTIngest
import Testing

/// TLS against a private `mosquitto` with a throw-away CA (needs `mosquitto` and `openssl`).
@Suite(
    .enabled(
        if: ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] != nil && MQTTPrivateBroker.executable != nil
            && MQTTPrivateBroker.openssl != nil
    ),
    .serialized,
    .timeLimit(.minutes(1))
)
struct MosquittoClientTLSTests {
    @Test func connectsOverTLSAndVerifiesTheBroker() async throws {
        let broker = try MQTTPrivateBroker(persistence: false, tls: true)
        try broker.start()
        defer { broker.terminate() }
        let prefix = MQTTTestSupport.uniqueName("tls")
        let recorder = MQTTMessageRecorder()
        var options = MQTTTestSupport.options(port: broker.port, clientID: "\(prefix)-gw")
        options.tls = MQTTTLSOptions(caFile: broker.caFile, verifyHostname: true)
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
        let broker = try MQTTPrivateBroker(persistence: false, tls: true)
        try broker.start()
        defer { broker.terminate() }
        var options = MQTTTestSupport.options(port: broker.port, clientID: MQTTTestSupport.uniqueName("tls-bad"))
        options.tls = MQTTTLSOptions(caFile: broker.unrelatedCAFile)
        let client = try MosquittoClient(options: options, subscriptions: [], logger: MQTTTestSupport.logger) { _ in }
        client.start()
        defer { client.stop() }
        #expect(await client.waitUntilConnected(timeout: .seconds(3)) == false)
        #expect(client.statistics.connects == 0)
    }
}
