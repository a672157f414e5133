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

/// Manufacturer default keys through the real broker and database, with the gateway's service group in process: a
/// keyless Apator meter's frame encrypted with the published all-zero key is stored `plain` with `key_source =
/// default` when `[meters.default_keys]` lists the key, and quarantined `unknown_meter` as before when it does not.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .serialized,
    .timeLimit(.minutes(3))
)
struct DefaultKeyEndToEndTests {
    /// wmbus-vectors.json `default-key-mode5`: APA-00012345-5-03, mode 5 under the all-zero key, 28504.27 m³.
    static let frame =
        "2E4401064523010005037A3100200586448EA7445C600D6ACADE84B6C2EBADC45E4E44BB6DBC560A976064ED63937C"
    static let zeroKey = "00000000000000000000000000000000"

    /// Runs the gateway on a fresh database where the Apator meter is registered without a key, sends the frame and
    /// returns the stored readings (volume, protection, key source) and the quarantine reasons.
    private func run(defaultKeys: [String: String], name: String) async throws -> (
        readings: [[String]], reasons: [String]
    ) {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "defaultkeys_\(name)")
        defer { environment.dropDatabase(database) }
        let configuration = try environment.configuration(
            database: database,
            clientID: "gw-defaultkeys-\(name)",
            environment: defaultKeys
        )
        let logger = Logger(label: "default-key-test")
        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        _ = try await MeterStore(writer.database).registerMeters([
            MeterRegistration(protocol: .wmbus, address: "APA-00012345-5-03")
        ])
        await writer.close()

        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)
        let fleet = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "fleet-defaultkeys-\(name)-\(environment.runID)"),
            subscriptions: [],
            logger: logger,
            onMessage: { _ in }
        )
        fleet.start()
        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        var result: (readings: [[String]], reasons: [String]) = ([], [])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            #expect(await fleet.waitUntilConnected(timeout: .seconds(20)))
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(50))
            }
            try await fleet.publishAndWait(
                topic: topics.uplinkTopic(.wmbus, address: "00012345"),
                payload: Hex.decode(Self.frame) ?? []
            )
            let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
            defer { db.close() }
            func rows(_ sql: String) throws -> [[String]] { try db.query(sql).map { $0.map { $0 ?? "NULL" } } }
            let deadline = ContinuousClock.now + .seconds(20)
            while try rows("SELECT (SELECT count(*) FROM quarantine) + (SELECT count(*) FROM frame_identities)")
                != [["1"]]
            {
                try #require(ContinuousClock.now < deadline, "the gateway did not take the frame in time")
                try await Task.sleep(for: .milliseconds(100))
            }
            result.readings = try rows(
                "SELECT volume_ml::text, protection::text, coalesce(key_source, 'NULL') FROM readings_validated "
                    + "ORDER BY read_at"
            )
            result.reasons = try rows("SELECT reason FROM quarantine").map { $0[0] }
            await group.triggerGracefulShutdown()
        }
        await fleet.stop()
        return result
    }

    @Test func aKeylessMetersFrameIsStoredPlainWithTheDefaultKeyAndQuarantinedWithout() async throws {
        let opened = try await run(defaultKeys: ["METER_GATEWAY_METERS_DEFAULT_KEYS_APA": Self.zeroKey], name: "on")
        #expect(opened.readings == [["28504270000", "plain", "default"]])
        #expect(opened.reasons.isEmpty)

        let refused = try await run(defaultKeys: [:], name: "off")
        #expect(refused.readings.isEmpty)
        #expect(refused.reasons == ["unknown_meter"])
    }
}
