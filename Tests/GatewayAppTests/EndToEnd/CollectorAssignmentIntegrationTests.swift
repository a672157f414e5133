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

/// A collector speaks only for its meters, through the whole gateway on the real broker and database: a frame on
/// an unassigned collector's topic is quarantined `collector_not_assigned` and leaves no reading, alarm, ticket,
/// frame identity or value conflict; the assigned collector's copy is stored; an assignment removed while the
/// gateway runs takes effect at the next registry reload.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .timeLimit(.minutes(2))
)
struct CollectorAssignmentIntegrationTests {
    /// cjt188-vectors.json `gas-901f-status-alarms`: meter 78330011223344, two readings, valve fault (P1) and
    /// battery low (P3): two tickets when stored.
    private let cjtReading = "FEFEFE68304433221100337881161F9000007766552C452301002C3101221105152007814D16"

    @Test func unassignedCollectorIsQuarantinedAndLeavesNoTrace() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "collectors")
        defer { environment.dropDatabase(database) }
        let configuration = try environment.configuration(
            database: database,
            clientID: "gw-collectors",
            environment: [:]
        )
        let logger = Logger(label: "collector-test")
        let prefix = configuration.mqtt.topicPrefix

        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        // Registered through the import path: the collectors column.
        var profile = MeterProfile(protocol: .cjt188, address: "78330011223344")
        profile.collectors = ["dtu-1", "dtu-9"]
        #expect(try await MeterStore(writer.database).importMeters([profile], columns: [.collectors]) == 1)
        let meter = try #require(
            try await MeterStore(writer.database).lookupMeter(protocol: .cjt188, address: "78330011223344")
        )
        await writer.close()

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        let fleet = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "fleet-collectors-\(environment.runID)"),
            subscriptions: [],
            logger: logger,
            onMessage: { _ in }
        )
        fleet.start()
        let frame = try #require(Hex.decode(cjtReading))
        let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
        defer { db.close() }
        func count(_ table: String) throws -> Int {
            Int(try db.query("SELECT count(*) FROM \(table)")[0][0] ?? "") ?? -1
        }

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            #expect(await fleet.waitUntilConnected(timeout: .seconds(20)))
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(50))
            }
            func publish(_ collector: String, processed: Int) async throws {
                try await fleet.publishAndWait(topic: "\(prefix)/up/collector/\(collector)", payload: frame)
                let deadline = ContinuousClock.now + .seconds(20)
                while runtime.statistics.framesProcessed.load(ordering: .relaxed) < processed {
                    try #require(ContinuousClock.now < deadline, "the gateway did not process the frame in time")
                    try await Task.sleep(for: .milliseconds(50))
                }
            }

            // The rogue collector: quarantined, nothing else written.
            try await publish("dtu-2", processed: 1)
            #expect(runtime.statistics.framesQuarantined.load(ordering: .relaxed) == 1)
            for table in ["readings", "alarms", "repair_tickets", "frame_identities", "value_conflicts"] {
                #expect(try count(table) == 0, "\(table)")
            }
            let row = try db.query("SELECT reason, source, meter_address, detail FROM quarantine")
            #expect(row.count == 1)
            #expect(row.first?[0] == "collector_not_assigned" && row.first?[1] == "cjt188")
            #expect(row.first?[2] == "78330011223344")
            #expect(row.first?[3]?.contains("collector dtu-2") == true, "\(row)")

            // The assigned collector's copy of the same bytes is stored, with its two tickets.
            try await publish("dtu-1", processed: 2)
            #expect(runtime.statistics.framesStored.load(ordering: .relaxed) == 1)
            #expect(try count("readings") == 2)
            #expect(try count("repair_tickets") == 2)

            // Unassigned while running: after the next registry reload (every 5 s) dtu-1 is refused too, before the
            // frame's identity is looked at (so it is not a duplicate but a quarantine); dtu-9 still speaks.
            let removed = try db.execute(
                "DELETE FROM collector_meters WHERE meter_id = $1 AND collector = 'dtu-1'",
                parameters: [String(meter.id)]
            )
            #expect(removed == 1)
            try await Task.sleep(for: .seconds(6))
            try await publish("dtu-1", processed: 3)
            #expect(runtime.statistics.framesQuarantined.load(ordering: .relaxed) == 2)
            try await publish("dtu-9", processed: 4)
            #expect(runtime.statistics.duplicates(of: .cjt188) == 1)
            #expect(
                try db.query("SELECT reason, topic FROM quarantine ORDER BY id").map { $0.compactMap { $0 } } == [
                    ["collector_not_assigned", "\(prefix)/up/collector/dtu-2"],
                    ["collector_not_assigned", "\(prefix)/up/collector/dtu-1"],
                ]
            )
            #expect(try count("repair_tickets") == 2)
            await group.triggerGracefulShutdown()
        }
        await fleet.stop()
    }
}
