import Dispatch
import Foundation
import Logging
import Synchronization
import Testing

@testable import MQTTIngest

/// Integration tests against the broker at 127.0.0.1:$MQTT_TEST_PORT.
@Suite(
    .enabled(if: ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] != nil),
    .serialized,
    .timeLimit(.minutes(1))
)
struct MosquittoClientIntegrationTests {
    let port = Int(ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] ?? "") ?? 1883

    /// Every packet leaves at once: with Nagle's algorithm a small packet (a PUBACK, an ack, a dispatch event) that
    /// follows an unacknowledged one waits for the broker's delayed ACK, up to 40 ms.
    @Test func theConnectionSendsWithoutDelay() async throws {
        let client = try MQTTTestSupport.publisher(port: self.port, clientID: MQTTTestSupport.uniqueName("nodelay"))
        client.start()
        defer { client.stop() }
        #expect(await client.waitUntilConnected(timeout: .seconds(10)))
        #expect(client.core.sendsWithoutDelay == true)
    }

    @Test func connectsSubscribesPublishesAndReceivesExactBytes() async throws {
        let prefix = MQTTTestSupport.uniqueName("exact")
        let recorder = MQTTMessageRecorder()
        let subscriber = try MosquittoClient(
            options: MQTTTestSupport.options(port: self.port, clientID: "\(prefix)-sub"),
            // QoS 2 here only so that the QoS 2 message is delivered at QoS 2 (min of both QoS).
            subscriptions: [MQTTSubscription(filter: "\(prefix)/#", qos: .exactlyOnce)],
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
        #expect(subscriber.isConnected)

        let binary: [UInt8] = [0x00, 0xFF, 0x68, 0x10, 0x00, 0x16, 0x0D, 0x0A, 0x00] + Array(0...255)
        let topic = "\(prefix)/meters/0123456789/up/üñí"
        try await publisher.publishAndWait(topic: topic, payload: binary, qos: .atLeastOnce)
        try await publisher.publishAndWait(topic: "\(prefix)/qos0", payload: [UInt8](), qos: .atMostOnce)
        try await publisher.publishAndWait(topic: "\(prefix)/qos2", payload: Array("two".utf8), qos: .exactlyOnce)

        #expect(await recorder.waitForCount(3, timeout: .seconds(10)))
        let messages = recorder.messages
        try #require(messages.count == 3)
        #expect(messages[0].topic == topic)
        #expect(messages[0].payload == binary)
        #expect(messages[0].qos == .atLeastOnce)
        #expect(messages[0].isRetained == false)
        #expect(messages[1].topic == "\(prefix)/qos0")
        #expect(messages[1].payload.isEmpty)
        #expect(messages[1].qos == .atMostOnce)
        #expect(messages[2].payload == Array("two".utf8))
        #expect(messages[2].qos == .exactlyOnce)

        let publisherStats = publisher.statistics
        #expect(publisherStats.messagesPublished == 3)
        #expect(publisherStats.publishAcks == 3)
        #expect(subscriber.statistics.messagesReceived == 3)
        #expect(subscriber.statistics.connects == 1)
    }

    @Test(arguments: [MQTTProtocolVersion.v5, .v3_1_1])
    func persistentSessionDeliversWhatWasPublishedWhileStopped(version: MQTTProtocolVersion) async throws {
        let prefix = MQTTTestSupport.uniqueName("session")
        var options = MQTTTestSupport.options(port: self.port, clientID: "\(prefix)-gw")
        options.protocolVersion = version
        options.cleanStart = false
        options.sessionExpirySeconds = 300
        let subscriptions = [MQTTSubscription(filter: "\(prefix)/#", qos: .atLeastOnce)]

        // Client A establishes the persistent session, then goes away cleanly.
        let first = MQTTMessageRecorder()
        let clientA = try MosquittoClient(
            options: options,
            subscriptions: subscriptions,
            logger: MQTTTestSupport.logger,
            onMessage: first.record
        )
        clientA.start()
        #expect(await clientA.waitUntilConnected(timeout: .seconds(10)))
        await clientA.stop()
        #expect(!clientA.isConnected)
        #expect(clientA.statistics.disconnects == 1)

        // Messages published while the gateway is down are queued by the broker.
        let publisher = try MQTTTestSupport.publisher(port: self.port, clientID: "\(prefix)-pub")
        publisher.start()
        defer { publisher.stop() }
        #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))
        let payloads = (0..<5).map { Array("reading-\($0)".utf8) }
        for payload in payloads {
            try await publisher.publishAndWait(topic: "\(prefix)/meter/42", payload: payload, qos: .atLeastOnce)
        }

        // A new instance with the same client id receives them after reconnecting.
        let second = MQTTMessageRecorder()
        let clientB = try MosquittoClient(
            options: options,
            subscriptions: subscriptions,
            logger: MQTTTestSupport.logger,
            onMessage: second.record
        )
        clientB.start()
        defer { clientB.stop() }
        #expect(await second.waitForCount(5, timeout: .seconds(10)))
        #expect(second.messages.map(\.payload) == payloads)
        #expect(first.messages.isEmpty)
    }

    @Test func blockedHandlerAppliesBackpressureAndLosesNothing() async throws {
        let prefix = MQTTTestSupport.uniqueName("backpressure")
        let gate = DispatchSemaphore(value: 0)
        let recorder = MQTTMessageRecorder()
        let handlerEntered = Atomic<Int>(0)
        var options = MQTTTestSupport.options(port: self.port, clientID: "\(prefix)-gw")
        options.receiveMaximum = 3
        let subscriber = try MosquittoClient(
            options: options,
            subscriptions: [MQTTSubscription(filter: "\(prefix)/#", qos: .atLeastOnce)],
            logger: MQTTTestSupport.logger,
            onMessage: { message in
                if handlerEntered.add(1, ordering: .relaxed).newValue == 1 {
                    gate.wait()  // the spool is "full": block the network thread
                }
                recorder.record(message)
            }
        )
        let publisher = try MQTTTestSupport.publisher(port: self.port, clientID: "\(prefix)-pub")
        subscriber.start()
        publisher.start()
        defer {
            gate.signal()
            subscriber.stop()
            publisher.stop()
        }
        #expect(await subscriber.waitUntilConnected(timeout: .seconds(10)))
        #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))

        let count = 40
        for index in 0..<count {
            try publisher.publish(topic: "\(prefix)/m", payload: Array("\(index)".utf8), qos: .atLeastOnce)
        }
        try await Task.sleep(for: .seconds(1))
        #expect(handlerEntered.load(ordering: .relaxed) == 1, "the handler is blocked on the first message")
        #expect(recorder.messages.isEmpty)

        gate.signal()
        #expect(await recorder.waitForCount(count, timeout: .seconds(20)))
        #expect(recorder.messages.map { String(decoding: $0.payload, as: UTF8.self) } == (0..<count).map { "\($0)" })
        #expect(publisher.statistics.publishAcks == count)
    }

    @Test func publishWhileDisconnectedThrowsRetryableError() throws {
        // Port 1 on loopback: nothing listens, so the client stays disconnected.
        var options = MQTTTestSupport.options(port: 1, clientID: MQTTTestSupport.uniqueName("offline"))
        options.reconnectMinimumDelay = .milliseconds(50)
        options.reconnectMaximumDelay = .milliseconds(100)
        let client = try MosquittoClient(options: options, subscriptions: [], logger: MQTTTestSupport.logger) { _ in }
        client.start()
        #expect(!client.isConnected)
        do {
            try client.publish(topic: "meters/1/down", payload: [1, 2, 3])
            Issue.record("publish must fail while disconnected")
        } catch {
            #expect(error.code == .notConnected)
            #expect(error.isRetryable)
        }
        #expect(throws: MQTTError.self) { try client.publish(topic: "meters/+/down", payload: [1]) }
        client.stop()
        client.stop()  // idempotent
        do {
            try client.publish(topic: "meters/1/down", payload: [1])
            Issue.record("publish must fail after stop")
        } catch {
            #expect(error.code == .stopped)
        }
    }

    @Test func stopIsIdempotentAndReleasingWithoutStopShutsDown() async throws {
        let prefix = MQTTTestSupport.uniqueName("lifecycle")
        let client = try MosquittoClient(
            options: MQTTTestSupport.options(port: self.port, clientID: prefix),
            subscriptions: [MQTTSubscription(filter: "\(prefix)/#")],
            logger: MQTTTestSupport.logger
        ) { _ in }
        client.start()
        client.start()
        #expect(await client.waitUntilConnected(timeout: .seconds(10)))
        await client.stop()
        await client.stop()
        let stopSynchronously = { client.stop() }  // the blocking overload, e.g. from a deinit or defer
        stopSynchronously()
        #expect(!client.isConnected)
        #expect(await client.waitUntilConnected(timeout: .milliseconds(50)) == false)
        #expect(client.statistics.connects == 1)
        #expect(client.statistics.disconnects == 1)

        // Dropped while connected: deinit requests the shutdown; the thread then destroys the handle.
        var transient: MosquittoClient? = try MosquittoClient(
            options: MQTTTestSupport.options(port: self.port, clientID: "\(prefix)-transient"),
            subscriptions: [],
            logger: MQTTTestSupport.logger
        ) { _ in }
        transient?.start()
        #expect(await transient?.waitUntilConnected(timeout: .seconds(10)) == true)
        transient = nil
        try await Task.sleep(for: .milliseconds(200))
    }
}

