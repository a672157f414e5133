import Foundation
import GatewayTestSupport
import GatewayCore
import Logging
import MQTTIngest
import PostgresSink
import ServiceLifecycle
import Synchronization
import Testing

@testable import GatewayApp

/// Frames published on the real broker reach the real database through the whole gateway, in process:
/// exact stored values, idempotence, quarantine with raw bytes, alarm → ticket with deadlines, NOTIFY, acks.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .serialized,
    .timeLimit(.minutes(2))
)
struct PipelineIntegrationTests {
    private let urbanMeter: UInt64 = 700_000_001
    private let ruralMeter: UInt64 = 700_000_002
    private let urbanKeyBytes: [UInt8] = Array(0x00...0x0F)
    private let ruralKeyBytes: [UInt8] = Array(0x10...0x1F)

    @Test func framesBecomeRowsQuarantineTicketsNotificationsAndAcks() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "pipeline")
        defer { environment.dropDatabase(database) }
        let folder = try environment.makeFolder()
        let configPath = try environment.writeConfiguration(in: folder, database: database, clientID: "gw-pipeline")
        let configuration = try GatewayConfiguration.load(
            tomlText: try String(contentsOfFile: configPath, encoding: .utf8),
            environment: [:]
        )
        let logger = Logger(label: "pipeline-test")
        let urbanKey = try #require(AES128Key(bytes: urbanKeyBytes))
        let ruralKey = try #require(AES128Key(bytes: ruralKeyBytes))
        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)

        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        _ = try await MeterStore(writer.database).registerMeters([
            MeterRegistration(
                protocol: .native,
                address: String(urbanMeter),
                district: "north",
                isRural: false,
                aesKey: urbanKeyBytes
            ),
            MeterRegistration(
                protocol: .native,
                address: String(ruralMeter),
                district: "hills",
                isRural: true,
                aesKey: ruralKeyBytes
            ),
        ])
        await writer.close()

        let listener = PostgresListener(
            conninfo: configuration.postgres.conninfo,
            channel: "ticket_events",
            logger: logger
        )
        try await listener.start()
        defer { listener.stop() }

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        let acks = Mutex<[(UInt64, NativeFrame.Ack)]>([])
        let meterKeys = [urbanMeter: urbanKey, ruralMeter: ruralKey]
        let fleet = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "fleet-pipeline-\(environment.runID)"),
            subscriptions: [MQTTSubscription(filter: topics.downlinkFilter(.native), qos: .atLeastOnce)],
            logger: logger,
            onMessage: { message in
                guard let frame = try? NativeDecoder.decode(message.payload, key: { meterKeys[$0] }),
                    case .ack(let ack) = frame.body
                else { return }
                acks.withLock { $0.append((frame.header.meterID, ack)) }
            }
        )
        fleet.start()

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            #expect(await fleet.waitUntilConnected(timeout: .seconds(20)))
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(50))
            }

            let now = UInt32(Date().timeIntervalSince1970)
            let register = NativeFrame.Register(raw: 12_345_678, exponent: -3, digits: 5)  // 12345.678 m³
            let reading = NativeFrame(
                meterID: urbanMeter,
                frameCounter: 10,
                meterTime: now - 60,
                flags: .ackRequested,
                body: .reading(
                    NativeFrame.Reading(
                        register: register,
                        flowMillilitresPerHour: 350_000,
                        valve: .open,
                        batteryMillivolts: 5900,
                        temperatureCentiCelsius: -250,
                        signalDBm: -97,
                        status: [.batteryLow]
                    )
                )
            )
            let dayStart = (now / 86_400 - 1) * 86_400
            let daily = NativeFrame(
                meterID: urbanMeter,
                frameCounter: 11,
                meterTime: now - 30,
                flags: .ackRequested,
                body: .dailyReport(
                    NativeFrame.DailyReport(
                        intervalStart: dayStart,
                        intervalMinutes: 30,
                        startRegister: NativeFrame.Register(raw: 12_000_000, exponent: -3, digits: 5),
                        points: (0..<48).map { UInt32($0 * 10) },
                        frozenTotals: [NativeFrame.FrozenTotal(time: dayStart, raw: 12_000_000)]
                    )
                )
            )
            let methane = NativeFrame(
                meterID: ruralMeter,
                frameCounter: 500,
                meterTime: now - 5,
                flags: .ackRequested,
                body: .alarm(
                    NativeFrame.Alarm(
                        code: 0x0001,
                        isRaised: true,
                        valve: .closed,
                        register: register,
                        flowMillilitresPerHour: 0,
                        detail: 2000
                    )
                )
            )
            let readingBytes = try NativeEncoder.encode(reading, key: urbanKey)
            var corrupted = readingBytes
            corrupted[24] ^= 0xFF
            let urbanTopic = topics.uplinkTopic(.native, address: String(urbanMeter))
            let ruralTopic = topics.uplinkTopic(.native, address: String(ruralMeter))
            try await fleet.publishAndWait(topic: urbanTopic, payload: readingBytes)
            try await fleet.publishAndWait(topic: urbanTopic, payload: readingBytes)  // a retransmission: stored once
            try await fleet.publishAndWait(topic: urbanTopic, payload: try NativeEncoder.encode(daily, key: urbanKey))
            try await fleet.publishAndWait(topic: ruralTopic, payload: try NativeEncoder.encode(methane, key: ruralKey))
            try await fleet.publishAndWait(topic: urbanTopic, payload: corrupted)
            try await fleet.publishAndWait(topic: ruralTopic, payload: readingBytes)  // urban frame on the rural topic

            let deadline = ContinuousClock.now + .seconds(20)
            while runtime.statistics.framesProcessed.load(ordering: .relaxed) < 6 || acks.withLock({ $0.count }) < 4 {
                try #require(ContinuousClock.now < deadline, "the gateway did not process all frames in time")
                try await Task.sleep(for: .milliseconds(50))
            }

            let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
            defer { db.close() }
            func rows(_ sql: String) throws -> [[String]] { try db.query(sql).map { $0.map { $0 ?? "NULL" } } }

            // The reading, stored once with exact scaled values.
            let readingRows = try rows(
                """
                SELECT volume_ml, register_modulus_ml, flow_ml_per_h, valve, battery_mv, temperature_centi_c, signal_dbm,
                       status_bits, frame_counter, extract(epoch FROM read_at)::bigint FROM readings r
                JOIN meters m ON m.id = r.meter_id WHERE m.address = '\(urbanMeter)' AND kind = 0
                """
            )
            #expect(
                readingRows == [
                    ["12345678000", "100000000000", "350000", "0", "5900", "-250", "-97", "2", "10", String(now - 60)]
                ]
            )
            #expect(try rows("SELECT count(*) FROM uplink_frames") == [["3"]])
            // 48 half-hour intervals: consumption i × 10 L, end index accumulating from 12000 m³.
            #expect(
                try rows("SELECT count(*), sum(volume_ml) FROM interval_readings") == [
                    ["48", String((0..<48).reduce(0) { $0 + $1 * 10_000 })]
                ]
            )
            #expect(
                try rows("SELECT volume_ml, end_index_ml FROM interval_readings ORDER BY interval_start LIMIT 2")
                    == [["0", "12000000000"], ["10000", "12000010000"]]
            )
            // The methane alarm opened one P0 ticket with rural deadlines (arrive within 60 min).
            #expect(
                try rows("SELECT condition, priority, raw_code, detail FROM alarms") == [
                    ["methane_detector", "P0", "1", "2000"]
                ]
            )
            #expect(
                try rows(
                    """
                    SELECT t.condition, t.priority, t.status, extract(epoch FROM t.arrive_by - t.opened_at)::int,
                           extract(epoch FROM t.make_safe_by - t.opened_at)::int, extract(epoch FROM t.repair_by - t.opened_at)::int
                    FROM repair_tickets t JOIN meters m ON m.id = t.meter_id WHERE m.address = '\(ruralMeter)'
                    """
                ) == [["methane_detector", "P0", "open", "3600", "21600", "86400"]]
            )
            #expect(try rows("SELECT kind, actor FROM ticket_events") == [["opened", "gateway"]])
            // Quarantine keeps the raw bytes, topic and a precise reason.
            #expect(
                try rows("SELECT reason, topic, encode(payload, 'hex') FROM quarantine ORDER BY reason")
                    == [
                        ["bad_crc", urbanTopic, Hex.encode(corrupted).lowercased()],
                        ["topic_mismatch", ruralTopic, Hex.encode(readingBytes).lowercased()],
                    ]
            )
            // Dispatch was told after commit.
            var iterator = listener.notifications.makeAsyncIterator()
            let payload = await iterator.next()?.payload ?? ""
            let event = try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]
            #expect(event?["event"] as? String == "opened", "\(payload)")
            let ticket = event?["ticket"] as? [String: Any]
            #expect(ticket?["condition"] as? String == "methane_detector", "\(payload)")
            #expect(ticket?["priority"] as? String == "P0", "\(payload)")
            // Acks after commit: the reading (its second copy is answered "duplicate"), the daily report and the
            // alarm.
            let received = acks.withLock { $0 }.map { "\($0.0)/\($0.1.ackedFrameCounter)/\($0.1.result.name)" }.sorted()
            #expect(
                received == [
                    "\(urbanMeter)/10/duplicate", "\(urbanMeter)/10/stored", "\(urbanMeter)/11/stored",
                    "\(ruralMeter)/500/stored",
                ]
            )

            await group.triggerGracefulShutdown()
        }
        await fleet.stop()
    }
}

