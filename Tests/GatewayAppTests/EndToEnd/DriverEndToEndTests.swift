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

/// An Apator AT-WMBUS-08 telegram (proprietary payload after CI A0, read by the `apator08` driver) published on
/// the real broker is stored in PostgreSQL like any reading once `meters.mbus_drivers` enables the driver, marked
/// with the inferred-scale status bit; a frame of the same manufacturer that no driver reads is quarantined. The
/// frames are golden vectors from `firmware-protocols/wmbus-driver-vectors.json`.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .timeLimit(.minutes(2))
)
struct DriverEndToEndTests {
    /// `apator08-public-0303`: wmbusmeters' test telegram, APT-004444DD-3-03 (type 03, gas on the wire);
    /// wmbusmeters prints 871.571 m³.
    private let apator0303 =
        "73441486DD4444000303A0B9E527004C4034B31CED0106FF01D093270065F022009661230054D02300EC49240018B424005F012500936D2500FFD525000E3D26001EAC26000B2027000300000000371D0B2000000000000024000000000000280000000000002C0033150C010D2F000000000000"
    /// `apator08-wrong-type-07`: APT-00000001-3-07, which no driver reads.
    private let noDriver = "0E441486010000000307A0B9E52700"

    @Test func anApatorReadingIsStoredAndAFrameWithoutDriverIsQuarantined() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "drivers")
        defer { environment.dropDatabase(database) }
        let configuration = try environment.configuration(
            database: database,
            clientID: "gw-drivers",
            environment: ["METER_GATEWAY_METERS_MBUS_DRIVERS": "apator08"]
        )
        #expect(configuration.meters.mbusDriverSet.contains(.apator08))
        let logger = Logger(label: "drivers-test")
        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)

        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        _ = try await MeterStore(writer.database).registerMeters([
            MeterRegistration(protocol: .wmbus, address: "APT-004444DD-3-03", district: "north", isRural: false),
            MeterRegistration(protocol: .wmbus, address: "APT-00000001-3-07", district: "north", isRural: false),
        ])
        await writer.close()

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        let fleet = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "fleet-drivers-\(environment.runID)"),
            subscriptions: [],
            logger: logger,
            onMessage: { _ in }
        )
        fleet.start()
        let sent: [(topic: String, hex: String)] = [
            (topics.uplinkTopic(.wmbus, address: "004444DD"), apator0303),
            (topics.uplinkTopic(.wmbus, address: "00000001"), noDriver),
        ]

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            #expect(await fleet.waitUntilConnected(timeout: .seconds(20)))
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(50))
            }
            for frame in sent {
                try await fleet.publishAndWait(topic: frame.topic, payload: try #require(Hex.decode(frame.hex)))
            }
            let deadline = ContinuousClock.now + .seconds(20)
            while runtime.statistics.framesProcessed.load(ordering: .relaxed) < sent.count {
                try #require(ContinuousClock.now < deadline, "the gateway did not process all frames in time")
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(runtime.statistics.framesStored.load(ordering: .relaxed) == 1)
            #expect(runtime.statistics.framesQuarantined.load(ordering: .relaxed) == 1)

            let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
            defer { db.close() }
            func rows(_ sql: String) throws -> [[String]] { try db.query(sql).map { $0.map { $0 ?? "NULL" } } }
            // No meter clock in the payload (bit 40) and an inferred scale (bit 41): 2^40 + 2^41.
            #expect(
                try rows(
                    """
                    SELECT m.address, r.source, r.kind, r.basis, r.storage, r.volume_ml, r.status_bits, r.protection
                    FROM readings_validated r JOIN meters m ON m.id = r.meter_id
                    """
                ) == [["APT-004444DD-3-03", "wmbus", "0", "0", "0", "871571000", "3298534883328", "plain"]]
            )
            let quarantined = try rows("SELECT reason, meter_address, detail FROM quarantine")
            #expect(quarantined.count == 1)
            #expect(quarantined.first?[0] == "unsupported_frame")
            #expect(quarantined.first?[1] == "APT-00000001-3-07")
            #expect(quarantined.first?[2].contains("no driver") == true, "\(quarantined)")

            await group.triggerGracefulShutdown()
        }
        await fleet.stop()
    }
}
