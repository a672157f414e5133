import Foundation
import GatewayCore
import GatewayHTTP
import GatewayTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MQTTIngest
import PostgresSink
import ServiceLifecycle
import Synchronization
import Testing

@testable import GatewayApp

/// Protection levels through the real broker and database, with the gateway's service group in process: each
/// protocol's rows carry their level, a forged mode-5 status byte stores plain alarms that still open a ticket the
/// dispatch API marks unauthenticated, a forged mode-5 ciphertext and a downgrade are quarantined.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .serialized,
    .timeLimit(.minutes(2))
)
struct ProtectionEndToEndTests {
    static let token = "protection-desk-token-0123456789abcdef"
    /// wmbus-vectors.json `oms-gas-mode7`: ELS-12345678-51-03 (key 00…0F), message counter 2739.
    static let mode7 =
        "434493157856341233038C2075900F002C25B30A000021924D4F2FB66E017A75002007109058475F4BC91DF878B80A1B0F98B629024AAC727942BFC549233C0140829B93"
    static let mode7Key = Array(UInt8(0x00)...UInt8(0x0F))
    static let mode5Key = Array(UInt8(0x40)...UInt8(0x4F))
    static let nativeKey = Array(UInt8(0x20)...UInt8(0x2F))
    static let nativeMeter: UInt64 = 720_000_001

