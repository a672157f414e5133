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

/// Compact M-Bus frames through MQTT → PostgreSQL: a compact frame that arrives before any full frame of its meter
/// is quarantined `unknown_format`; the full frame stores its layout; `quarantine replay` then stores the compact
/// frame's reading; and a second gateway process decodes a later compact frame from the persisted layout alone.
/// The frames are golden vectors from `firmware-protocols/wmbus-vectors.json` (meter GWF-20240002-60-03, mode 0).
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .serialized,
    .timeLimit(.minutes(2))
)
struct CompactFrameEndToEndTests {
    /// `compact-layout-full-frame`: CI 7A, Vm 917.00 m³ at 2024-03-01 06:00; its DIF/VIF chain has signature F3D0.
    private let fullFrame = "2844E61E020024203C037A040000000C943A001709000DFD11C35634122F02FD170000046D00060133"
    /// `compact-ci79-plain-later`: CI 79, signature F3D0, Vm 918.00 m³ at 07:00.
    private let compact79 = "1C44E61E020024203C0379D0F38F4600180900C3563412000000070133"
    /// `compact-ci7b-plain-later`: CI 7B, signature F3D0, Vm 919.00 m³ at 08:00.
    private let compact7B = "2044E61E020024203C037B06000000D0F3ADCF00190900C3563412000000080133"
    private let meter = "GWF-20240002-60-03"

    @Test func compactBeforeFullIsQuarantinedThenReplayedAndASecondGatewayUsesTheStoredLayout() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "compact")
        defer { environment.dropDatabase(database) }
        let first = try environment.configuration(database: database, clientID: "gw-compact-1", environment: [:])
        let logger = Logger(label: "compact-test")
        let topics = TopicScheme(prefix: first.mqtt.topicPrefix)
        let topic = topics.uplinkTopic(.wmbus, address: "20240002")

        let writer = TelemetryStore(conninfo: first.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        _ = try await MeterStore(writer.database).registerMeters([
            MeterRegistration(protocol: .wmbus, address: meter, district: "west", isRural: false)
        ])
        let registered = try await MeterStore(writer.database).lookupMeter(protocol: .wmbus, address: meter)
        let meterID = try #require(registered).id

        let db = try PostgresConnection.connect(conninfo: first.postgres.conninfo)
        defer { db.close() }
        func rows(_ sql: String) throws -> [[String]] { try db.query(sql).map { $0.map { $0 ?? "NULL" } } }
        let readingsSQL = """
            SELECT r.volume_ml, to_char(r.read_at AT TIME ZONE 'UTC', 'HH24:MI') FROM readings r ORDER BY r.read_at
            """

        // Gateway 1: the compact frame first (no layout known anywhere), then the full frame.
        try await runGateway(first, publishing: [(topic, compact79), (topic, fullFrame)], logger: logger) { runtime in
            #expect(runtime.statistics.framesQuarantined.load(ordering: .relaxed) == 1)
            #expect(runtime.statistics.framesStored.load(ordering: .relaxed) == 1)
        }
        let quarantined = try rows("SELECT reason, meter_address, detail FROM quarantine")
        #expect(quarantined.count == 1)
        #expect(quarantined.first?[0] == "unknown_format")
        #expect(quarantined.first?[1] == meter)
        #expect(quarantined.first?[2].contains(meter) == true && quarantined.first?[2].contains("F3D0") == true)
        // The full frame's reading (06:00 CET = 05:00 UTC) and its layout, persisted for every gateway.
        #expect(try rows(readingsSQL) == [["917000000", "05:00"]])
        #expect(
            try rows(
                """
                SELECT meter_id, signature, encode(chain, 'hex'), first_seen = last_seen FROM mbus_format_layouts
                """
            ) == [[String(meterID), String(0xF3D0), "0c943a0dfd1102fd17046d", "t"]]
        )

        // The operator replays the quarantine: the compact frame is decoded with the stored layout.
        let ladder = AdmissionLadder(
            topics: topics,
            policy: first.tickets.policy,
            clocks: first.meters.clocks,
            maxPayloadBytes: first.mqtt.maxPayloadBytes
        )
        let replay = try await QuarantineReplay(writer: writer, ladder: ladder)
            .run(reason: "unknown_format", since: nil)
        #expect(replay.outcomes == ["stored": 1])
        #expect(try rows(readingsSQL) == [["917000000", "05:00"], ["918000000", "06:00"]])

        // Gateway 2, a fresh process: it learns the layout only from the database and decodes a CI 7B frame.
        let second = try environment.configuration(database: database, clientID: "gw-compact-2", environment: [:])
        try await runGateway(second, publishing: [(topic, compact7B)], logger: logger) { runtime in
            #expect(runtime.statistics.framesStored.load(ordering: .relaxed) == 1)
            #expect(runtime.statistics.framesQuarantined.load(ordering: .relaxed) == 0)
        }
        #expect(
            try rows(readingsSQL) == [["917000000", "05:00"], ["918000000", "06:00"], ["919000000", "07:00"]]
        )
        #expect(try rows("SELECT count(*) FROM mbus_format_layouts") == [["1"]])
        await writer.close()
    }

    /// Starts a gateway, publishes the frames in order (each after the previous one was processed, so a compact
    /// frame is never admitted before the full frame before it), runs `check`, and shuts the gateway down.
    private func runGateway(
        _ configuration: GatewayConfiguration,
        publishing frames: [(topic: String, hex: String)],
        logger: Logger,
        check: (GatewayRuntime) throws -> Void
    ) async throws {
        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        let fleet = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "fleet-\(configuration.mqtt.clientID)"),
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
            for (index, frame) in frames.enumerated() {
                try await fleet.publishAndWait(topic: frame.topic, payload: try #require(Hex.decode(frame.hex)))
                let deadline = ContinuousClock.now + .seconds(20)
                while runtime.statistics.framesProcessed.load(ordering: .relaxed) < index + 1 {
                    try #require(ContinuousClock.now < deadline, "the gateway did not process the frame in time")
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            try check(runtime)
            await group.triggerGracefulShutdown()
        }
        await fleet.stop()
    }
}
