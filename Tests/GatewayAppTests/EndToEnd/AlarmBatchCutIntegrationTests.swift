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

/// Alarm frames commit ahead of their batch (``IngestPipeline``), in a transaction of their own, unless a frame of
/// their meter is before them in the batch: a meter's frames are stored in order. Batches are not cut at alarms (they
/// keep their size). Nothing is lost or stored twice, every frame is answered `stored` once, one ticket per
/// meter and condition.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .serialized,
    .timeLimit(.minutes(2))
)
struct AlarmBatchCutIntegrationTests {
    private let meter: UInt64 = 710_000_001
    private let keyBytes: [UInt8] = Array(0x20...0x2F)

    /// The configuration of a gateway on `database` (batches of at most 25 frames), whose meters are registered
    /// (native, with their keys) and its schema migrated.
    private func configuration(
        _ environment: IntegrationEnvironment,
        database: String,
        meters: [(address: UInt64, key: [UInt8], district: String)]
    ) async throws -> GatewayConfiguration {
        let folder = try environment.makeFolder()
        let configPath = try environment.writeConfiguration(in: folder, database: database, clientID: "gw-\(database)")
        var configuration = try GatewayConfiguration.load(
            tomlText: try String(contentsOfFile: configPath, encoding: .utf8),
            environment: [:]
        )
        configuration.pipeline.maxBatchFrames = 25
        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: Logger(label: "alarm-cut-setup"))
        try await writer.connect()
        _ = try await writer.migrate()
        _ = try await MeterStore(writer.database).registerMeters(
            meters.map {
                MeterRegistration(
                    protocol: .native,
                    address: String($0.address),
                    district: $0.district,
                    isRural: false,
                    aesKey: $0.key
                )
            }
        )
        await writer.close()
        return configuration
    }

    /// A native reading, or a methane alarm, of `meter` with `counter`, sent at `meterTime`, sealed with `key`.
    private static func nativeFrame(
        meter: UInt64,
        counter: UInt32,
        alarm: Bool,
        meterTime: UInt32,
        flags: NativeFrame.Flags,
        key: AES128Key
    ) throws -> [UInt8] {
        let register = NativeFrame.Register(raw: UInt64(counter) * 1000, exponent: -3, digits: 5)
        let body: NativeFrame.Body =
            alarm
            ? .alarm(
                NativeFrame.Alarm(
                    code: 0x0001,
                    isRaised: true,
                    valve: .closed,
                    register: register,
                    flowMillilitresPerHour: 0,
                    detail: Int32(counter)
                )
            )
            : .reading(
                NativeFrame.Reading(
                    register: register,
                    flowMillilitresPerHour: nil,
                    valve: .open,
                    batteryMillivolts: nil,
                    temperatureCentiCelsius: nil,
                    signalDBm: nil,
                    status: []
                )
            )
        let frame = NativeFrame(meterID: meter, frameCounter: counter, meterTime: meterTime, flags: flags, body: body)
        return try NativeEncoder.encode(frame, key: key)
    }

    /// A native meter's ack says its frame is stored: while the database refuses writes (a failover in progress,
    /// SQLSTATE 25006) the gateway holds the batch and sends no ack, though the frames are safe in its spool; once
    /// the fault passes the frames commit and each is acked `stored`, once. The meters resend unacked frames, so an
    /// early ack would be the one way to lose a reading or an alarm.
    @Test func noAckLeavesBeforeItsFrameIsCommitted() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "ackcommit")
        defer { environment.dropDatabase(database) }
        let configuration = try await configuration(
            environment,
            database: database,
            meters: [(meter, keyBytes, "north")]
        )
        let logger = Logger(label: "ack-commit-test")
        let key = try #require(AES128Key(bytes: keyBytes))
        let topic = TopicScheme(prefix: configuration.mqtt.topicPrefix).uplinkTopic(.native, address: String(meter))
        let admin = try PostgresConnection.connect(conninfo: environment.baseConninfo)
        defer { admin.close() }
        func reconnectGateway() throws {
            _ = try admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                parameters: [database]
            )
        }

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        let acks = FleetAcks()
        let fleet = try acks.subscriber(
            configuration,
            clientID: "fleet-ackcommit-\(environment.runID)",
            keys: [meter: key],
            logger: logger
        )
        fleet.start()
        defer { fleet.stop() }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            #expect(await fleet.waitUntilConnected(timeout: .seconds(20)))
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(50))
            }
            _ = try admin.execute("ALTER DATABASE \(database) SET default_transaction_read_only = on")
            try reconnectGateway()
            let now = UInt32(Date().timeIntervalSince1970)
            for counter in UInt32(1)...5 {
                let bytes = try Self.nativeFrame(
                    meter: meter,
                    counter: counter,
                    alarm: counter == 3,
                    meterTime: now - 10 + counter,
                    flags: .ackRequested,
                    key: key
                )
                try await fleet.publishAndWait(topic: topic, payload: bytes)
            }
            var deadline = ContinuousClock.now + .seconds(60)
            while runtime.statistics.hold.withLock({ $0 })?.contains("25006") != true {
                try #require(ContinuousClock.now < deadline, "the gateway did not hold the batch")
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .seconds(2))
            #expect(acks.count == 0, "acked before commit: \(acks.all)")
            #expect(runtime.statistics.framesStored.load(ordering: .relaxed) == 0)

            _ = try admin.execute("ALTER DATABASE \(database) RESET default_transaction_read_only")
            try reconnectGateway()
            deadline = ContinuousClock.now + .seconds(60)
            while acks.count < 5 {
                try #require(ContinuousClock.now < deadline, "the gateway did not ack after the fault")
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(acks.all.sorted() == (1...5).map { "\(meter)/\($0)/stored" }.sorted())
            #expect(runtime.statistics.framesStored.load(ordering: .relaxed) == 5)
            await group.triggerGracefulShutdown()
        }
    }

    @Test func oneMetersAlarmsStayInOrderWithItsOtherFrames() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "alarmcut")
        defer { environment.dropDatabase(database) }
        let configuration = try await configuration(
            environment,
            database: database,
            meters: [(meter, keyBytes, "north")]
        )
        let logger = Logger(label: "alarm-cut-test")
        let key = try #require(AES128Key(bytes: keyBytes))
        let topic = TopicScheme(prefix: configuration.mqtt.topicPrefix).uplinkTopic(.native, address: String(meter))

        // The backlog, in the spool before the gateway starts (as after a restart): readings 1…70 of one meter with
        // methane alarms at counters 10, 12 and 55, batches of at most 25 frames: 1…25, 26…50, 51…70, each in one
        // transaction (every alarm has an earlier frame of its meter in its batch).
        let alarms: Set<UInt32> = [10, 12, 55]
        let now = UInt32(Date().timeIntervalSince1970)
        do {
            let spool = try FrameSpool(directory: configuration.spool.directory)
            for counter in UInt32(1)...70 {
                let bytes = try Self.nativeFrame(
                    meter: meter,
                    counter: counter,
                    alarm: alarms.contains(counter),
                    meterTime: now - 100 + counter,
                    flags: [],
                    key: key
                )
                Array(topic.utf8).withUnsafeBytes { topicBytes in
                    bytes.withUnsafeBytes { payload in
                        spool.writer.stage(topic: topicBytes, payload: payload, receivedAt: .now)
                    }
                }
            }
            try spool.writer.commitStaged()
        }

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            // The wait includes the gateway's start (migration check, registry load): in a full parallel run on 2
            // cores that alone took 23 s once, and the test took 68-70 s in passing runs; it checks order, not speed.
            let deadline = ContinuousClock.now + .seconds(60)
            while runtime.statistics.framesProcessed.load(ordering: .relaxed) < 70 {
                try #require(ContinuousClock.now < deadline, "the gateway did not process the backlog in time")
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(runtime.statistics.commits.load(ordering: .relaxed) == 3)
            #expect(runtime.statistics.alarmFirstCommits.load(ordering: .relaxed) == 0)
            #expect(runtime.statistics.framesStored.load(ordering: .relaxed) == 70)

            let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
            defer { db.close() }
            func rows(_ sql: String) throws -> [[String]] { try db.query(sql).map { $0.map { $0 ?? "NULL" } } }
            // Every frame once. The transaction that wrote each frame (xmin: `uplink_frames` rows are never updated)
            // shows the cuts: consecutive runs of one transaction, in commit order.
            let frames = try rows("SELECT frame_counter, xmin::text::bigint FROM uplink_frames ORDER BY frame_counter")
            #expect(frames.map { $0[0] } == (1...70).map(String.init))
            var runs: [(transaction: Int64, frames: Int)] = []
            for frame in frames {
                let transaction = Int64(frame[1]) ?? -1
                if runs.last?.transaction == transaction {
                    runs[runs.count - 1].frames += 1
                } else {
                    runs.append((transaction, 1))
                }
            }
            #expect(runs.map(\.frames) == [25, 25, 20])
            #expect(runs.map(\.transaction) == runs.map(\.transaction).sorted(), "committed in spool order")
            #expect(Set(runs.map(\.transaction)).count == 3)
            let alarmRows = try rows("SELECT frame_counter FROM alarms ORDER BY frame_counter")
            #expect(alarmRows == [["10"], ["12"], ["55"]])
            let tickets = try rows("SELECT condition, alarm_count FROM repair_tickets")
            #expect(tickets == [["methane_detector", "3"]])
            await group.triggerGracefulShutdown()
        }
    }

    /// Alarm frames whose batch holds no earlier frame of their meter commit first, together: their tickets do not
    /// wait for the frames read before them. Spool (batches of 25): A1…A9, B100 (alarm), C200 (alarm), A10…A12,
    /// C201 (alarm), A13…A22 | A23…A34, B101, A35, B102 (alarm, but B101 is before it), A36…A40. Batch 1 commits
    /// B100, C200, C201 first, then A1…A22; batch 2 in one transaction. Every frame is stored once and answered
    /// `stored` once; the split batch counts as one batch and no duplicate.
    @Test func anAlarmCommitsAheadOfOtherMetersFramesReadBeforeIt() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "alarmfirst")
        defer { environment.dropDatabase(database) }
        let (meterA, meterB, meterC): (UInt64, UInt64, UInt64) = (710_000_011, 710_000_012, 710_000_013)
        let keyBytesA: [UInt8] = Array(0x30...0x3F)
        let keyBytesC: [UInt8] = Array(0x40...0x4F)
        let configuration = try await configuration(
            environment,
            database: database,
            meters: [(meterA, keyBytesA, "north"), (meterB, keyBytes, "north"), (meterC, keyBytesC, "south")]
        )
        let logger = Logger(label: "alarm-first-test")
        let keys = [
            meterA: try #require(AES128Key(bytes: keyBytesA)),
            meterB: try #require(AES128Key(bytes: keyBytes)),
            meterC: try #require(AES128Key(bytes: keyBytesC)),
        ]
        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)

        let now = UInt32(Date().timeIntervalSince1970)
        func frame(_ meter: UInt64, _ counter: UInt32, alarm: Bool) throws -> (topic: String, bytes: [UInt8]) {
            let bytes = try Self.nativeFrame(
                meter: meter,
                counter: counter,
                alarm: alarm,
                meterTime: now - 200 + counter,
                flags: .ackRequested,
                key: try #require(keys[meter])
            )
            return (topics.uplinkTopic(.native, address: String(meter)), bytes)
        }
        var spooled: [(topic: String, bytes: [UInt8])] = []
        for counter in UInt32(1)...9 { spooled.append(try frame(meterA, counter, alarm: false)) }
        spooled.append(try frame(meterB, 100, alarm: true))
        spooled.append(try frame(meterC, 200, alarm: true))
        for counter in UInt32(10)...12 { spooled.append(try frame(meterA, counter, alarm: false)) }
        spooled.append(try frame(meterC, 201, alarm: true))
        for counter in UInt32(13)...34 { spooled.append(try frame(meterA, counter, alarm: false)) }
        spooled.append(try frame(meterB, 101, alarm: false))
        spooled.append(try frame(meterA, 35, alarm: false))
        spooled.append(try frame(meterB, 102, alarm: true))
        for counter in UInt32(36)...40 { spooled.append(try frame(meterA, counter, alarm: false)) }

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        let acks = FleetAcks()
        let fleet = try acks.subscriber(
            configuration,
            clientID: "fleet-alarmfirst-\(environment.runID)",
            keys: keys,
            logger: logger
        )
        fleet.start()
        defer { fleet.stop() }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            #expect(await fleet.waitUntilConnected(timeout: .seconds(20)))
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(50))
            }
            // The whole backlog becomes readable at once (one spool commit), as after a burst.
            for record in spooled {
                Array(record.topic.utf8).withUnsafeBytes { topic in
                    record.bytes.withUnsafeBytes { payload in
                        runtime.spool.writer.stage(topic: topic, payload: payload, receivedAt: .now)
                    }
                }
            }
            try runtime.spool.writer.commitStaged()

            let deadline = ContinuousClock.now + .seconds(30)
            while runtime.statistics.framesProcessed.load(ordering: .relaxed) < 45 || acks.count < 45 {
                try #require(ContinuousClock.now < deadline, "the gateway did not process and answer the backlog")
                try await Task.sleep(for: .milliseconds(50))
            }
            let statistics = runtime.statistics
            #expect(statistics.commits.load(ordering: .relaxed) == 2)
            #expect(statistics.alarmFirstCommits.load(ordering: .relaxed) == 1)
            #expect(statistics.framesStored.load(ordering: .relaxed) == 45)
            #expect(statistics.duplicates(of: .native) == 0)
            #expect(statistics.duplicates.load(ordering: .relaxed) == 0)
            // One ack per frame, each `stored`.
            let expected =
                (1...40).map { "\(meterA)/\($0)/stored" } + (100...102).map { "\(meterB)/\($0)/stored" }
                + (200...201).map { "\(meterC)/\($0)/stored" }
            #expect(acks.all.sorted() == expected.sorted())

            let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
            defer { db.close() }
            // The transaction that wrote each frame (xmin), in the order of the transactions.
            let written = try db.query(
                """
                SELECT m.address, f.frame_counter FROM uplink_frames f JOIN meters m ON m.id = f.meter_id
                ORDER BY f.xmin::text::bigint, f.frame_counter
                """
            ).map { "\($0[0] ?? "?")/\($0[1] ?? "?")" }
            let transactions =
                try db.query(
                    "SELECT count(DISTINCT xmin::text) FROM uplink_frames"
                ).first?.first ?? nil
            #expect(transactions == "3")
            let a = { (range: ClosedRange<Int>) in range.map { "\(meterA)/\($0)" } }
            #expect(
                written
                    == ["\(meterB)/100", "\(meterC)/200", "\(meterC)/201"] + a(1...22) + a(23...40)
                    + ["\(meterB)/101", "\(meterB)/102"]
            )
            let tickets = try db.query(
                """
                SELECT m.address, t.condition, t.alarm_count FROM repair_tickets t JOIN meters m ON m.id = t.meter_id
                ORDER BY m.address
                """
            ).map { $0.map { $0 ?? "" } }
            #expect(
                tickets == [
                    [String(meterB), "methane_detector", "2"], [String(meterC), "methane_detector", "2"],
                ]
            )
            await group.triggerGracefulShutdown()
        }
    }

    /// An alarm read while the batch before it commits commits at once, on the alarm connection, without waiting for
    /// that batch: meter A's batch is held on a row lock of A's counter mark (as a slow commit would be), B's alarm
    /// read meanwhile opens its ticket, A's own alarm read with it waits behind A's frames. C's alarm, read after
    /// B's commit ahead, commits ahead too (a second commit on the alarm connection) while A's batch still waits.
    /// Once the lock goes, everything is stored once and answered `stored` once.
    @Test func anAlarmReadWhileABatchCommitsDoesNotWaitForIt() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "alarmahead")
        defer { environment.dropDatabase(database) }
        let (meterA, meterB, meterC): (UInt64, UInt64, UInt64) = (710_000_021, 710_000_022, 710_000_023)
        let keyBytesA: [UInt8] = Array(0x50...0x5F)
        let keyBytesC: [UInt8] = Array(0x60...0x6F)
        let configuration = try await configuration(
            environment,
            database: database,
            meters: [(meterA, keyBytesA, "north"), (meterB, keyBytes, "north"), (meterC, keyBytesC, "south")]
        )
        let logger = Logger(label: "alarm-ahead-test")
        let keys = [
            meterA: try #require(AES128Key(bytes: keyBytesA)), meterB: try #require(AES128Key(bytes: keyBytes)),
            meterC: try #require(AES128Key(bytes: keyBytesC)),
        ]
        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)
        let now = UInt32(Date().timeIntervalSince1970)
        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        func spool(_ meter: UInt64, _ counters: ClosedRange<UInt32>, alarm: Bool) throws {
            for counter in counters {
                let bytes = try Self.nativeFrame(
                    meter: meter,
                    counter: counter,
                    alarm: alarm,
                    meterTime: now - 200 + counter,
                    flags: .ackRequested,
                    key: try #require(keys[meter])
                )
                Array(topics.uplinkTopic(.native, address: String(meter)).utf8).withUnsafeBytes { topic in
                    bytes.withUnsafeBytes { payload in
                        runtime.spool.writer.stage(topic: topic, payload: payload, receivedAt: .now)
                    }
                }
            }
            try runtime.spool.writer.commitStaged()
        }
        let group = runtime.serviceGroup(logger: logger)
        let acks = FleetAcks()
        let fleet = try acks.subscriber(
            configuration,
            clientID: "fleet-alarmahead-\(environment.runID)",
            keys: keys,
            logger: logger
        )
        fleet.start()
        defer { fleet.stop() }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            #expect(await fleet.waitUntilConnected(timeout: .seconds(20)))
            let statistics = runtime.statistics
            func waitFor(_ what: String, _ condition: () throws -> Bool) async throws {
                let deadline = ContinuousClock.now + .seconds(20)
                while try !condition() {
                    try #require(ContinuousClock.now < deadline, "timed out waiting for \(what)")
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
            defer { db.close() }
            func scalar(_ sql: String) throws -> String { try db.query(sql).first?.first.flatMap { $0 } ?? "" }
            func tickets(of meter: UInt64) throws -> String {
                try scalar(
                    "SELECT count(*) FROM repair_tickets t JOIN meters m ON m.id = t.meter_id WHERE m.address = '\(meter)'"
                )
            }
            func frames(of meter: UInt64) throws -> String {
                try scalar(
                    "SELECT count(*) FROM uplink_frames f JOIN meters m ON m.id = f.meter_id WHERE m.address = '\(meter)'"
                )
            }

            // A1 gives A its counter mark; then a session holds that mark's row, so A's next batch waits at commit.
            try spool(meterA, 1...1, alarm: false)
            try await waitFor("A1") { statistics.framesProcessed.load(ordering: .relaxed) == 1 }
            let lock = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
            defer { lock.close() }
            _ = try lock.execute("BEGIN")
            _ = try lock.query(
                "SELECT 1 FROM counter_marks WHERE meter_id = (SELECT id FROM meters WHERE address = '\(meterA)') FOR UPDATE"
            )
            try spool(meterA, 2...10, alarm: false)
            try await waitFor("A's batch to wait for the lock") {
                try scalar(
                    """
                    SELECT count(*) FROM pg_stat_activity
                    WHERE datname = current_database() AND wait_event_type = 'Lock'
                    """
                ) != "0"
            }

            // B's alarm and A's alarm arrive while A's batch waits: B's commits at once, A's stays behind A's frames.
            try spool(meterB, 100...100, alarm: true)
            try spool(meterA, 11...11, alarm: true)
            // The counter moves just after the commit that makes the ticket visible.
            try await waitFor("B's ticket, committed ahead") {
                try tickets(of: meterB) == "1" && statistics.alarmAheadCommits.load(ordering: .relaxed) == 1
            }
            #expect(try frames(of: meterB) == "1")
            #expect(try frames(of: meterA) == "1", "A's batch is still waiting")
            #expect(try tickets(of: meterA) == "0", "A's alarm does not overtake A's readings")

            // C's alarm, read after B's commit ahead ended, does not wait for A's batch either.
            try spool(meterC, 200...200, alarm: true)
            try await waitFor("C's ticket, committed ahead as well") {
                try tickets(of: meterC) == "1" && statistics.alarmAheadCommits.load(ordering: .relaxed) == 2
            }
            #expect(try frames(of: meterA) == "1", "A's batch is still waiting")

            _ = try lock.execute("ROLLBACK")
            try await waitFor("every frame processed and answered") {
                statistics.framesProcessed.load(ordering: .relaxed) == 13 && acks.count == 13
            }
            #expect(statistics.framesStored.load(ordering: .relaxed) == 13)
            #expect(statistics.duplicates(of: .native) == 0)
            let expected =
                (1...11).map { "\(meterA)/\($0)/stored" } + ["\(meterB)/100/stored", "\(meterC)/200/stored"]
            #expect(acks.all.sorted() == expected.sorted())
            #expect(try frames(of: meterA) == "11")
            #expect(try frames(of: meterB) == "1")
            #expect(try frames(of: meterC) == "1")
            #expect(try tickets(of: meterA) == "1")
            #expect(try tickets(of: meterB) == "1")
            #expect(try tickets(of: meterC) == "1")
            await group.triggerGracefulShutdown()
        }
    }
}

/// The fleet's view of the gateway's acks: a subscriber to the native downlinks that records each ack it can open as
/// "meter/counter/result".
private final class FleetAcks: Sendable {
    private let received = Mutex<[String]>([])

    var all: [String] { received.withLock { $0 } }
    var count: Int { received.withLock { $0.count } }

    /// A client (not started) that records into this list the acks of the meters whose keys it has.
    func subscriber(
        _ configuration: GatewayConfiguration,
        clientID: String,
        keys: [UInt64: AES128Key],
        logger: Logger
    ) throws -> MosquittoClient {
        try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: clientID),
            subscriptions: [
                MQTTSubscription(
                    filter: TopicScheme(prefix: configuration.mqtt.topicPrefix).downlinkFilter(.native),
                    qos: .atLeastOnce
                )
            ],
            logger: logger,
            onMessage: { message in
                guard let frame = try? NativeDecoder.decode(message.payload, key: { keys[$0] }),
                    case .ack(let ack) = frame.body
                else { return }
                self.received.withLock {
                    $0.append("\(frame.header.meterID)/\(ack.ackedFrameCounter)/\(ack.result.name)")
                }
            }
        )
    }
}
