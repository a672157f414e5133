import Foundation
import GatewayCore
import GatewayHTTP
import GatewayTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import MQTTIngest
import PostgresSink
import ServiceLifecycle
import Synchronization
import Testing

@testable import GatewayApp

/// From frames published on MQTT to the billing API's output, through the running gateway and its validator: a
/// day with an interval gap (estimated intervals, anchored total), days with interpolated boundaries (estimated),
/// then a late daily report that turns them into corrections a billing client receives exactly once.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .timeLimit(.minutes(2))
)
struct BillingEndToEndTests {
    private let meter: UInt64 = 710_000_001
    private let keyBytes: [UInt8] = Array(0x20...0x2F)
    /// The billing system's token (40 characters); its credential has the `billing` role.
    private static let token = "billing-token-" + String(repeating: "0123456789", count: 3)

    private func page(
        _ client: some TestClientProtocol,
        cursor: String
    ) async throws -> (
        reads: [[String: Any]], next: String
    ) {
        var result: ([[String: Any]], String) = ([], cursor)
        try await client.execute(
            uri: "/billing/v1/daily-reads?cursor=\(cursor)",
            method: .get,
            headers: [.authorization: "Bearer \(Self.token)"]
        ) { response in
            #expect(response.status == .ok)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
            )
            result = (object["reads"] as? [[String: Any]] ?? [], object["next_cursor"] as? String ?? "")
        }
        return result
    }

    private func summary(_ read: [String: Any]) -> String {
        let intervals = read["intervals"] as? [[String: Any]] ?? []
        let estimated = intervals.filter { $0["quality"] as? String == "estimated" }.count
        return [
            read["day"] as? String ?? "?", "v\(read["version"] as? Int ?? 0)",
            (read["is_correction"] as? Bool ?? false) ? "correction" : "first", read["quality"] as? String ?? "?",
            String(read["volume_ml"] as? Int ?? -1), "\(intervals.count)/\(estimated)",
            (read["reasons"] as? [String] ?? []).joined(separator: "+"),
        ].joined(separator: " ")
    }

    @Test func framesOnMQTTBecomeBillingDaysAndLateDataBecomesCorrections() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "billing_e2e")
        defer { environment.dropDatabase(database) }
        let configuration = try environment.configuration(
            database: database,
            clientID: "gw-billing",
            environment: [:]
        )
        let logger = Logger(label: "billing-e2e")
        let key = try #require(AES128Key(bytes: keyBytes))
        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)
        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        var profile = MeterProfile(protocol: .native, address: String(meter))
        profile.aesKey = keyBytes
        profile.qminMillilitresPerHour = 40_000
        profile.qtMillilitresPerHour = 600_000
        profile.qmaxMillilitresPerHour = 6_000_000
        profile.registerDigits = 5
        _ = try await MeterStore(writer.database).importMeters(
            [profile],
            columns: [.aesKey, .qminM3h, .qtM3h, .qmaxM3h, .registerDigits]
        )
        await writer.close()

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        let fleet = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "fleet-billing-\(environment.runID)"),
            subscriptions: [],
            logger: logger,
            onMessage: { _ in }
        )
        fleet.start()
        let topic = topics.uplinkTopic(.native, address: String(meter))
        let now = UInt32(Date().timeIntervalSince1970)
        let base = (now / 86_400 - 3) * 86_400  // 00:00 UTC three days ago
        @Sendable func dailyReport(
            counter: UInt32,
            start: UInt32,
            points: Int,
            frozen: [(UInt32, UInt64)]
        ) throws -> [UInt8] {
            try NativeEncoder.encode(
                NativeFrame(
                    meterID: meter,
                    frameCounter: counter,
                    meterTime: now - 60,
                    body: .dailyReport(
                        NativeFrame.DailyReport(
                            intervalStart: start,
                            intervalMinutes: 30,
                            startRegister: NativeFrame.Register(raw: frozen[0].1, exponent: -3, digits: 5),
                            points: Array(repeating: 25, count: points),  // 25 L each
                            frozenTotals: frozen.map { NativeFrame.FrozenTotal(time: $0.0, raw: $0.1) }
                        )
                    )
                ),
                key: key
            )
        }
        let reading = try NativeEncoder.encode(
            NativeFrame(
                meterID: meter,
                frameCounter: 2,
                meterTime: now - 30,
                body: .reading(
                    NativeFrame.Reading(
                        register: NativeFrame.Register(raw: 104_200, exponent: -3, digits: 5),
                        flowMillilitresPerHour: nil,
                        valve: .open,
                        batteryMillivolts: nil,
                        temperatureCentiCelsius: nil,
                        signalDBm: nil,
                        status: []
                    )
                )
            ),
            key: key
        )

        let router = GatewayHTTPServer.makeRouter(readiness: { [] })
        BillingAPI(
            store: BillingStore(PostgresSession(conninfo: configuration.postgres.conninfo, logger: logger)),
            credentials: try CredentialStore([
                try Credential(
                    name: "billing-feed",
                    roles: [.billing],
                    tokenSHA256: Credential.hexDigest(ofToken: Self.token)
                )
            ])
        )
        .register(on: router)
        let application = Application(router: router)

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            #expect(await fleet.waitUntilConnected(timeout: .seconds(20)))
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(50))
            }
            @Sendable func waitForPublished(_ count: Int64) async throws {
                let deadline = ContinuousClock.now + .seconds(30)
                while runtime.validationStatistics.daysPublished.load(ordering: .relaxed) < count {
                    try #require(ContinuousClock.now < deadline, "the validator did not publish \(count) days in time")
                    try await Task.sleep(for: .milliseconds(100))
                }
            }

            // Day 1: 40 of 48 intervals (1.0 m³) between frozen totals 100.0 and 101.2 m³. Then a reading now.
            try await fleet.publishAndWait(
                topic: topic,
                payload: try dailyReport(
                    counter: 1,
                    start: base,
                    points: 40,
                    frozen: [(base, 100_000), (base + 86_400, 101_200)]
                )
            )
            try await fleet.publishAndWait(topic: topic, payload: reading)
            try await waitForPublished(3)
            let day: @Sendable (UInt32) -> String = { offset in
                let civil = CivilTime(utcSeconds: Int64(base + offset * 86_400))
                return CivilDate(year: civil.year, month: civil.month, day: civil.day).description
            }
            try await application.test(.router) { client in
                let first = try await page(client, cursor: "")
                #expect(first.reads.first.map(summary) == "\(day(0)) v1 first valid 1200000 48/8 interval_gap")
                // Days 2 and 3 end between 101.2 m³ (day 2 00:00) and 104.2 m³ (now): interpolated, estimated.
                #expect(first.reads.count == 3)
                #expect(first.reads.dropFirst().allSatisfy { $0["quality"] as? String == "estimated" })
                #expect(first.reads.dropFirst().map { $0["day"] as? String } == [day(1), day(2)])

                // Day 2's report arrives late: 48 × 25 L, frozen 102.4 m³ at day 3 00:00.
                try await fleet.publishAndWait(
                    topic: topic,
                    payload: try dailyReport(
                        counter: 3,
                        start: base + 86_400,
                        points: 48,
                        frozen: [(base + 86_400, 101_200), (base + 2 * 86_400, 102_400)]
                    )
                )
                try await waitForPublished(5)
                let second = try await page(client, cursor: first.next)
                #expect(second.reads.count == 2)
                #expect(second.reads.first.map(summary) == "\(day(1)) v2 correction valid 1200000 48/0 ")
                #expect(second.reads.last?["day"] as? String == day(2))
                #expect(second.reads.last?["is_correction"] as? Bool == true)
                #expect(second.reads.last?["start_index_ml"] as? Int == 102_400_000)
                let third = try await page(client, cursor: second.next)
                #expect(third.reads.isEmpty)
                #expect(third.next == second.next)
            }
            #expect(runtime.validationStatistics.corrections.load(ordering: .relaxed) == 2)
            await group.triggerGracefulShutdown()
        }
        await fleet.stop()
    }
}
