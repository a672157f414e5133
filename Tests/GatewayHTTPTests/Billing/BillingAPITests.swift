import Foundation
import GatewayCore
import GatewayDomain
import GatewayHTTP
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresSink
import Testing

/// The billing and review routes against a real database (`GATEWAY_TEST_PG`): paging by cursor delivers every
/// publication once, corrections included; the billing side cannot change anything; billing reads need the
/// `billing` role, review the `review` role, and the reviewer recorded is the credential's name, whatever the body
/// says.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["GATEWAY_TEST_PG"] != nil), .serialized)
struct BillingAPITests {
    private let review = TestCredentials.bearer(.review)
    private let billing = TestCredentials.bearer(.billing)
    /// 2026-01-01 00:00 UTC.
    private let t0 = Timestamp(secondsSinceEpoch: 1_767_225_600)
    private let day: Int64 = 86_400

    private struct Database {
        let name = "h_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let base = ProcessInfo.processInfo.environment["GATEWAY_TEST_PG"] ?? ""
        var conninfo: String { base + " dbname=\(name)" }

        func create() throws {
            let admin = try PostgresConnection.connect(conninfo: base)
            defer { admin.close() }
            try admin.execute("CREATE DATABASE \(name)")
        }

        func drop() {
            guard let admin = try? PostgresConnection.connect(conninfo: base) else { return }
            _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            admin.close()
        }
    }

    private func frozen(_ meter: Int64, day number: Int64, ml: Int64) -> ReadingRecord {
        let at = t0.adding(seconds: number * day)
        return ReadingRecord(
            meterID: meter,
            readAt: at,
            receivedAt: at.adding(seconds: 3600),
            kind: .dailyFrozen,
            volumeMillilitres: ml,
            registerModulusMillilitres: 0,
            flowMillilitresPerHour: nil,
            valve: .open,
            batteryMillivolts: nil,
            temperatureCentiCelsius: nil,
            signalDBm: nil,
            statusBits: 0,
            frameCounter: nil,
            source: .native,
            protection: .authenticated
        )
    }

    private func validateAll(_ writer: TelemetryStore) async throws {
        while true {
            let queue = try await ValidationStore(writer.database).dirtyMeters(limit: 50)
            if queue.isEmpty { return }
            for meter in queue {
                _ = try await ValidationStore(writer.database).validate(
                    meter,
                    settings: ValidationSettings(),
                    now: t0.adding(seconds: 30 * day)
                )
            }
        }
    }