    @Test func everyRowCarriesItsLevelAndForgeriesAndDowngradesAreRefusedOrMarked() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "protection")
        defer { environment.dropDatabase(database) }
        let configuration = try environment.configuration(database: database, clientID: "gw-protection")
        let logger = Logger(label: "protection-test")
        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)
        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        _ = try await MeterStore(writer.database).registerMeters([
            MeterRegistration(protocol: .native, address: String(Self.nativeMeter), aesKey: Self.nativeKey),
            MeterRegistration(protocol: .cjt188, address: "78330011223344"),
            // Sends mode 7: requires authentication, so mode 5 and mode 0 from it are downgrades.
            MeterRegistration(
                protocol: .wmbus,
                address: "ELS-12345678-51-03",
                aesKey: Self.mode7Key,
                minProtection: .authenticated
            ),
            // Sends mode 5: the default minimum with a key (encrypted).
            MeterRegistration(protocol: .wmbus, address: "ELS-22345678-51-03", aesKey: Self.mode5Key),
        ])
        await writer.close()

        let mode5Key = try #require(AES128Key(bytes: Self.mode5Key))
        let mode7Key = try #require(AES128Key(bytes: Self.mode7Key))
        let nativeKey = try #require(AES128Key(bytes: Self.nativeKey))
        func plain(_ number: String, status: UInt8) -> [UInt8] {
            FaultFrames.wmbus(number: number, hundredths: 123_456, clock: nil, access: 9, status: status) ?? []
        }
        // A mode-5 frame of the mode-5 meter whose plain status byte was changed in flight to 0x1C (power low,
        // permanent error, temporary error): it still decrypts.
        var forgedStatus = try #require(MBusEncoder.encryptMode5(plain("22345678", status: 0), key: mode5Key))
        forgedStatus[12] = 0x1C
        // The same meter's frame with a changed ciphertext byte in the block that holds the volume.
        var forgedVolume = try #require(
            MBusEncoder.encryptMode5(plain("22345678", status: 0), key: mode5Key)
        )
        forgedVolume[18] ^= 0x01
        let downgradeMode5 = try #require(MBusEncoder.encryptMode5(plain("12345678", status: 0), key: mode7Key))
        let downgradePlain = plain("12345678", status: 0)
        let now = UInt32(Date().timeIntervalSince1970)
        let native = try NativeEncoder.encode(
            NativeFrame(
                meterID: Self.nativeMeter,
                frameCounter: 3,
                meterTime: now - 60,
                body: .reading(
                    NativeFrame.Reading(
                        register: NativeFrame.Register(raw: 1_000, exponent: -3, digits: 5),
                        flowMillilitresPerHour: 0,
                        valve: .open,
                        batteryMillivolts: 3600,
                        temperatureCentiCelsius: 2000,
                        signalDBm: -80,
                        status: []
                    )
                )
            ),
            key: nativeKey
        )
        let cjt188 = Hex.decode("FEFEFE68304433221100337881161F9000007766552C452301002C3101221105152007814D16") ?? []
        let sends: [(String, [UInt8])] = [
            (topics.uplinkTopic(.native, address: String(Self.nativeMeter)), native),
            (topics.uplinkTopic(.cjt188, address: "78330011223344"), cjt188),
            (topics.uplinkTopic(.wmbus, address: "12345678"), Hex.decode(Self.mode7) ?? []),
            (topics.uplinkTopic(.wmbus, address: "22345678"), forgedStatus),
            (topics.uplinkTopic(.wmbus, address: "22345678"), forgedVolume),
            (topics.uplinkTopic(.wmbus, address: "12345678"), downgradeMode5),
            (topics.uplinkTopic(.wmbus, address: "12345678"), downgradePlain),
        ]

        let fleet = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "fleet-protection-\(environment.runID)"),
            subscriptions: [],
            logger: logger,
            onMessage: { _ in }
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
            for (topic, payload) in sends { try await fleet.publishAndWait(topic: topic, payload: payload) }
            let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
            defer { db.close() }
            func rows(_ sql: String) throws -> [[String]] { try db.query(sql).map { $0.map { $0 ?? "NULL" } } }
            let deadline = ContinuousClock.now + .seconds(20)
            while try rows("SELECT (SELECT count(*) FROM quarantine) + (SELECT count(*) FROM frame_identities)")
                != [["7"]]
            {
                try #require(ContinuousClock.now < deadline, "the gateway did not take every frame in time")
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(
                try rows(
                    """
                    SELECT m.protocol || '/' || m.address, r.protection FROM readings_validated r JOIN meters m ON m.id = r.meter_id
                    GROUP BY 1, 2 ORDER BY 1
                    """
                ) == [
                    ["cjt188/78330011223344", "plain"], ["native/\(Self.nativeMeter)", "authenticated"],
                    ["wmbus/ELS-12345678-51-03", "authenticated"], ["wmbus/ELS-22345678-51-03", "encrypted"],
                ]
            )
            // The forged status byte: three plain alarms on the mode-5 meter, none suppressed.
            #expect(
                try rows(
                    """
                    SELECT a.raw_code, a.protection FROM alarms a JOIN meters m ON m.id = a.meter_id
                    WHERE m.address = 'ELS-22345678-51-03' ORDER BY a.raw_code
                    """
                ) == [["4", "plain"], ["8", "plain"], ["16", "plain"]]
            )
            #expect(try rows("SELECT DISTINCT protection FROM alarms WHERE source = 'cjt188'") == [["plain"]])
            let reasons = try rows("SELECT reason FROM quarantine ORDER BY reason").map { $0[0] }
            #expect(reasons.count == 3)
            #expect(reasons.filter { $0 == "insufficient_security" }.count == 2)
            #expect(
                reasons.contains {
                    ["wrong_key", "truncated", "bad_frame", "bad_length", "unsupported_frame"].contains($0)
                },
                "\(reasons)"
            )
            #expect(try rows("SELECT count(*) FROM repair_tickets WHERE status <> 'closed'") != [["0"]])
            await group.triggerGracefulShutdown()
        }
        await fleet.stop()

        // The dispatch API marks the tickets the plain alarms opened and shows each alarm's level.
        let router = GatewayHTTPServer.makeRouter(readiness: { [] })
        let apiDatabase = PostgresSession(conninfo: configuration.postgres.conninfo, logger: logger)
        DispatchAPI(
            store: DispatchStore(apiDatabase),
            inspections: InspectionStore(apiDatabase),
            credentials: try CredentialStore([
                try Credential(
                    name: "desk-p",
                    roles: [.dispatch],
                    tokenSHA256: Credential.hexDigest(ofToken: Self.token)
                )
            ]),
            residentialMonths: 12,
            nonResidentialMonths: 6
        ).register(on: router)
        let auth: HTTPFields = [.authorization: "Bearer \(Self.token)"]
        try await Application(router: router).test(.router) { client in
            let tickets = try await client.execute(uri: "/dispatch/v1/tickets", method: .get, headers: auth) {
                response in
                let object = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8))
                return try #require((object as? [String: Any])?["tickets"] as? [[String: Any]])
            }
            let forged = tickets.filter { ($0["meter"] as? [String: Any])?["id"] as? String == "ELS-22345678-51-03" }
            #expect(!forged.isEmpty)
            #expect(forged.allSatisfy { $0["unauthenticated_alarms"] as? Bool == true })
            #expect(forged.allSatisfy { $0["alarm_protection"] as? String == "plain" })
            let id = try #require(forged.first?["id"] as? Int)
            try await client.execute(uri: "/dispatch/v1/tickets/\(id)", method: .get, headers: auth) { response in
                let object = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8))
                let household = try #require((object as? [String: Any])?["household"] as? [String: Any])
                let alarms = try #require(household["alarms"] as? [[String: Any]])
                #expect(alarms.count == 3 && alarms.allSatisfy { $0["protection"] as? String == "plain" })
                // The ticket's events, the messages NOTIFY and the dispatch topic carry, name the alarm's level.
                let events = try #require((object as? [String: Any])?["events"] as? [[String: Any]])
                let alarmEvents = events.filter { !($0["alarm_id"] is NSNull) }
                #expect(!alarmEvents.isEmpty && alarmEvents.allSatisfy { $0["alarm_protection"] as? String == "plain" })
            }
        }
    }
}