extension PipelineIntegrationTests {
    /// A frame whose rows the database refuses (its meter was deleted after the gateway cached the registry)
    /// is quarantined alone; the frames batched with it are still stored.
    @Test func aFrameTheDatabaseRefusesIsQuarantinedAndTheRestOfItsBatchIsStored() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "refused")
        defer { environment.dropDatabase(database) }
        let folder = try environment.makeFolder()
        let configPath = try environment.writeConfiguration(in: folder, database: database, clientID: "gw-refused")
        let configuration = try GatewayConfiguration.load(
            tomlText: try String(contentsOfFile: configPath, encoding: .utf8),
            environment: [:]
        )
        let logger = Logger(label: "refused-test")
        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)
        let key = try #require(AES128Key(bytes: urbanKeyBytes))

        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        _ = try await MeterStore(writer.database).registerMeters([
            MeterRegistration(protocol: .native, address: String(urbanMeter), aesKey: urbanKeyBytes),
            MeterRegistration(protocol: .native, address: String(ruralMeter), aesKey: urbanKeyBytes),
        ])
        await writer.close()

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        let fleet = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "fleet-refused-\(environment.runID)"),
            subscriptions: [],
            logger: logger,
            onMessage: { _ in }
        )
        fleet.start()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            #expect(await fleet.waitUntilConnected(timeout: .seconds(20)))
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(50))
            }
            // The gateway admits both meters, but the database refuses the rural meter's reading rows (a CHECK-like
            // refusal, as a constraint added by an operator would give). Deleting the meter instead would race the
            // registry's incremental reload, which drops a deleted meter within one period (then: unknown_meter).
            let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
            defer { db.close() }
            _ = try db.execute(
                """
                CREATE FUNCTION refuse_rural_reading() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.meter_id = (SELECT id FROM meters WHERE address = '\(ruralMeter)') THEN
                        RAISE EXCEPTION 'reading refused by the test' USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NEW;
                END $$
                """
            )
            _ = try db.execute(
                """
                CREATE TRIGGER refuse_rural_reading BEFORE INSERT ON readings
                    FOR EACH ROW EXECUTE FUNCTION refuse_rural_reading()
                """
            )

            let now = UInt32(Date().timeIntervalSince1970)
            func reading(_ meter: UInt64, counter: UInt32) throws -> [UInt8] {
                let frame = NativeFrame(
                    meterID: meter,
                    frameCounter: counter,
                    meterTime: now - counter,
                    flags: [],
                    body: .reading(
                        NativeFrame.Reading(
                            register: NativeFrame.Register(raw: UInt64(counter) * 1000, exponent: -3, digits: 5),
                            flowMillilitresPerHour: nil,
                            valve: .open,
                            batteryMillivolts: nil,
                            temperatureCentiCelsius: nil,
                            signalDBm: nil,
                            status: []
                        )
                    )
                )
                return try NativeEncoder.encode(frame, key: key)
            }
            for counter in UInt32(1)...5 {
                let meter = counter == 3 ? ruralMeter : urbanMeter
                try fleet.publish(
                    topic: topics.uplinkTopic(.native, address: String(meter)),
                    payload: try reading(meter, counter: counter)
                )
            }
            let deadline = ContinuousClock.now + .seconds(20)
            while runtime.statistics.framesProcessed.load(ordering: .relaxed) < 5 {
                try #require(ContinuousClock.now < deadline, "the gateway did not get past the refused frame")
                try await Task.sleep(for: .milliseconds(50))
            }
            let stored = try db.query("SELECT frame_counter FROM uplink_frames ORDER BY 1").map { $0[0] ?? "" }
            #expect(stored == ["1", "2", "4", "5"])
            let quarantined = try db.query("SELECT reason, topic FROM quarantine").map { $0.map { $0 ?? "" } }
            #expect(quarantined == [["database_rejected", topics.uplinkTopic(.native, address: String(ruralMeter))]])
            await group.triggerGracefulShutdown()
        }
        await fleet.stop()
    }
}
