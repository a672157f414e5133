import Foundation
import MQTTIngest
import Testing

/// `publishAllAndWait` against the broker at 127.0.0.1:$MQTT_TEST_PORT.
@Suite(
    .enabled(if: ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] != nil),
    .serialized,
    .timeLimit(.minutes(1))
)
struct MosquittoClientPublishAllTests {
    let port = Int(ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] ?? "") ?? 1883

    @Test func aPageOfMessagesIsAcknowledgedAndArrivesInOrder() async throws {
        let prefix = MQTTTestSupport.uniqueName("all")
        let recorder = MQTTMessageRecorder()
        let subscriber = try MosquittoClient(
            options: MQTTTestSupport.options(port: self.port, clientID: "\(prefix)-sub"),
            subscriptions: [MQTTSubscription(filter: "\(prefix)/#", qos: .atLeastOnce)],
            logger: MQTTTestSupport.logger,
            onMessage: recorder.record
        )
        let publisher = try MQTTTestSupport.publisher(port: self.port, clientID: "\(prefix)-pub")
        subscriber.start()
        publisher.start()
        defer {
            subscriber.stop()
            publisher.stop()
        }
        #expect(await subscriber.waitUntilConnected(timeout: .seconds(10)))
        #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))

        // Two topics, as the dispatch priorities: the order on the connection is the order given.
        let messages = (0..<50).map { index in
            (topic: "\(prefix)/p\(index % 2)", payload: Array("\(index)".utf8))
        }
        let outcome = await publisher.publishAllAndWait(messages)
        #expect(outcome.acknowledged == 50)
        #expect(outcome.error == nil)
        #expect(publisher.statistics.publishAcks == 50)
        #expect(await recorder.waitForCount(50, timeout: .seconds(10)))
        #expect(recorder.messages.map { String(decoding: $0.payload, as: UTF8.self) } == (0..<50).map { "\($0)" })
        #expect((await publisher.publishAllAndWait([])).acknowledged == 0)
    }

    @Test func aMessageThatCannotBeQueuedEndsThePrefix() async throws {
        let prefix = MQTTTestSupport.uniqueName("all-bad")
        let publisher = try MQTTTestSupport.publisher(port: self.port, clientID: "\(prefix)-pub")
        publisher.start()
        defer { publisher.stop() }
        #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))
        let outcome = await publisher.publishAllAndWait([
            (topic: "\(prefix)/ok", payload: [1]),
            (topic: "\(prefix)/+", payload: [2]),  // a wildcard is not a topic name
            (topic: "\(prefix)/never", payload: [3]),
        ])
        #expect(outcome.acknowledged == 1)
        let error = try #require(outcome.error as? MQTTError)
        #expect(error.code == .invalidArgument)
    }

    @Test func whileDisconnectedNothingIsAcknowledged() async throws {
        var options = MQTTTestSupport.options(port: 1, clientID: MQTTTestSupport.uniqueName("all-offline"))
        options.reconnectMinimumDelay = .milliseconds(50)
        options.reconnectMaximumDelay = .milliseconds(100)
        let client = try MosquittoClient(options: options, subscriptions: [], logger: MQTTTestSupport.logger) { _ in }
        client.start()
        defer { client.stop() }
        let outcome = await client.publishAllAndWait([(topic: "meters/1/down", payload: [1])], timeout: .seconds(1))
        #expect(outcome.acknowledged == 0)
        #expect((outcome.error as? MQTTError)?.code == .notConnected)
    }
}
