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

/// Replay protection through the real broker and database, in process: a frame that reuses a stored counter with
/// other content is quarantined as `replayed` and answered `rejected`, while a redelivery stays a duplicate.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .serialized,
    .timeLimit(.minutes(2))
)
struct ReplayIntegrationTests {
    private let meter: UInt64 = 710_000_001
    private let keyBytes: [UInt8] = Array(0x20...0x2F)

    private func reading(counter: UInt32, meterTime: UInt32, raw: UInt64) -> NativeFrame {
        NativeFrame(
            meterID: meter,
            frameCounter: counter,
            meterTime: meterTime,
            flags: .ackRequested,
            body: .reading(
                NativeFrame.Reading(
                    register: NativeFrame.Register(raw: raw, exponent: -3, digits: 5),
                    flowMillilitresPerHour: 0,
                    valve: .open,
                    batteryMillivolts: 3600,
                    temperatureCentiCelsius: 2000,
                    signalDBm: -80,
                    status: []
                )
            )
        )
    }

    @Test func aReplayedFrameIsQuarantinedAndRejectedAndARedeliveryIsADuplicate() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "replay")
        defer { environment.dropDatabase(database) }
        let configuration = try environment.configuration(database: database, clientID: "gw-replay")
        let logger = Logger(label: "replay-test")
        let key = try #require(AES128Key(bytes: keyBytes))
        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)
        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        _ = try await MeterStore(writer.database).registerMeters([
            MeterRegistration(
                protocol: .native,
                address: String(meter),
                district: "d",
                isRural: false,
                aesKey: keyBytes
            )
        ])
        await writer.close()

        let acks = Mutex<[String]>([])
        let meterID = meter
        let fleet = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "fleet-replay-\(environment.runID)"),
            subscriptions: [MQTTSubscription(filter: topics.downlinkFilter(.native), qos: .atLeastOnce)],
            logger: logger,
            onMessage: { message in
                guard let frame = try? NativeDecoder.decode(message.payload, key: { $0 == meterID ? key : nil }),
                    case .ack(let ack) = frame.body
                else { return }
                acks.withLock { $0.append("\(ack.ackedFrameCounter)/\(ack.result.name)") }
            }
        )
        fleet.start()
        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            #expect(await fleet.waitUntilConnected(timeout: .seconds(20)))
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(50))
            }
            let now = UInt32(Date().timeIntervalSince1970)
            let topic = topics.uplinkTopic(.native, address: String(meter))
            let original = try NativeEncoder.encode(reading(counter: 20, meterTime: now - 60, raw: 1_000), key: key)
            let next = try NativeEncoder.encode(reading(counter: 21, meterTime: now - 30, raw: 1_010), key: key)
            // Counter 20 again, signed, with other content: a replay of the counter.
            let replay = try NativeEncoder.encode(reading(counter: 20, meterTime: now - 7_200, raw: 999), key: key)
            for payload in [original, next, replay, original] {
                try await fleet.publishAndWait(topic: topic, payload: payload)
                try await Task.sleep(for: .milliseconds(200))  // each in its own batch, in this order
            }
            let deadline = ContinuousClock.now + .seconds(20)
            while acks.withLock({ $0.count }) < 4 {
                try #require(ContinuousClock.now < deadline, "the gateway did not answer every frame in time")
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(acks.withLock { $0 }.sorted() == ["20/duplicate", "20/rejected", "20/stored", "21/stored"])
            #expect(runtime.statistics.framesQuarantined.load(ordering: .relaxed) == 1)

            let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
            defer { db.close() }
            func rows(_ sql: String) throws -> [[String]] { try db.query(sql).map { $0.map { $0 ?? "NULL" } } }
            #expect(
                try rows("SELECT reason, encode(payload, 'hex') FROM quarantine") == [
                    ["replayed", Hex.encode(replay).lowercased()]
                ]
            )
            #expect(try rows("SELECT count(*), max(volume_ml) FROM readings") == [["2", "1010000"]])
            #expect(try rows("SELECT kind, high_water FROM counter_marks") == [["1", "21"]])
            await group.triggerGracefulShutdown()
        }
        await fleet.stop()
    }
}
