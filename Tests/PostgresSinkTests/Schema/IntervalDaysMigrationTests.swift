import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

/// Migration v17: the v16 `interval_readings` rows move into `interval_days`, and the view of the same name returns
/// exactly the rows, columns and types the table had.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct IntervalDaysMigrationTests {
    @Test func v17ConvertsEveryIntervalAndTheViewMatchesTheTable() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        #expect(try connection.migrate(through: 16) == Array(1...16))
        try connection.executeScript(
            """
            INSERT INTO interval_readings (meter_id, interval_start, interval_minutes, volume_ml, end_index_ml,
                received_at, protection, key_source)
            SELECT m, '2026-03-01 00:00Z'::timestamptz + i * interval '30 minutes', 30, m * 1000 + i, 500000 + i,
                '2026-03-02 01:00Z'::timestamptz + (i / 30) * interval '1 hour',
                (CASE m % 3 WHEN 0 THEN 'plain' WHEN 1 THEN 'encrypted' ELSE 'authenticated' END)::protection_level,
                CASE WHEN m % 3 > 0 THEN 'meter' WHEN m % 2 = 0 THEN 'default' END
            FROM generate_series(1, 6) AS m, generate_series(0, 95) AS i;
            -- Meter 7's end indexes are a chain (each the one before plus the interval's volume): stored as one
            -- first index.
            INSERT INTO interval_readings
            SELECT 7, '2026-03-01 00:00Z'::timestamptz + i * interval '30 minutes', 30, i, 1000 + i * (i + 1) / 2,
                '2026-03-02 01:00Z', 'plain', NULL
            FROM generate_series(0, 47) AS i;
            -- A start off the half-hour grid with microseconds, a 15-minute interval, a negative volume, a day
            -- before 1970 and a start just before midnight.
            INSERT INTO interval_readings VALUES
                (1, '2026-03-05 10:07:00.123456Z', 15, -5, 6, '2026-03-05 11:00Z', 'plain', NULL),
                (2, '1969-12-31 23:30Z', 30, 9, 9, '1970-01-01 02:00Z', 'plain', 'default'),
                (2, '2026-03-05 23:59:59.999999Z', 1, 1, 1, '2026-03-06 00:00Z', 'encrypted', 'meter');
            """
        )
        let columns = """
            SELECT column_name, data_type, udt_name FROM information_schema.columns
            WHERE table_name = 'interval_readings' ORDER BY ordinal_position
            """
        let all = "SELECT * FROM interval_readings ORDER BY meter_id, interval_start"
        let typesBefore = try connection.query(columns)
        let rowsBefore = try connection.query(all)
        let intervals: Int = 6 * 96 + 48 + 3
        #expect(rowsBefore.count == intervals)

        #expect(try connection.migrate() == Migrations.all.map(\.version).filter { $0 >= 17 })
        #expect(try connection.query(columns) == typesBefore)
        #expect(try connection.query(all) == rowsBefore)
        // 6 meters x 2 days, meter 7's day, meter 1's and meter 2's 2026-03-05 and meter 2's 1969-12-31.
        let days: Int = 6 * 2 + 1 + 3
        #expect(try database.count("interval_days") == days)
        // Explicit end indexes only where they are no chain: meters 1-6 (a day of one interval is a chain too).
        #expect(try database.count("interval_days", where: "end_index_ml IS NOT NULL") == 12)
        #expect(try database.count("interval_days", where: "offsets_frac_us IS NOT NULL") == 2)
        #expect(
            try connection.query(
                "SELECT table_type FROM information_schema.tables WHERE table_name = 'interval_readings'"
            ) == [["VIEW"]]
        )
    }
}
