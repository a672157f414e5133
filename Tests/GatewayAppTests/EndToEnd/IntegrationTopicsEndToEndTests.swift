import Foundation
import GatewayCore
import GatewayTestSupport
import Logging
import MQTTIngest
import PostgresSink
import ServiceLifecycle
import Synchronization
import Testing

@testable import GatewayApp

/// The topics for tools that read MQTT: every stored frame republished as JSON on
/// `<prefix>/decoded/<protocol>/<meter id>` (`mqtt.publish_decoded`), and the gateway's retained status on
/// `<prefix>/status/<client id>`: `online` while connected, `offline` after a clean stop and, through the last will,
/// after a crash.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .timeLimit(.minutes(2))
)
struct IntegrationTopicsEndToEndTests {
    private let meter: UInt64 = 730_000_001
    private let keyBytes: [UInt8] = Array(0x40...0x4F)

    /// The messages a subscriber received, retained ones included.
    private final class MessageLog: Sendable {
        let entries = Mutex<[(topic: String, text: String, retained: Bool)]>([])
    }

    /// A subscriber that keeps every message it receives.
    private final class Subscriber: Sendable {
        let log = MessageLog()
        let client: MosquittoClient

        init(options: MQTTConnectionOptions, filters: [String], logger: Logger) throws {
            let log = self.log
            client = try MosquittoClient(
                options: options,
                subscriptions: filters.map { MQTTSubscription(filter: $0, qos: .atLeastOnce) },
                logger: logger,
                onMessage: { message in
                    let topic = message.topicUTF8.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
                    let text = String(decoding: message.payload, as: UTF8.self)
                    log.entries.withLock { $0.append((topic, text, message.isRetained)) }
                }
            )
            client.start()
        }

        func texts(on topic: String) -> [String] {
            log.entries.withLock { $0 }.filter { $0.topic == topic }.map(\.text)
        }

        func waitFor(_ what: String, _ condition: () -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(20)
            while !condition() {
                try #require(ContinuousClock.now < deadline, "timed out waiting for \(what)")
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    @Test func storedFramesAreRepublishedAsJSONOnceAndTheStatusFollowsTheConnection() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "decoded")
        defer { environment.dropDatabase(database) }
        let configuration = try environment.configuration(
            database: database,
            clientID: "gw-decoded",
            environment: ["METER_GATEWAY_MQTT_PUBLISH_DECODED": "true"]
        )
        let logger = Logger(label: "decoded-e2e")
        let key = try #require(AES128Key(bytes: keyBytes))
        let prefix = configuration.mqtt.topicPrefix
        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        var profile = MeterProfile(protocol: .native, address: String(meter))
        profile.aesKey = keyBytes
        profile.isMethaneDetectorLinked = true
        _ = try await MeterStore(writer.database).importMeters([profile], columns: [.aesKey, .methaneDetectorLinked])
        let meterID = try #require(
            try await MeterStore(writer.database).lookupMeter(protocol: .native, address: String(meter))?.id
        )
        await writer.close()

