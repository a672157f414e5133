import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

/// Migration v26: `interval_days` rows become NULL + scalar where a normal day is regular and keep every irregular
/// array; `interval_readings` returns exactly the rows it returned before; `frame_identities.source` becomes a code
/// and its `stored_at` index a BRIN; partitions and grants stay.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct CompactLayoutMigrationTests {
    @Test func v26CompactsIntervalDaysAndTheViewShowsTheSameRows() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        #expect(try connection.migrate(through: 24) == Migrations.all.map(\.version).filter { $0 <= 24 })
        try connection.executeScript(
            try String(contentsOf: Repository.url("config/postgres-roles.sql"), encoding: .utf8)
        )
        try connection.executeScript(
            """
            -- Meters 1-20: a normal day each (48 regular half hours, one flag, one receipt, a chain of end indexes),
            -- spread over two months (this month's partition and an older one).
            INSERT INTO interval_days (meter_id, day, first_index_ml, offsets_s, minutes, volumes_ml, flags, receipts)
            SELECT m, CASE WHEN m % 2 = 0 THEN current_date ELSE date '2020-01-15' END, 1000 + m,
                array_agg(i * 1800 ORDER BY i), array_agg(30::smallint ORDER BY i),
                array_agg((m * 100 + i)::bigint ORDER BY i), array_agg(6::smallint ORDER BY i),
                ARRAY['2026-03-02 01:00Z'::timestamptz]
            FROM generate_series(1, 20) AS m, generate_series(0, 47) AS i
            GROUP BY m;
            -- Meter 21: irregular starts with microseconds, mixed minutes, flags with two receipts, explicit end
            -- indexes, a volume beyond 32 bits.
            INSERT INTO interval_days (meter_id, day, first_index_ml, offsets_s, offsets_frac_us, minutes, volumes_ml,
                end_index_ml, flags, receipts)
            VALUES (21, '2026-03-05', 7, '{0,900,2700,36127}', '{0,0,0,123456}', '{15,30,30,1}',
                '{-5,0,5000000000,3}', '{7,9,11,13}', '{6,6,22,0}',
                ARRAY['2026-03-05 11:00Z', '2026-03-05 12:00Z']::timestamptz[]);
            -- Meter 22: one interval; meter 23: regular starts but two flags; meter 24: regular but two minutes.
            INSERT INTO interval_days (meter_id, day, first_index_ml, offsets_s, minutes, volumes_ml, flags, receipts)
            VALUES (22, '1969-12-31', 9, '{84600}', '{30}', '{9}', '{8}', ARRAY['1970-01-01 02:00Z'::timestamptz]),
                (23, '2026-03-06', 0, '{0,3600,7200}', '{60,60,60}', '{1,2,3}', '{6,0,6}',
                    ARRAY['2026-03-07 00:00Z'::timestamptz]),
                (24, '2026-03-06', 0, '{0,1800,3600}', '{30,30,15}', '{1,2,3}', '{0,0,0}',
                    ARRAY['2026-03-07 00:00Z'::timestamptz]);
            INSERT INTO meters (protocol, address) VALUES ('native', '1'), ('wmbus', '2'), ('cjt188', '3'), ('mbus', '4');
            INSERT INTO frame_identities (meter_id, kind, identity, fingerprint, source, first_received_at, stored_at)
            SELECT m.id, 1, c, c * 7, m.protocol, now(), now() - c * interval '1 hour'
            FROM meters m, generate_series(1, 3) AS c;
            """
        )
        let all = "SELECT * FROM interval_readings ORDER BY meter_id, interval_start"
        let columns = """
            SELECT column_name, data_type, udt_name FROM information_schema.columns
            WHERE table_name = 'interval_readings' ORDER BY ordinal_position
            """
        let grants = """
            SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants
            WHERE table_name IN ('interval_days', 'interval_readings', 'frame_identities') ORDER BY 1, 2, 3
            """
        let partitions = """
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'interval_days'::regclass ORDER BY 1
            """
        let rowsBefore = try connection.query(all)
        let intervals: Int = 20 * 48 + 4 + 1 + 3 + 3
        #expect(rowsBefore.count == intervals)
        let typesBefore = try connection.query(columns)
        let grantsBefore = try connection.query(grants)
        let partitionsBefore = try connection.query(partitions)

        #expect(try connection.migrate() == Migrations.all.map(\.version).filter { $0 > 24 })
        #expect(try connection.query(all) == rowsBefore)
        #expect(try connection.query(columns) == typesBefore)
        #expect(try connection.query(grants) == grantsBefore)
        #expect(try connection.query(partitions) == partitionsBefore)

        // The 20 normal days and meter 22's single interval are fully compact; meter 23 keeps only its flags,
        // meter 24 only its minutes; meter 21 keeps every array and its volumes in the 64-bit form.
        let form = """
            SELECT meter_id, offsets_s IS NULL, minutes IS NULL, flags IS NULL, receipts IS NULL,
                volumes_ml IS NULL, volumes_wide_ml IS NULL
            FROM interval_days WHERE meter_id > 19 ORDER BY meter_id
            """
        #expect(
            try connection.query(form) == [
                ["20", "t", "t", "t", "t", "f", "t"],
                ["21", "f", "f", "f", "f", "t", "f"],
                ["22", "t", "t", "t", "t", "f", "t"],
                ["23", "t", "t", "f", "t", "f", "t"],
                ["24", "t", "f", "t", "t", "f", "t"],
            ]
        )
        #expect(
            try connection.query(
                "SELECT first_offset_s, offset_step_s, interval_minutes, flag FROM interval_days WHERE meter_id = 1"
            ) == [["0", "1800", "30", "6"]]
        )
        #expect(
            try connection.query("SELECT pg_typeof(volumes_ml)::text FROM interval_days WHERE meter_id = 1")
                == [["integer[]"]]
        )

        // Identities: the protocol as a code beside the kind, the word through frame_source_name; pruning reads the
        // BRIN index.
        #expect(
            try connection.query(
                """
                SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
                WHERE attrelid = 'frame_identities'::regclass AND attnum > 0 AND NOT attisdropped
                """
            ) == [["meter_id,kind,source,identity,fingerprint,first_received_at,stored_at"]]
        )
        #expect(
            try connection.query(
                """
                SELECT m.protocol, f.source, frame_source_name(f.source), count(*) FROM frame_identities f
                JOIN meters m ON m.id = f.meter_id GROUP BY 1, 2, 3 ORDER BY 2
                """
            ) == [
                ["native", "1", "native", "3"], ["cjt188", "2", "cjt188", "3"], ["wmbus", "3", "wmbus", "3"],
                ["mbus", "4", "mbus", "3"],
            ]
        )
        #expect(
            try connection.query(
                """
                SELECT indexrelid::regclass::text, am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                JOIN pg_am am ON am.oid = c.relam WHERE i.indrelid = 'frame_identities'::regclass ORDER BY 1
                """
            ) == [["frame_identities_pkey", "btree"], ["frame_identities_stored_brin", "brin"]]
        )
    }

    @Test func v26RefusesAnUnknownFrameSource() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        _ = try connection.migrate(through: 24)
        try connection.executeScript(
            """
            INSERT INTO frame_identities (meter_id, kind, identity, fingerprint, source, first_received_at)
            VALUES (1, 3, 1, 1, 'lorawan', now());
            """
        )
        #expect(throws: (any Error).self) { try connection.migrate() }
        #expect(try connection.query("SELECT source FROM frame_identities") == [["lorawan"]])
    }
}
