import GatewayCore
import GatewayTestSupport
import PostgresSink
import Testing

@testable import GatewayApp

/// The gateway's zones (Foundation's data) and PostgreSQL's (`AT TIME ZONE`, the system's tzdata) name the same
/// days: PostgreSQL computes a day's end for the district balance (``ValidationSQL``), Swift everything else.
@Suite(.enabled(if: TestServer.isAvailable, "needs GATEWAY_TEST_PG"), .timeLimit(.minutes(1)))
struct TimeZonePostgresAgreementTests {
    /// Every quarter hour of the three days around each of Europe/Berlin's 2026 changes (2026-03-29, 2026-10-25).
    private let windows: [(String, String)] = [
        ("2026-03-27 22:00:00+00", "2026-03-31 02:00:00+00"), ("2026-10-23 22:00:00+00", "2026-10-27 02:00:00+00"),
    ]

    @Test(arguments: ["Europe/Berlin", "Asia/Shanghai", "+08:00", "-05:30", "UTC"])
    func swiftAndPostgresAgreeOnDatesAndDayBoundaries(name: String) throws {
        let zone = try #require(TimeZoneSetting.parse(name))
        let connection = try PostgresConnection.connect(conninfo: TestServer.conninfo ?? "")
        var checked = 0
        var dayLengths: Set<Int64> = []
        for (from, to) in windows {
            let rows = try connection.query(
                """
                SELECT extract(epoch FROM t)::bigint, (t AT TIME ZONE $1)::date::text,
                    extract(epoch FROM ((t AT TIME ZONE $1)::date::timestamp AT TIME ZONE $1))::bigint,
                    extract(epoch FROM (((t AT TIME ZONE $1)::date + 1)::timestamp AT TIME ZONE $1))::bigint
                FROM generate_series($2::timestamptz, $3::timestamptz, interval '15 minutes') t
                """,
                parameters: [zone.postgresName, from, to]
            )
            #expect(rows.count == 305)
            for row in rows {
                let instant = Timestamp(secondsSinceEpoch: try #require(Int64(row[0] ?? "")))
                let start = try #require(Int64(row[2] ?? ""))
                let end = try #require(Int64(row[3] ?? ""))
                #expect(zone.date(of: instant).description == row[1], "\(name) at \(instant)")
                #expect(zone.startOfDay(containing: instant).secondsSinceEpoch == start, "\(name) at \(instant)")
                #expect(zone.startOfNextDay(after: instant).secondsSinceEpoch == end, "\(name) at \(instant)")
                dayLengths.insert(end - start)
                checked += 1
            }
        }
        #expect(checked == 610)
        let expected: Set<Int64> = name == "Europe/Berlin" ? [82_800, 86_400, 90_000] : [86_400]
        #expect(dayLengths == expected)
    }
}
