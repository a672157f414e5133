import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

/// Migrations v19 and v20: `held_readings` is exactly the readings of quality 2 whatever writes them, a verdict
/// update touches no index of `readings` (it can be HOT), and the inlinable `interval_point_flags` codes and refuses
/// exactly as the PL/pgSQL function of v17 did.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct ReadingVerdictStorageTests {
    private static let heldMatchesQuality = """
        SELECT count(*) FROM (
            (SELECT meter_id, read_at, kind, basis, storage, tariff FROM held_readings
                EXCEPT ALL SELECT meter_id, read_at, kind, basis, storage, tariff FROM readings WHERE quality = 2)
            UNION ALL
            (SELECT meter_id, read_at, kind, basis, storage, tariff FROM readings WHERE quality = 2
                EXCEPT ALL SELECT meter_id, read_at, kind, basis, storage, tariff FROM held_readings)
        ) AS difference
        """

    @Test func v19BackfillsHeldReadingsAndTriggersKeepThemEqualToQualityTwo() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        #expect(try connection.migrate(through: 18) == Array(1...18))
        // 40 readings of 4 meters on two bases; every fifth suspect before the upgrade.
        try connection.executeScript(
            """
            INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, valve,
                status_bits, source, basis, protection, quality, reasons)
            SELECT i % 4, '2026-03-01 00:00Z'::timestamptz + i * interval '1 hour', i % 2, '2026-03-02 00:00Z',
                i * 100, 0, 0, 0, 'native', i % 3 / 2, 'plain',
                CASE WHEN i % 5 = 0 THEN 2 ELSE 0 END, CASE WHEN i % 5 = 0 THEN '{spike}'::text[] END
            FROM generate_series(0, 39) AS i;
            """
        )
        #expect(try connection.migrate() == Migrations.all.map(\.version).filter { $0 >= 19 })
        #expect(try database.count("held_readings") == 8)
        #expect(try database.scalar(Self.heldMatchesQuality) == "0")
        #expect(try database.scalar("SELECT count(*) FROM pg_indexes WHERE indexname = 'readings_suspect_idx'") == "0")

        // Set-based verdict changes in every direction, inserts and deletes: the side table follows.
        try connection.executeScript(
            """
            UPDATE readings SET quality = 0, reasons = NULL WHERE quality = 2 AND meter_id = 0;
            UPDATE readings SET quality = 2, reasons = '{gap}' WHERE quality = 0 AND meter_id = 1;
            UPDATE readings SET quality = 2, reasons = '{gap,spike}' WHERE quality = 2 AND meter_id = 2;
            UPDATE readings SET quality = 3 WHERE meter_id = 3 AND read_at < '2026-03-01 20:00Z';
            INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, valve,
                status_bits, source, protection, quality)
            VALUES (9, '2026-03-04 00:00Z', 0, '2026-03-04 00:01Z', 1, 0, 0, 0, 'native', 'plain', 2),
                (9, '2026-03-04 01:00Z', 0, '2026-03-04 01:01Z', 2, 0, 0, 0, 'native', 'plain', NULL);
            DELETE FROM readings WHERE meter_id = 2 AND read_at = (SELECT min(read_at) FROM held_readings
                WHERE meter_id = 2);
            """
        )
        #expect(try database.scalar(Self.heldMatchesQuality) == "0")
        let held = try #require(Int(try database.scalar("SELECT count(*) FROM readings WHERE quality = 2") ?? ""))
        #expect(held > 8)
        #expect(try database.count("held_readings") == held)
        // A reading's key never changes in the gateway, but if SQL moves a held one, its entry moves with it.
        try connection.execute("UPDATE readings SET read_at = read_at + interval '1 minute' WHERE meter_id = 9")
        #expect(try database.scalar(Self.heldMatchesQuality) == "0")
    }

    /// No index of `readings` covers a column a verdict writes, so PostgreSQL may update verdicts in place (HOT).
    @Test func noIndexOfReadingsCoversAVerdictColumn() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        _ = try connection.migrate()
        let covering = """
            SELECT count(*) FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attname IN ('quality', 'reasons', 'validated_at')
            WHERE i.indrelid = 'readings'::regclass
                AND (a.attnum = ANY (i.indkey::smallint[])
                    OR pg_get_expr(i.indpred, i.indrelid) LIKE '%' || a.attname || '%'
                    OR pg_get_expr(i.indexprs, i.indrelid) LIKE '%' || a.attname || '%')
            """
        #expect(try database.scalar(covering) == "0")
        #expect(try database.scalar("SELECT amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam "
            + "WHERE c.relname = 'readings_received_at_brin'") == "brin")
        // And an update of a verdict on a page with room is HOT (counted in the transaction's own statistics).
        try connection.executeScript(
            """
            INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, valve,
                status_bits, source, protection)
            SELECT 1, '2026-03-01 00:00Z'::timestamptz + i * interval '1 hour', 0, now(), i, 0, 0, 0, 'native', 'plain'
            FROM generate_series(1, 10) AS i;
            """
        )
        try connection.execute("BEGIN")
        try connection.execute(
            "UPDATE readings SET quality = 0, reasons = '{}', validated_at = now() WHERE read_at <= '2026-03-01 03:00Z'"
        )
        let counts = try connection.query(
            // readings is partitioned (v23): the counts are its partitions'.
            "SELECT sum(n_tup_upd), sum(n_tup_hot_upd) FROM pg_stat_xact_user_tables "
                + "WHERE relid IN (SELECT relid FROM pg_partition_tree('readings'))"
        )
        try connection.execute("COMMIT")
        #expect(counts == [["3", "3"]])
    }

    /// v20 returns every code v17's function returned and refuses the same inputs with the same SQLSTATEs.
    @Test func v20IntervalPointFlagsMatchV17() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        #expect(try connection.migrate(through: 19) == Array(1...19))
        let inputs = """
            SELECT p, k, r FROM unnest(enum_range(NULL::protection_level)) AS p,
                unnest(ARRAY[NULL, 'meter', 'default', 'other']) AS k, unnest(ARRAY[-1, 0, 1, 2047, 2048]) AS r
            ORDER BY 1, 2, 3
            """
        let rows = try connection.query(inputs)
        #expect(rows.count == 3 * 4 * 5)
        func outcomes() throws -> [String] {
            try rows.map { row in
                let call = "SELECT interval_point_flags($1::protection_level, $2, $3::integer)"
                do {
                    return try connection.query(call, parameters: row).first?.first.flatMap { $0 } ?? "NULL"
                } catch let error as PostgresError {
                    return "error " + (error.sqlState ?? "?")
                }
            }
        }
        let before = try outcomes()
        #expect(before.contains("error 23514") && before.contains("error 22003") && before.contains("0"))
        #expect(try connection.migrate() == Migrations.all.map(\.version).filter { $0 >= 20 })
        #expect(try outcomes() == before)
        // Inlined: the plan holds the expression, not a call of interval_point_flags.
        let plan = try connection.query(
            "EXPLAIN VERBOSE SELECT interval_point_flags(protection, key_source, 0) FROM readings"
        ).compactMap { $0.first ?? nil }.joined(separator: "\n")
        #expect(!plan.contains("interval_point_flags(") && plan.contains("interval_point_flags_refused"))
    }
}
