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

/// CJ/T 188, wireless M-Bus (OMS) and wired M-Bus frames published on the real broker reach the same tables as
/// native frames, through the whole gateway: per-protocol topics, a collector topic that mixes protocols, and every
/// way a frame is refused ending in quarantine with its own reason. The frames are golden vectors from
/// `firmware-protocols/*-vectors.json`.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .timeLimit(.minutes(2))
)
struct ProtocolRoutingIntegrationTests {
    /// cjt188-vectors.json `gas-901f-status-alarms`: meter 78330011223344, 556677.00 m³ now, 123.45 m³ on the
    /// settlement day, clock 2015-05-11 22:01:31, ST 07 81 (valve closed + abnormal, battery low).
    private let cjtReading = "FEFEFE68304433221100337881161F9000007766552C452301002C3101221105152007814D16"
    /// `gas-valve-close-request`: a frame to the meter.
    private let cjtValveRequest = "FEFEFE6830443322110033780404A01702994716"
    /// `gas-valve-reply-closed-one-byte`: a valve reply, no reading.
    private let cjtValveReply = "FEFEFE6830443322110033788404A01702012F16"
    /// `vendor-cat1-push`: a vendor push frame that only looks like CJ/T 188.
    private let vendorPush = "FEFE6810443322110033780197000100020F007766552C2605152201310E1000008716"
    /// wmbus-vectors.json `oms-gas-mode7`: ELS-12345678-51-03, mode 7 with AFL CMAC, 28504.27 m³ at
    /// 2008-05-31 23:50.
    private let omsMode7 =
        "434493157856341233038C2075900F002C25B30A000021924D4F2FB66E017A75002007109058475F4BC91DF878B80A1B0F98B629024AAC727942BFC549233C0140829B93"
    private let omsKey = "000102030405060708090A0B0C0D0E0F"
    /// `already-decrypted-mode5`: test data stored decrypted, same meter.
    private let alreadyDecrypted =
        "2E4493157856341233037A2A0020252F2F0C1427048502046D32371F1502FD1700002F2F2F2F2F2F2F2F2F2F2F2F2F"
    /// `status-alarm-bits`: a mode-0 (plain) frame of the same meter.
    private let plainFrame = "144493157856341233037A213300000C1427048502"
    /// `mode9-elster-gas`: ELS-12345678-80-03 in security mode 9 (AES-GCM), which the gateway cannot decrypt.
    private let mode9 =
        "2E4493157856341250037A50000129404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F"
    /// `wired-vm-vb`: wired long frame of GWF-87654321-60-03, Vm 917.00 m³ and Vb 6842.784 m³ at 2024-03-01 00:15.
    private let wiredVmVb =
        "6828286808017221436587E61E3C03090000000C943A001709000C933E84278406046D0F20013302FD1700000D16"
    /// `gas-vm-vb-plain`: GWF-20240001-60-03, which is not registered here.
    private let unregistered =
        "5544E61E010024203C037A100000000C943A001709000C933E842784064C14563412008C10140001000002FD74871302FD17040001FD71C30265B40802696400042210270000042620000000023B2C01046D32371F15"

