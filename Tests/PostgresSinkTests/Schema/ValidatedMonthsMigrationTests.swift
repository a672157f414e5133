import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

/// Migration v30: the lists of validated readings move from one row per channel and UTC day to one per channel and
/// UTC month; every reading keeps its quality and reasons in `readings_validated`, a valid reading's `validated_at`
/// becomes its month's (the latest of its days'), and the grants follow.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct ValidatedMonthsMigrationTests {
    /// Meter 1: three listed days of January 2026 (one with a held reading), one listed day of February, a
    /// reading never validated, a reading of another storage channel; meter 2: a listed day on a second basis.
    static let rows = """
        INSERT INTO meters (id, protocol, address) VALUES (1, 'native', '1'), (2, 'wmbus', '2');
        INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, status_bits,
            source, basis, storage, tariff, protection_flags, valve)
        SELECT 1, t, k, t, v, 0, 0, 1, 0, 0, 0, 6, 1
        FROM (VALUES ('2026-01-05 00:00Z'::timestamptz, 1, 100), ('2026-01-05 12:00Z', 0, 150),
            ('2026-01-06 00:00Z', 1, 200), ('2026-01-31 23:59:59.5Z', 0, 290), ('2026-02-01 00:00Z', 1, 300),
            ('2026-02-02 00:00Z', 1, 400)) AS x (t, k, v);
        INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, status_bits,
            source, basis, storage, tariff, protection_flags, valve)
        VALUES (1, '2026-01-05 00:00Z', 1, now(), 99, 0, 0, 1, 0, 1, 0, 6, 1),
            (2, '2026-01-20 00:00Z', 0, now(), 5, 0, 0, 3, 2, 0, 0, 5, 0);
        INSERT INTO validated_reading_days (meter_id, basis, day, reads, validated_at)
        SELECT meter_id, basis, (read_at AT TIME ZONE 'UTC')::date,
            array_agg((extract(epoch FROM read_at) * 1000000)::bigint * 4 + kind ORDER BY read_at, kind),
            '2026-03-01 00:00Z'::timestamptz
                + make_interval(mins => extract(day FROM min(read_at) AT TIME ZONE 'UTC')::integer)
        FROM readings
        WHERE storage = 0 AND read_at < '2026-02-02'
        GROUP BY 1, 2, 3;
        INSERT INTO reading_verdicts (meter_id, read_at, kind, basis, quality, reasons, validated_at)
        VALUES (1, '2026-01-06 00:00Z', 1, 0, 2, '{spike}', '2026-03-02 00:00Z');
        GRANT SELECT ON validated_reading_days TO PUBLIC;
        """

    static let view = """
        SELECT meter_id, read_at, kind, basis, storage, tariff, volume_ml, quality, reasons
        FROM readings_validated ORDER BY meter_id, read_at, kind, basis, storage, tariff
        """

    static func grants(_ table: String) -> String {
        """
        SELECT grantee, privilege_type FROM information_schema.role_table_grants
        WHERE table_name = '\(table)' ORDER BY 1, 2
        """
    }

    @Test func v30MovesEveryDayListIntoItsMonthAndTheViewShowsTheSameVerdicts() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        #expect(try connection.migrate(through: 29) == Migrations.all.map(\.version).filter { $0 <= 29 })
        try connection.executeScript(
            try String(contentsOf: Repository.url("config/postgres-roles.sql"), encoding: .utf8)
        )
        try connection.executeScript(Self.rows)
        let before = try connection.query(Self.view)
        // Listed: five readings of meter 1 (one held) and meter 2's; unvalidated: 2 February and the storage channel.
        #expect(before.filter { $0[7] == nil }.count == 2)
        #expect(before.filter { $0[7] == "2" }.count == 1)
        let grantsBefore = try connection.query(Self.grants("validated_reading_days"))
        #expect(grantsBefore.contains(["meter_gateway_validation", "INSERT"]))
        #expect(grantsBefore.contains(["PUBLIC", "SELECT"]))

        #expect(try connection.migrate() == Migrations.all.map(\.version).filter { $0 > 29 })

        #expect(try connection.query(Self.view) == before)
        #expect(try database.scalar("SELECT to_regclass('validated_reading_days')::text") == nil)
        #expect(try connection.query(Self.grants("validated_reading_months")) == grantsBefore)
        // One row per channel and month, codes sorted; validated_at the latest of the month's days (31 January).
        #expect(
            try connection.query(
                """
                SELECT meter_id, basis, month, cardinality(reads), reads = ARRAY(SELECT unnest(reads) ORDER BY 1),
                    validated_at = '2026-03-01 00:00Z'::timestamptz + interval '31 minutes'
                FROM validated_reading_months ORDER BY 1, 2, 3
                """
            ) == [
                ["1", "0", "2026-01-01", "4", "t", "t"],
                // 1 February's list alone, validated on its own day; meter 2's on the 20th.
                ["1", "0", "2026-02-01", "1", "t", "f"],
                ["2", "2", "2026-01-01", "1", "t", "f"],
            ]
        )
        #expect(
            try database.scalar(
                """
                SELECT validated_at FROM readings_validated
                WHERE meter_id = 1 AND read_at = '2026-01-05 12:00Z' AND storage = 0
                """
            ) == (try database.scalar("SELECT '2026-03-01 00:31+00'::timestamptz::text"))
        )
        // A month is its first day; anything else is refused.
        let refused = #expect(throws: PostgresError.self) {
            try connection.execute(
                "INSERT INTO validated_reading_months (meter_id, basis, month, reads, validated_at) "
                    + "VALUES (1, 0, '2026-04-02', '{}', now())"
            )
        }
        #expect(refused?.sqlState == "23514")
    }
}