// MARK: - Test support

/// What a test keeps of a delivered message (copied inside the handler, as the spool does).
struct MQTTRecordedMessage: Sendable, Equatable {
    var topic: String
    var payload: [UInt8]
    var qos: MQTTQoS
    var isRetained: Bool
}

/// Collects delivered messages; safe to call from the network thread.
final class MQTTMessageRecorder: Sendable {
    private let storage = Mutex<[MQTTRecordedMessage]>([])

    @Sendable func record(_ message: borrowing MQTTInboundMessage) {
        let copy = MQTTRecordedMessage(
            topic: message.topic,
            payload: Array(message.payload),
            qos: message.qos,
            isRetained: message.isRetained
        )
        self.storage.withLock { $0.append(copy) }
    }

    var messages: [MQTTRecordedMessage] {
        self.storage.withLock { $0 }
    }

    func waitForCount(_ count: Int, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if self.messages.count >= count {
                return true
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return self.messages.count >= count
    }
}

enum MQTTTestSupport {
    static let logger: Logger = {
        var logger = Logger(label: "mqtt-test")
        logger.logLevel = ProcessInfo.processInfo.environment["MQTT_TEST_LOG"] != nil ? .trace : .warning
        return logger
    }()

    static func uniqueName(_ stem: String) -> String {
        "gwtest-\(stem)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    static func options(port: Int, clientID: String) -> MQTTConnectionOptions {
        MQTTConnectionOptions(
            host: "127.0.0.1",
            port: port,
            clientID: clientID,
            keepAliveSeconds: 10,
            reconnectMinimumDelay: .milliseconds(100),
            reconnectMaximumDelay: .milliseconds(500)
        )
    }

    /// A publish-only client with a throw-away session.
    static func publisher(port: Int, clientID: String) throws -> MosquittoClient {
        var options = Self.options(port: port, clientID: clientID)
        options.cleanStart = true
        options.sessionExpirySeconds = 0
        return try MosquittoClient(options: options, subscriptions: [], logger: Self.logger) { _ in }
    }
}