    private func object(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: buffer).utf8)) as? [String: Any])
    }

    @Test func pagesDeliverEveryPublicationOnceAndReviewNeedsTheToken() async throws {
        let database = Database()
        try database.create()
        defer { database.drop() }
        let logger = Logger(label: "billing-api-test")
        let writer = TelemetryStore(conninfo: database.conninfo, logger: logger)
        _ = try await writer.migrate()
        var profile = MeterProfile(protocol: .native, address: "777")
        profile.district = "north"
        _ = try await MeterStore(writer.database).importMeters([profile], columns: [.district])
        let meters = MeterStore(writer.database)
        let meter = try #require(try await meters.lookupMeter(protocol: .native, address: "777")?.id)

        // Three days anchored by frozen totals (1, 2, 3 m³), and a periodic read whose clock is an hour off.
        var batch = SinkBatch()
        batch.readings = [
            frozen(meter, day: 0, ml: 10_000_000), frozen(meter, day: 1, ml: 11_000_000),
            frozen(meter, day: 2, ml: 13_000_000), frozen(meter, day: 3, ml: 16_000_000),
        ]
        var drifted = frozen(meter, day: 3, ml: 16_500_000)
        drifted.kind = .periodic
        drifted.readAt = t0.adding(seconds: 3 * day + 7200)
        drifted.receivedAt = drifted.readAt.adding(seconds: 3600)
        batch.readings.append(drifted)
        _ = try await writer.write(batch)
        try await validateAll(writer)

        let router = GatewayHTTPServer.makeRouter(readiness: { [] })
        BillingAPI(
            store: BillingStore(PostgresSession(conninfo: database.conninfo, logger: logger)),
            credentials: TestCredentials.store
        )
        .register(on: router)
        let application = Application(router: router)
        try await application.test(.router) { client in
            // Page 1 of 2, then page 2, then nothing new.
            var cursor = ""
            var days: [String] = []
            for expected in [2, 1, 0] {
                try await client.execute(
                    uri: "/billing/v1/daily-reads?limit=2&cursor=\(cursor)",
                    method: .get,
                    headers: billing
                ) {
                    response in
                    #expect(response.status == .ok)
                    let page = try object(response.body)
                    let reads = try #require(page["reads"] as? [[String: Any]])
                    #expect(reads.count == expected)
                    days += reads.compactMap { $0["day"] as? String }
                    #expect(page["has_more"] as? Bool == (expected == 2))
                    cursor = try #require(page["next_cursor"] as? String)
                    if let first = reads.first {
                        #expect((first["meter"] as? [String: Any])?["id"] as? String == "777")
                        #expect(first["quality"] as? String == "valid")
                        #expect(first["protection"] as? String == "authenticated")
                    }
                }
            }
            #expect(days == ["2026-01-01", "2026-01-02", "2026-01-03"])

            // The billing side cannot change anything.
            try await client.execute(uri: "/billing/v1/daily-reads", method: .post, headers: billing) { response in
                #expect(response.status != .ok)
            }
            try await client.execute(
                uri: "/billing/v1/daily-reads?cursor=not-a-cursor",
                method: .get,
                headers: billing
            ) { response in
                #expect(response.status == .badRequest)
            }

            // Billing reads need a credential; a reviewer's is not a billing one.
            try await client.execute(uri: "/billing/v1/daily-reads", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/billing/v1/daily-reads.csv", method: .get, headers: review) { response in
                #expect(response.status == .forbidden)
            }
            // Review: the drifted read is held; without the token nothing is shown or recorded, and the billing
            // credential may not see it.
            try await client.execute(uri: "/review/v1/held", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/review/v1/held", method: .get, headers: billing) { response in
                #expect(response.status == .forbidden)
            }
            var readAt = ""
            try await client.execute(
                uri: "/review/v1/held",
                method: .get,
                headers: review
            ) { response in
                #expect(response.status == .ok)
                let held = try #require(try object(response.body)["held"] as? [[String: Any]])
                #expect(held.count == 1)
                #expect(held.first?["reasons"] as? [String] == ["clock_drift", "no_flow_limits"])
                readAt = held.first?["read_at"] as? String ?? ""
            }
            let decision = """
                {"protocol":"native","meter":"777","basis":"unspecified","read_at":"\(readAt)","kind":0,
                 "decision":"accept","reviewer":"mallory","reason":"meter clock resynchronised on site"}
                """
            try await client.execute(
                uri: "/review/v1/decisions",
                method: .post,
                body: ByteBuffer(string: decision)
            ) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(
                uri: "/review/v1/decisions",
                method: .post,
                headers: review,
                body: ByteBuffer(string: decision)
            ) { response in
                #expect(response.status == .created)
            }
            // A second decision on the same read is refused: it is no longer held once revalidated.
            try await validateAll(writer)
            try await client.execute(
                uri: "/review/v1/decisions",
                method: .post,
                headers: review,
                body: ByteBuffer(string: decision)
            ) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(
                uri: "/review/v1/held",
                method: .get,
                headers: review
            ) { response in
                let held = try object(response.body)["held"] as? [[String: Any]]
                #expect(held?.isEmpty == true)
            }
            // CSV export of everything from the start.
            try await client.execute(uri: "/billing/v1/daily-reads.csv", method: .get, headers: billing) { response in
                #expect(response.status == .ok)
                let lines = String(buffer: response.body).split(separator: "\n")
                #expect(lines.first.map(String.init) == BillingCSV.header)
                #expect(lines.count == 4)
                #expect(lines.dropFirst().allSatisfy { $0.contains(",native,777,north,unspecified,2026-01-0") })
                // The last column: the days rest on native (authenticated) reads.
                #expect(lines.dropFirst().allSatisfy { $0.hasSuffix(",authenticated") })
            }
        }
        let reviewer = try PostgresConnection.connect(conninfo: database.conninfo)
        defer { reviewer.close() }
        // The credential's name, not the body's "reviewer".
        #expect(
            try reviewer.query("SELECT reviewer, reason, decision FROM reading_reviews").map { $0.map { $0 ?? "" } }
                == [
                    ["a.wang", "meter clock resynchronised on site", "accept"]
                ]
        )
        #expect(
            try reviewer.query("SELECT quality, array_to_string(reasons, ',') FROM readings_validated WHERE kind = 0")
                .map {
                    $0.map { $0 ?? "" }
                } == [["0", "clock_drift,no_flow_limits,review_accepted"]]
        )
    }
}
