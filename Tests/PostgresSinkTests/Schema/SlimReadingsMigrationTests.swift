import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

/// Migration v28: `readings` stores the source, the protection level with the key source, and the signal as
/// `smallint` codes; every row reads back through `readings_validated` (and the held-readings list) exactly as
/// before, with the same partitions and grants, and a row the codes cannot hold refuses the migration.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct SlimReadingsMigrationTests {
    /// Every source, each protection level, every key source (NULL included), NULL and extreme optional fields, in
    /// this month's partition, an older one and the DEFAULT partition, some with verdicts.
    static let rows = """
        INSERT INTO meters (id, protocol, address) VALUES (1, 'native', '1'), (2, 'cjt188', '2'), (3, 'wmbus', '3'),
            (4, 'mbus', '4');
        INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, flow_ml_per_h,
            valve, battery_mv, temperature_centi_c, signal_dbm, status_bits, frame_counter, source, basis, storage,
            tariff, protection, key_source)
        VALUES
            -- native: every field, authenticated with the meter's key, in this month's partition
            (1, date_trunc('month', now()) + interval '1 hour', 0, now(), 123456789, 100000000000, 250000, 1, 65534,
                8500, -150, 9223372036854775807, 4294967295, 'native', 0, 0, 0, 'authenticated', 'meter'),
            (1, date_trunc('month', now()) + interval '2 hours', 1, now(), 123456790, 100000000000, NULL, 1, NULL,
                NULL, NULL, 0, 7, 'native', 0, 0, 0, 'authenticated', 'meter'),
            -- authenticated with no key source: refused by the gateway, admitted by v25's CHECK (NULL passes)
            (1, '2020-01-15 00:00Z', 2, '2020-01-15 00:01Z', 5, 0, 0, 0, 0, -4000, 0, 1, 0, 'native', 0, 0, 0,
                'authenticated', NULL),
            -- CJ/T 188: plain, no key source, a settlement-day register
            (2, '2020-01-15 06:00Z', 0, '2020-01-15 06:01Z', 556677000000, 0, NULL, 3, NULL, NULL, NULL, 33031, 12,
                'cjt188', 0, 0, 0, 'plain', NULL),
            (2, '2020-01-15 06:00Z', 3, '2020-01-15 06:01Z', 556600000000, 0, NULL, 3, NULL, NULL, NULL, 0, NULL,
                'cjt188', 0, 1, 0, 'plain', NULL),
            -- wireless M-Bus: encrypted (meter's key), plain with a default key, plain with the meter's key, both bases
            (3, date_trunc('month', now()) + interval '3 hours', 0, now(), 871571000, 0, NULL, 0, NULL,
                -2147483648, NULL, 3298534883328, NULL, 'wmbus', 1, 0, 0, 'encrypted', 'meter'),
            (3, date_trunc('month', now()) + interval '3 hours', 0, now(), 871000000, 0, NULL, 0, NULL,
                2147483647, NULL, 0, NULL, 'wmbus', 2, 0, 0, 'plain', 'default'),
            (3, date_trunc('month', now()) + interval '4 hours', 0, now(), 871571001, 0, NULL, 0, NULL, NULL, NULL,
                -1, NULL, 'wmbus', 0, 0, 0, 'plain', 'meter'),
            -- wired M-Bus: plain, a tariff register, in the DEFAULT partition
            (4, '2099-06-01 00:00Z', 0, now(), 42, 1000000000, -5, 2, NULL, 2150, NULL, 256, NULL, 'mbus', 0, 0, 0,
                'plain', NULL),
            (4, '2099-06-01 00:00Z', 0, now(), 21, 1000000000, NULL, 2, NULL, NULL, NULL, 256, NULL, 'mbus', 0, 0, 1,
                'plain', NULL);
        -- Verdicts: a valid day (meter 1), a held reading with a default key (meter 3), a held plain one (meter 2).
        INSERT INTO validated_reading_days (meter_id, basis, day, reads, validated_at)
        SELECT meter_id, basis, (read_at AT TIME ZONE 'UTC')::date,
            array_agg((extract(epoch FROM read_at) * 1000000)::bigint * 4 + kind ORDER BY read_at, kind), now()
        FROM readings WHERE meter_id = 1 AND read_at > '2021-01-01' GROUP BY 1, 2, 3;
        INSERT INTO reading_verdicts (meter_id, read_at, kind, basis, quality, reasons, validated_at)
        SELECT meter_id, read_at, kind, basis, 2, '{spike}', now() FROM readings
        WHERE (meter_id = 3 AND basis = 2) OR (meter_id = 2 AND kind = 0);
        """

    static let view = "SELECT * FROM readings_validated ORDER BY meter_id, read_at, kind, basis, storage, tariff"
    static let viewColumns = """
        SELECT column_name, data_type FROM information_schema.columns
        WHERE table_name = 'readings_validated' ORDER BY ordinal_position
        """
    static let grants = """
        SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants
        WHERE table_name IN ('readings', 'readings_validated') ORDER BY 1, 2, 3
        """
    static let partitions = """
        SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'readings'::regclass ORDER BY 1
        """

    @Test func v28KeepsEveryRowAsTheViewAndReadersShowIt() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        let upToV26 = Migrations.all.map(\.version).filter { $0 <= 26 }
        #expect(try connection.migrate(through: 26) == upToV26)
        try connection.executeScript(
            try String(contentsOf: Repository.url("config/postgres-roles.sql"), encoding: .utf8)
        )
        try connection.executeScript(Self.rows)
        let rowsBefore = try connection.query(Self.view)
        #expect(rowsBefore.count == 10)
        let columnsBefore = try connection.query(Self.viewColumns)
        let grantsBefore = try connection.query(Self.grants)
        let partitionsBefore = try connection.query(Self.partitions)
        #expect(partitionsBefore.contains { $0.first == "readings_default" })
        let fullNativeBefore = try database.scalar(
            "SELECT pg_column_size(r.*) FROM readings r WHERE kind = 0 AND meter_id = 1"
        )

        #expect(try connection.migrate() == Migrations.all.map(\.version).filter { $0 > 26 })

        #expect(try connection.query(Self.view) == rowsBefore)
        #expect(try connection.query(Self.viewColumns) == columnsBefore)
        #expect(try connection.query(Self.grants) == grantsBefore)
        #expect(try connection.query(Self.partitions) == partitionsBefore)
        #expect(
            try connection.query(
                """
                SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
                WHERE attrelid = 'readings'::regclass AND attname IN ('source', 'protection_flags', 'signal_dbm')
                ORDER BY 1
                """
            ) == [["protection_flags", "smallint"], ["signal_dbm", "smallint"], ["source", "smallint"]]
        )
        #expect(
            try connection.query(
                "SELECT source, protection_flags FROM readings ORDER BY meter_id, read_at, kind, basis, tariff"
            )
                == [
                    ["1", "2"], ["1", "6"], ["1", "6"], ["2", "0"], ["2", "0"], ["3", "5"], ["3", "8"], ["3", "4"],
                    ["4", "0"], ["4", "0"],
                ]
        )
        // The row with every field: 24 bytes of header and 103 of data before (text source and key source, enum
        // protection, int4 signal; 128 with MAXALIGN on the page), 24 + 88 now.
        #expect(fullNativeBefore == "127")
        #expect(
            try database.scalar("SELECT pg_column_size(r.*) FROM readings r WHERE kind = 0 AND meter_id = 1") == "112"
        )

        // The view's decoding is inlined: the plan holds CASE expressions, no call per row.
        let plan = try connection.query("EXPLAIN VERBOSE SELECT protection, key_source, source FROM readings_validated")
            .compactMap { $0.first ?? nil }.joined(separator: "\n")
        #expect(plan.contains("protection_flags") && plan.contains("CASE"))
        #expect(!["reading_protection(", "reading_key_source(", "frame_source_name("].contains { plan.contains($0) })

        // The held-readings list decodes the codes back: the default key of meter 3, the plain CJ/T 188 reading.
        let session = PostgresSession(.gateway(conninfo: database.conninfo), logger: testLogger)
        let held = try await BillingStore(session).heldForReview(limit: 10)
        await session.close()
        #expect(held.map(\.meter) == ["2", "3"])
        #expect(held.map(\.protection) == [.plain, .plain])
        #expect(held.map(\.keySource) == [nil, .manufacturerDefault])
        #expect(held.map(\.protocol) == [.cjt188, .wmbus])

        // The ingest role writes through the rebuilt parent; a source or flags outside the codes are refused.
        try connection.executeScript(
            """
            SET ROLE meter_gateway_ingest;
            INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, valve,
                status_bits, source, protection_flags)
            VALUES (1, date_trunc('month', now()) + interval '5 hours', 0, now(), 1, 0, 0, 0, 4, 8);
            RESET ROLE;
            """
        )
        #expect(
            try connection.query(
                "SELECT source, protection::text, key_source FROM readings_validated WHERE volume_ml = 1 AND meter_id = 1"
            ) == [["mbus", "plain", "default"]]
        )
        for (source, flags) in [(5, 0), (0, 0), (1, 9), (1, 3), (1, 10)] {
            let refused = #expect(throws: PostgresError.self) {
                try connection.execute(
                    """
                    INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, valve,
                        status_bits, source, protection_flags)
                    VALUES (9, now(), 0, now(), 1, 0, 0, 0, \(source), \(flags))
                    """
                )
            }
            #expect(refused?.sqlState == "23514")
        }
    }

    @Test(arguments: [
        ("source", "'lorawan'", "signal_dbm", "NULL"),
        ("source", "'native'", "signal_dbm", "40000"),
    ])
    func v28RefusesWhatTheCodesCannotHold(
        _ column: String,
        _ value: String,
        _ other: String,
        _ otherValue: String
    )
        async throws
    {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        _ = try connection.migrate(through: 26)
        try connection.executeScript(
            """
            INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, valve,
                status_bits, protection, \(column), \(other))
            VALUES (1, now(), 0, now(), 1, 0, 0, 0, 'plain', \(value), \(otherValue));
            """
        )
        #expect(throws: (any Error).self) { try connection.migrate() }
        // Nothing changed: the old table and its row stay, v28 is not recorded.
        #expect(try connection.query("SELECT \(column)::text, \(other)::text FROM readings").count == 1)
        #expect(try database.count("schema_migrations", where: "version = 28") == 0)
    }
}