        let statusTopic = "\(prefix)/status/\(configuration.mqtt.clientID)"
        let decodedTopic = "\(prefix)/decoded/native/\(meterID)"
        let subscriber = try Subscriber(
            options: configuration.fleetMQTTOptions(clientID: "decoded-sub-\(environment.runID)"),
            filters: ["\(prefix)/decoded/#", "\(prefix)/status/#"],
            logger: logger
        )
        defer { subscriber.client.stop() }
        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        let now = UInt32(Date().timeIntervalSince1970)
        let reading = try NativeEncoder.encode(
            NativeFrame(
                meterID: meter,
                frameCounter: 1,
                meterTime: now - 5,
                body: .reading(
                    NativeFrame.Reading(
                        register: NativeFrame.Register(raw: 5_000, exponent: -3, digits: 5),
                        flowMillilitresPerHour: 0,
                        valve: .open,
                        batteryMillivolts: 3600,
                        temperatureCentiCelsius: nil,
                        signalDBm: nil,
                        status: []
                    )
                )
            ),
            key: key
        )
        let alarm = try NativeEncoder.encode(
            NativeFrame(
                meterID: meter,
                frameCounter: 2,
                meterTime: now - 4,
                body: .alarm(
                    NativeFrame.Alarm(
                        code: 0x0001,
                        isRaised: true,
                        valve: .closed,
                        register: NativeFrame.Register(raw: 5_001, exponent: -3, digits: 5),
                        flowMillilitresPerHour: 0,
                        detail: 1500
                    )
                )
            ),
            key: key
        )
        let uplink = TopicScheme(prefix: prefix).uplinkTopic(.native, address: String(meter))

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            #expect(await subscriber.client.waitUntilConnected(timeout: .seconds(20)))
            try await subscriber.waitFor("online") { subscriber.texts(on: statusTopic).last == "online" }
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(50))
            }
            // The reading, the alarm, then the reading again: a duplicate, stored before, not republished.
            for (payload, processed) in [(reading, 1), (alarm, 2), (reading, 3)] {
                try await subscriber.client.publishAndWait(topic: uplink, payload: payload)
                try await subscriber.waitFor("frame \(processed) processed") {
                    runtime.statistics.framesProcessed.load(ordering: .relaxed) >= processed
                }
            }
            try await subscriber.waitFor("two decoded frames") { subscriber.texts(on: decodedTopic).count >= 2 }
            try await Task.sleep(for: .milliseconds(500))
            let decoded = subscriber.texts(on: decodedTopic)
            #expect(decoded.count == 2, "the duplicate is not republished: \(decoded)")
            #expect(runtime.statistics.decodedPublished.load(ordering: .relaxed) == 2)
            let documents = decoded.compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            try #require(documents.count == 2, "\(decoded)")
            let first = documents[0]
            #expect(first["meter_id"] as? Int == Int(meterID))
            #expect(first["protocol"] as? String == "native")
            #expect(first["frame_counter"] as? Int == 1)
            let readings = try #require(first["readings"] as? [[String: Any]])
            #expect(readings.count == 1)
            #expect(readings.first?["volume_ml"] as? Int == 5_000_000)
            #expect(readings.first?["battery_mv"] as? Int == 3600)
            #expect(readings.first?["valve"] as? String == "open")
            #expect(readings.first?["kind"] as? String == "periodic")
            #expect((first["alarms"] as? [Any])?.isEmpty == true)
            let alarms = try #require(documents[1]["alarms"] as? [[String: Any]])
            #expect(alarms.count == 1)
            #expect(alarms.first?["condition"] as? String == "methane_detector")
            #expect(alarms.first?["cleared"] as? Bool == false)
            #expect(alarms.first?["valve"] as? String == "closed")

            await group.triggerGracefulShutdown()
            try await subscriber.waitFor("offline after a clean stop") {
                subscriber.texts(on: statusTopic).last == "offline"
            }
        }
    }

    @Test func aKilledGatewayIsMarkedOfflineByItsLastWill() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "lastwill")
        defer { environment.dropDatabase(database) }
        let folder = try environment.makeFolder()
        let config = try environment.writeConfiguration(in: folder, database: database, clientID: "gw-will")
        let configuration = try GatewayConfiguration.load(
            tomlText: try String(contentsOfFile: config, encoding: .utf8),
            environment: [:]
        )
        let statusTopic = "\(configuration.mqtt.topicPrefix)/status/\(configuration.mqtt.clientID)"
        let logger = Logger(label: "lastwill-e2e")
        let subscriber = try Subscriber(
            options: configuration.fleetMQTTOptions(clientID: "will-sub-\(environment.runID)"),
            filters: [statusTopic],
            logger: logger
        )
        defer { subscriber.client.stop() }
        #expect(await subscriber.client.waitUntilConnected(timeout: .seconds(20)))
        let gateway = try environment.start(["run", "--config", config], log: folder + "/gateway.log")
        defer { kill(gateway.processIdentifier, SIGKILL) }
        try await subscriber.waitFor("online") { subscriber.texts(on: statusTopic).last == "online" }
        // No DISCONNECT: the broker sees the connection drop and publishes the will.
        kill(gateway.processIdentifier, SIGKILL)
        await gateway.exited()
        try await subscriber.waitFor("offline from the last will") {
            subscriber.texts(on: statusTopic).last == "offline"
        }
        // Retained: a subscriber that comes later reads `offline` at once.
        let late = try Subscriber(
            options: configuration.fleetMQTTOptions(clientID: "will-late-\(environment.runID)"),
            filters: [statusTopic],
            logger: logger
        )
        defer { late.client.stop() }
        try await late.waitFor("the retained status") { !late.texts(on: statusTopic).isEmpty }
        #expect(late.log.entries.withLock { $0 }.first.map { $0.text == "offline" && $0.retained } == true)
    }
}