    @Test func everyProtocolReachesTheSameTablesAndEveryRefusalIsQuarantined() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "routing")
        defer { environment.dropDatabase(database) }
        let configuration = try environment.configuration(
            database: database,
            clientID: "gw-routing",
            environment: [:]
        )
        #expect(configuration.meters.cjt188ClockOffsetMinutes == 480)
        #expect(configuration.meters.mbusClockOffsetMinutes == 60)
        let logger = Logger(label: "routing-test")
        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)

        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        _ = try await MeterStore(writer.database).registerMeters([
            MeterRegistration(protocol: .cjt188, address: "78330011223344", district: "east", isRural: false),
            MeterRegistration(
                protocol: .wmbus,
                address: "ELS-12345678-51-03",
                district: "west",
                isRural: false,
                aesKey: Hex.decode(omsKey)
            ),
            MeterRegistration(protocol: .mbus, address: "GWF-87654321-60-03", district: "west", isRural: true),
        ])
        // The wired meter is forwarded by collector dtu-7; no collector may speak for the CJ/T 188 meter.
        let wired = try #require(
            try await MeterStore(writer.database).lookupMeter(protocol: .mbus, address: "GWF-87654321-60-03")
        )
        #expect(try await MeterStore(writer.database).assignCollectors(meterID: wired.id, collectors: ["dtu-7"]) == 1)
        await writer.close()

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        let fleet = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "fleet-routing-\(environment.runID)"),
            subscriptions: [],
            logger: logger,
            onMessage: { _ in }
        )
        fleet.start()

        let cjtTopic = topics.uplinkTopic(.cjt188, address: "78330011223344")
        let omsTopic = topics.uplinkTopic(.wmbus, address: "12345678")
        let collectorTopic = "\(configuration.mqtt.topicPrefix)/up/collector/dtu-7"
        let otherCollectorTopic = "\(configuration.mqtt.topicPrefix)/up/collector/dtu-8"
        let sent: [(topic: String, hex: String)] = [
            (cjtTopic, cjtReading),
            (cjtTopic, cjtReading),  // a repeat: stored once
            (cjtTopic, cjtValveRequest),
            (cjtTopic, cjtValveReply),
            (collectorTopic, vendorPush),
            (omsTopic, omsMode7),
            (omsTopic, alreadyDecrypted),
            (omsTopic, plainFrame),
            (omsTopic, mode9),
            (topics.uplinkTopic(.wmbus, address: "99999999"), omsMode7),
            (topics.uplinkTopic(.wmbus, address: "20240001"), unregistered),
            (collectorTopic, wiredVmVb),
            (otherCollectorTopic, wiredVmVb),  // the meter is dtu-7's, not dtu-8's
            (collectorTopic, cjtReading),  // dtu-7 does not speak for the CJ/T 188 meter
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
            // The repeated reading is the same frame (same meter time and data identifier, same bytes): a duplicate.
            #expect(runtime.statistics.framesStored.load(ordering: .relaxed) == 3)
            #expect(runtime.statistics.duplicates(of: .cjt188) == 1)
            #expect(runtime.statistics.framesQuarantined.load(ordering: .relaxed) == 10)

            let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
            defer { db.close() }
            func rows(_ sql: String) throws -> [[String]] { try db.query(sql).map { $0.map { $0 ?? "NULL" } } }

            #expect(
                try rows(
                    """
                    SELECT m.protocol, r.source, r.kind, r.basis, r.storage, r.tariff, r.volume_ml,
                           to_char(r.read_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), r.status_bits, r.valve
                    FROM readings_validated r JOIN meters m ON m.id = r.meter_id
                    ORDER BY m.protocol, r.kind, r.basis, r.storage
                    """
                ) == [
                    // CJ/T 188 clock 22:01:31 China time; status word 0x8107; valve fault.
                    ["cjt188", "cjt188", "0", "0", "0", "0", "556677000000", "2015-05-11 14:01:31", "33031", "3"],
                    ["cjt188", "cjt188", "3", "0", "1", "0", "123450000", "2015-05-11 14:01:31", "0", "255"],
                    // Wired M-Bus via the collector: Vm and Vb apart; clock 00:15 CET.
                    ["mbus", "mbus", "0", "1", "0", "0", "917000000", "2024-02-29 23:15:00", "0", "255"],
                    ["mbus", "mbus", "0", "2", "0", "0", "6842784000", "2024-02-29 23:15:00", "0", "255"],
                    // OMS mode 7: decrypted and MAC-checked with the registered key; clock 23:50 CET.
                    ["wmbus", "wmbus", "0", "0", "0", "0", "28504270000", "2008-05-31 22:50:00", "0", "255"],
                ]
            )
            #expect(
                try rows("SELECT condition, raw_code, priority, detail FROM alarms ORDER BY raw_code") == [
                    ["valve_fault", "1", "P1", "33031"], ["battery_low", "2", "P3", "33031"],
                ]
            )
            #expect(
                try rows("SELECT condition, priority, alarm_count FROM repair_tickets ORDER BY priority") == [
                    ["valve_fault", "P1", "1"], ["battery_low", "P3", "1"],
                ]
            )
            #expect(try rows("SELECT count(*) FROM value_conflicts") == [["0"]])
            #expect(
                try rows(
                    """
                    SELECT reason, coalesce(source, '-'), coalesce(meter_address, '-'), topic
                    FROM quarantine ORDER BY reason, topic
                    """
                ) == [
                    ["already_decrypted", "wmbus", "ELS-12345678-51-03", omsTopic],
                    ["collector_not_assigned", "cjt188", "78330011223344", collectorTopic],
                    ["collector_not_assigned", "mbus", "GWF-87654321-60-03", otherCollectorTopic],
                    ["no_reading", "cjt188", "78330011223344", cjtTopic],
                    ["topic_mismatch", "wmbus", "ELS-12345678-51-03", topics.uplinkTopic(.wmbus, address: "99999999")],
                    ["unencrypted_frame", "wmbus", "ELS-12345678-51-03", omsTopic],
                    ["unknown_meter", "wmbus", "GWF-20240001-60-03", topics.uplinkTopic(.wmbus, address: "20240001")],
                    ["unsupported_security_mode", "wmbus", "ELS-12345678-80-03", omsTopic],
                    ["vendor_frame", "cjt188", "-", collectorTopic],
                    ["wrong_direction", "cjt188", "78330011223344", cjtTopic],
                ]
            )
            // The quarantined mode-9 frame keeps its raw bytes and names its security mode; no key material anywhere.
            let mode9Row = try rows(
                "SELECT encode(payload, 'hex'), detail FROM quarantine WHERE reason = 'unsupported_security_mode'"
            )
            #expect(mode9Row.first?.first == mode9.lowercased())
            #expect(mode9Row.first?.last?.contains("mode=9") == true, "\(mode9Row)")
            let details = try rows("SELECT detail FROM quarantine").map { $0[0] }
            #expect(!details.contains { $0.uppercased().contains(omsKey) })

            await group.triggerGracefulShutdown()
        }
        await fleet.stop()
    }
}
