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

/// Exactly once through the real broker and database: a frame's identity never depends on when it arrived, and a
/// passing database fault holds frames instead of quarantining them.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .timeLimit(.minutes(2))
)
struct ExactlyOnceIntegrationTests {
    /// wmbus-vectors.json `status-alarm-bits`: a plain frame of ELS-12345678-51-03 without a date record.
    static let clockless = "144493157856341233037A213300000C1427048502"

    /// The clock-less frame with another access number (byte 11): another frame of the same meter.
    static func clockless(accessNumber: UInt8) -> [UInt8] {
        var bytes = Hex.decode(clockless) ?? []
        bytes[11] = accessNumber
        return bytes
    }

    static func registerClocklessMeter(_ configuration: GatewayConfiguration, logger: Logger) async throws {
        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        _ = try await MeterStore(writer.database).registerMeters([
            MeterRegistration(protocol: .wmbus, address: "ELS-12345678-51-03", district: "west", isRural: false)
        ])
        await writer.close()
    }

    static func waitUntil(
        _ what: String,
        timeout: Duration = .seconds(20),
        _ condition: () throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while try !condition() {
            try #require(ContinuousClock.now < deadline, "timed out waiting until \(what)")
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func clocklessFrameDeliveredFourTimesIsOneReading() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "once")
        defer { environment.dropDatabase(database) }
        let configuration = try environment.configuration(database: database, clientID: "gw-once")
        let logger = Logger(label: "exactly-once-test")
        try await Self.registerClocklessMeter(configuration, logger: logger)
        let topic = TopicScheme(prefix: configuration.mqtt.topicPrefix).uplinkTopic(.wmbus, address: "12345678")
        let frame = try #require(Hex.decode(Self.clockless))

        let fleet = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "fleet-once-\(environment.runID)"),
            subscriptions: [],
            logger: logger,
            onMessage: { _ in }
        )
        fleet.start()
        defer { Task { await fleet.stop() } }
        #expect(await fleet.waitUntilConnected(timeout: .seconds(20)))

        // First run: the meter sends the frame three times (the last one retained, as some collectors do).
        let first = try GatewayRuntime(configuration: configuration, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            let group = first.serviceGroup(logger: logger)
            tasks.addTask { try await group.run() }
            #expect(await first.mqtt.waitUntilConnected(timeout: .seconds(20)))
            try await Self.waitUntil("the database is ready") {
                first.statistics.databaseReady.load(ordering: .relaxed)
            }
            for copy in 0..<3 {
                try await fleet.publishAndWait(topic: topic, payload: frame, retain: copy == 2)
                // Seconds apart would be the same; a pause keeps each delivery in its own batch.
                try await Task.sleep(for: .milliseconds(300))
            }
            try await Self.waitUntil("three deliveries are processed") {
                first.statistics.framesProcessed.load(ordering: .relaxed) >= 3
            }
            #expect(first.statistics.framesStored.load(ordering: .relaxed) == 1)
            #expect(first.statistics.duplicates(of: .wmbus) == 2)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }

        // Second run: subscribing again, the broker re-sends the retained message — the fourth delivery.
        let second = try GatewayRuntime(configuration: configuration, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            let group = second.serviceGroup(logger: logger)
            tasks.addTask { try await group.run() }
            #expect(await second.mqtt.waitUntilConnected(timeout: .seconds(20)))
            try await Self.waitUntil("the retained redelivery is processed") {
                second.statistics.framesProcessed.load(ordering: .relaxed) >= 1
            }
            #expect(second.statistics.retainedFrames.load(ordering: .relaxed) == 1)
            #expect(second.statistics.duplicates(of: .wmbus) == 1)
            #expect(second.statistics.framesStored.load(ordering: .relaxed) == 0)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        // Clear the retained message.
        try await fleet.publishAndWait(topic: topic, payload: [UInt8](), retain: true)

        let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
        defer { db.close() }
        func count(_ sql: String) throws -> String? { try db.query(sql).first?.first ?? nil }
        #expect(try count("SELECT count(*) FROM readings") == "1")
        #expect(try count("SELECT count(*) FROM frame_identities WHERE kind = 3") == "1")
        #expect(try count("SELECT count(*) FROM quarantine") == "0")
    }

    @Test func framesSentWhileTheDatabaseIsReadOnlyAreStoredAfterwardsAndNoneQuarantined() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "readonly")
        defer { environment.dropDatabase(database) }
        let configuration = try environment.configuration(database: database, clientID: "gw-readonly")
        let logger = Logger(label: "read-only-test")
        try await Self.registerClocklessMeter(configuration, logger: logger)
        let topic = TopicScheme(prefix: configuration.mqtt.topicPrefix).uplinkTopic(.wmbus, address: "12345678")
        let admin = try PostgresConnection.connect(conninfo: environment.baseConninfo)
        defer { admin.close() }
        /// Ends the gateway's sessions so that its next connection picks up the database's new defaults.
        func reconnectGateway() throws {
            _ = try admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                parameters: [database]
            )
        }

        let fleet = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "fleet-readonly-\(environment.runID)"),
            subscriptions: [],
            logger: logger,
            onMessage: { _ in }
        )
        fleet.start()
        defer { Task { await fleet.stop() } }
        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            let group = runtime.serviceGroup(logger: logger)
            tasks.addTask { try await group.run() }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            #expect(await fleet.waitUntilConnected(timeout: .seconds(20)))
            try await Self.waitUntil("the database is ready") {
                runtime.statistics.databaseReady.load(ordering: .relaxed)
            }

            // A failover in progress: the database accepts connections but refuses writes (SQLSTATE 25006).
            _ = try admin.execute("ALTER DATABASE \(database) SET default_transaction_read_only = on")
            try reconnectGateway()
            for accessNumber: UInt8 in [0x31, 0x32, 0x33] {
                try await fleet.publishAndWait(topic: topic, payload: Self.clockless(accessNumber: accessNumber))
            }
            try await Self.waitUntil("the pipeline holds the batch and says why") {
                runtime.statistics.hold.withLock { $0 }?.contains("25006") == true
            }
            let reasons = GatewayRuntime.notReadyReasons(
                mqtt: runtime.mqtt,
                statistics: runtime.statistics,
                spool: runtime.spool
            )
            #expect(reasons.contains { $0.contains("read-only (SQLSTATE 25006)") }, "\(reasons)")
            try await Task.sleep(for: .seconds(2))
            #expect(runtime.statistics.framesProcessed.load(ordering: .relaxed) == 0)
            #expect(runtime.statistics.framesQuarantined.load(ordering: .relaxed) == 0)

            // The fault passes.
            _ = try admin.execute("ALTER DATABASE \(database) RESET default_transaction_read_only")
            try reconnectGateway()
            try await Self.waitUntil("every held frame is stored") {
                runtime.statistics.framesStored.load(ordering: .relaxed) == 3
            }
            #expect(runtime.statistics.hold.withLock { $0 } == nil)
            #expect(runtime.statistics.framesQuarantined.load(ordering: .relaxed) == 0)
            let metrics = runtime.metrics.exposition()
            #expect(
                metrics.split(separator: "\n").contains { line in
                    line.hasPrefix("meter_gateway_db_errors_total{sqlstate=\"25006\"} ") && !line.hasSuffix(" 0")
                },
                "\(metrics)"
            )
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
        defer { db.close() }
        #expect(try db.query("SELECT count(*) FROM readings").first?.first == "3")
        #expect(try db.query("SELECT count(*) FROM quarantine").first?.first == "0")
    }
}
