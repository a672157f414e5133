import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

/// Migration v23 (monthly partitions with DEFAULT) and `storage maintain` against the real server.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(2)))
struct PartitionMaintenanceTests {
    private static let heldMatchesQuality = """
        SELECT count(*) FROM (
            (SELECT meter_id, read_at, kind, basis, storage, tariff FROM held_readings
                EXCEPT ALL SELECT meter_id, read_at, kind, basis, storage, tariff FROM readings WHERE quality = 2)
            UNION ALL
            (SELECT meter_id, read_at, kind, basis, storage, tariff FROM readings WHERE quality = 2
                EXCEPT ALL SELECT meter_id, read_at, kind, basis, storage, tariff FROM held_readings)
        ) AS difference
        """

    /// Verdicts (v25) whose reading is gone, and listed validated readings that are gone: 0 when the verdicts
    /// follow the rows.
    private static let verdictsWithoutReading = """
        SELECT (SELECT count(*) FROM reading_verdicts v WHERE NOT EXISTS (
                SELECT FROM readings r WHERE r.meter_id = v.meter_id AND r.read_at = v.read_at AND r.kind = v.kind
                    AND r.basis = v.basis AND r.storage = 0 AND r.tariff = 0))
            + (SELECT count(*) FROM validated_reading_months d, unnest(d.reads) AS c WHERE NOT EXISTS (
                SELECT FROM readings r WHERE r.meter_id = d.meter_id AND r.basis = d.basis AND r.storage = 0
                    AND r.tariff = 0 AND (extract(epoch FROM r.read_at) * 1000000)::bigint * 4 + r.kind = c))
        """

    /// Every reading's key, quality and reasons, in key order.
    private static let verdictSnapshot = """
        SELECT string_agg(format('%s %s %s %s %s %s %s %s', meter_id, read_at, kind, basis, storage, tariff, quality,
            reasons), '|' ORDER BY meter_id, read_at, kind, basis, storage, tariff)
        FROM readings_validated
        """

    private static let intervalSnapshot = """
        SELECT string_agg(format('%s %s %s %s %s %s %s %s', meter_id, interval_start, interval_minutes, volume_ml,
            end_index_ml, received_at, protection, key_source), '|' ORDER BY meter_id, interval_start)
        FROM interval_readings
        """

    /// Partitions of `table`, "name bound", in name order.
    private static func layout(_ database: TestDatabase, _ table: String) throws -> [String] {
        (try database.scalar(
            """
            SELECT string_agg(c.relname || ' ' || pg_get_expr(c.relpartbound, c.oid), '|' ORDER BY c.relname)
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass
            """,
            [table]
        ) ?? "").split(separator: "|").map(String.init)
    }

    private static func partitionOf(_ database: TestDatabase, _ condition: String) throws -> String? {
        try database.scalar(
            "SELECT string_agg(DISTINCT tableoid::regclass::text, ',') FROM readings WHERE \(condition)"
        )
    }

    /// A new reading or interval of a month without a partition is stored in DEFAULT, deduplicated there and after
    /// `maintain` moved it into its month's partition; retention drops whole old months and keeps the rest.
    @Test func defaultRowsMoveIntoTheirPartitionAndRetentionDropsOnlyOldMonths() async throws {
        try await withMigratedWriter { writer, database, ids in
            let meter = try #require(ids["m1"])
            let march = batch(
                readings: [
                    makeReading(meter: meter, at: at(0), volume: 10),
                    makeReading(meter: meter, at: at(3600), volume: 20),
                ],
                intervals: [
                    makeInterval(meter: meter, start: at(0), volume: 5),
                    makeInterval(meter: meter, start: at(1800), volume: 6),
                ]
            )
            // 2026-05-10, inside the retention below.
            let may = batch(readings: [makeReading(meter: meter, at: at(70 * 86_400), volume: 30)])
            _ = try await writer.write(march)
            _ = try await writer.write(may)
            _ = try await writer.write(march)
            #expect(try database.count("readings") == 3)
            #expect(try database.count("interval_readings") == 2)
            #expect(try database.count("value_conflicts") == 0)
            #expect(try Self.partitionOf(database, "true") == "readings_default")
            let dayPartition = try database.scalar("SELECT DISTINCT tableoid::regclass::text FROM interval_days")
            #expect(dayPartition == "interval_days_default")
            try database.connect().executeScript(ReadingVerdictSQL.set(quality: 2, where: "volume_ml IN (20, 30)"))
            #expect(try database.count("readings_validated", where: "quality = 2") == 2)
            let verdictsBefore = try database.scalar(Self.verdictSnapshot)
            let intervalsBefore = try database.scalar(Self.intervalSnapshot)

            let owner = try database.connect()
            defer { owner.close() }
            let maintenance = PartitionMaintenance(connection: owner)
            let june = PartitionMonth(year: 2026, month: 6)
            let readings = try maintenance.maintain(.readings, current: june, monthsAhead: 1, retentionMonths: 0)
            #expect(
                readings.created.map(\.name)
                    == ["readings_2026_03", "readings_2026_05", "readings_2026_06", "readings_2026_07"]
            )
            #expect(readings.created.map(\.movedRows) == [2, 1, 0, 0] && readings.dropped.isEmpty)
            let days = try maintenance.maintain(.intervalDays, current: june, monthsAhead: 1, retentionMonths: 0)
            #expect(days.created.map(\.movedRows) == [1, 0, 0] && days.dropped.isEmpty)
            #expect(try database.count("readings_default") == 0 && database.count("interval_days_default") == 0)
            #expect(try Self.partitionOf(database, "volume_ml < 30") == "readings_2026_03")
            #expect(try database.scalar(Self.verdictSnapshot) == verdictsBefore)
            #expect(try database.count("reading_verdicts", where: "quality = 2") == 2)
            #expect(try database.scalar(Self.intervalSnapshot) == intervalsBefore)

            // The writer's merge still deduplicates once the rows live in a partition; a changed value is a conflict.
            _ = try await writer.write(march)
            var changed = march
            changed.readings[0] = makeReading(meter: meter, at: at(0), volume: 11)
            _ = try await writer.write(changed)
            #expect(try database.count("readings") == 3 && database.count("interval_readings") == 2)
            #expect(try database.count("value_conflicts") == 1)

            // Keep 2 whole months before June: April and May stay, March goes (with its held reading).
            let retained = try maintenance.maintain(.readings, current: june, monthsAhead: 1, retentionMonths: 2)
            #expect(retained.created.isEmpty && retained.dropped == ["readings_2026_03"])
            #expect(try database.count("readings") == 1 && database.count("reading_verdicts") == 1)
            #expect(try database.count("readings_validated", where: "quality = 2") == 1)
            #expect(try database.scalar(Self.verdictsWithoutReading) == "0")
            let again = try maintenance.maintain(.readings, current: june, monthsAhead: 1, retentionMonths: 2)
            #expect(again.created.isEmpty && again.dropped.isEmpty, "a rerun has nothing to do")
            #expect(try Self.layout(database, "readings").contains("readings_default DEFAULT"))
        }
    }

    /// An upgrade keeps every row where it can be read, moves v19's triggers to the parent (one firing per row),
    /// and gives the parent the old table's grants, so the services' roles keep writing through it; v25 then
    /// rebuilds the same partitions without the verdict columns, keeping every verdict and grant.
    @Test func upgradeAttachesTheOldTablesAndKeepsTriggersAndGrants() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        #expect(try connection.migrate(through: 20) == Array(1...20))
        let roles = try String(contentsOf: Repository.url("config/postgres-roles.sql"), encoding: .utf8)
        try connection.executeScript(roles)
        try connection.executeScript(
            """
            INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, valve,
                status_bits, source, protection, quality)
            SELECT i % 3, '2026-03-01 00:00Z'::timestamptz + i * interval '1 day', 0, '2026-03-02 00:00Z', i, 0, 0, 0,
                'native', 'plain', CASE WHEN i % 4 = 0 THEN 2 ELSE 0 END
            FROM generate_series(0, 59) AS i;
            INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, valve,
                status_bits, source, protection, quality)
            VALUES (7, '2099-01-05 00:00Z', 0, now(), 1, 0, 0, 0, 'native', 'plain', 2);
            INSERT INTO interval_days (meter_id, day, first_index_ml, offsets_s, minutes, volumes_ml, flags, receipts)
            SELECT 1, '2026-03-01'::date + i, 100, '{0,1800}', '{30,30}', '{4,5}', '{0,0}', ARRAY[now()]
            FROM generate_series(0, 9) AS i;
            """
        )
        let intervalsBefore = try database.scalar(Self.intervalSnapshot)
        #expect(try connection.migrate(through: 24) == [23, 24])

        #expect(try database.count("readings") == 61 && database.count("held_readings") == 16)
        #expect(try Self.partitionOf(database, "read_at < '2027-01-01'") == "readings_history")
        #expect(try Self.partitionOf(database, "meter_id = 7") == "readings_default")
        let history = "readings_history FOR VALUES FROM (MINVALUE)"
        #expect(try Self.layout(database, "readings").contains { $0.hasPrefix(history) })
        #expect(try database.scalar(Self.intervalSnapshot) == intervalsBefore)
        #expect(try database.count("interval_readings") == 20)
        #expect(try database.scalar(Self.heldMatchesQuality) == "0")
        // Only the parent's triggers: each partition has clones (tgparentid set), none of its own.
        #expect(
            try database.scalar(
                """
                SELECT count(*) FROM pg_trigger t JOIN pg_inherits i ON i.inhrelid = t.tgrelid
                WHERE NOT t.tgisinternal AND t.tgparentid = 0
                """
            ) == "0"
        )

        // The roles write through the parents without rerunning postgres-roles.sql.
        try connection.executeScript(
            """
            SET ROLE meter_gateway_ingest;
            INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, valve,
                status_bits, source, protection)
            VALUES (1, '2026-03-01 00:00Z', 0, now(), 0, 0, 0, 0, 'native', 'plain'),
                (8, '2031-02-01 00:00Z', 0, now(), 0, 0, 0, 0, 'native', 'plain')
            ON CONFLICT DO NOTHING;
            INSERT INTO interval_days (meter_id, day, first_index_ml, offsets_s, minutes, volumes_ml, flags, receipts)
            VALUES (1, '2026-03-01', 1, '{0}', '{30}', '{1}', '{0}', ARRAY[now()])
            ON CONFLICT (meter_id, day) DO NOTHING;
            RESET ROLE;
            SET ROLE meter_gateway_validation;
            UPDATE readings SET quality = 2 WHERE meter_id = 8;
            UPDATE readings SET quality = 0 WHERE meter_id = 0 AND quality = 2;
            RESET ROLE;
            """
        )
        #expect(try database.count("readings") == 63 && database.count("interval_days") == 10)
        // Meter 8 became held, meter 0's five held readings were released.
        #expect(try database.count("held_readings") == 12)
        #expect(try database.scalar(Self.heldMatchesQuality) == "0")
        // A held reading moved to another partition (delete there, insert here) stays held, once.
        #expect(
            try connection.execute(
                "UPDATE readings SET read_at = '2050-06-01 00:00Z' "
                    + "WHERE meter_id = 1 AND read_at = '2026-03-05 00:00Z' AND quality = 2"
            ) == 1
        )
        #expect(try Self.partitionOf(database, "read_at = '2050-06-01 00:00Z'") == "readings_default")
        #expect(try database.scalar(Self.heldMatchesQuality) == "0" && database.count("held_readings") == 12)

        // v25 rebuilds readings without the verdict columns: same rows, verdicts, partitions (names and bounds).
        let layoutBefore = try Self.layout(database, "readings")
        let verdictsBefore = try database.scalar(
            Self.verdictSnapshot.replacingOccurrences(of: "readings_validated", with: "readings")
        )
        #expect(try connection.migrate() == Migrations.all.map(\.version).filter { $0 > 24 })
        #expect(try Self.layout(database, "readings") == layoutBefore)
        #expect(try database.scalar(Self.verdictSnapshot) == verdictsBefore)
        // Rows written before v4's reasons (quality 0, reasons NULL) keep exactly that verdict, as a verdict row.
        #expect(try database.count("readings") == 63 && database.count("reading_verdicts", where: "quality = 2") == 12)
        #expect(try database.scalar(Self.verdictsWithoutReading) == "0")
        #expect(try database.scalar("SELECT to_regclass('held_readings') IS NULL") == "t")
        // The roles keep writing: ingest a reading (into a partition that v25 and v28 made again; v28 stores the
        // source and protection as codes: 1 native, 0 plain), validation a verdict.
        try connection.executeScript(
            """
            SET ROLE meter_gateway_ingest;
            INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, valve,
                status_bits, source, protection_flags)
            VALUES (1, '2026-03-02 12:00Z', 0, now(), 0, 0, 0, 0, 1, 0);
            RESET ROLE;
            SET ROLE meter_gateway_validation;
            \(ReadingVerdictSQL.set(quality: 2, where: "meter_id = 1 AND read_at = '2026-03-02 12:00Z'"))
            RESET ROLE;
            """
        )
        #expect(try database.count("readings_validated", where: "quality = 2") == 13)
        let denied = #expect(throws: PostgresError.self) {
            try connection.executeScript(
                "SET ROLE meter_gateway_ingest; CREATE TABLE readings_2040_01 PARTITION OF readings "
                    + "FOR VALUES FROM ('2040-01-01') TO ('2040-02-01')"
            )
        }
        #expect(denied?.sqlState == "42501")
        try connection.executeScript("RESET ROLE")

        // Keep a year before January 2100: the history partition (with its held rows) and 2027's go.
        let maintenance = PartitionMaintenance(connection: connection)
        let january = PartitionMonth(year: 2100, month: 1)
        let outcome = try maintenance.maintain(.readings, current: january, monthsAhead: 0, retentionMonths: 12)
        #expect(
            outcome.created.map(\.name) == [
                "readings_2031_02", "readings_2050_06", "readings_2099_01", "readings_2100_01",
            ]
        )
        #expect(outcome.dropped.contains("readings_history") && outcome.dropped.contains("readings_2031_02"))
        #expect(!outcome.dropped.contains("readings_2099_01"))
        #expect(try database.scalar("SELECT string_agg(meter_id::text, ',') FROM readings") == "7")
        #expect(try database.count("reading_verdicts") == 1 && database.scalar(Self.verdictsWithoutReading) == "0")
        #expect(try database.count("validated_reading_months") == 1)
        let days = try maintenance.maintain(.intervalDays, current: january, monthsAhead: 0, retentionMonths: 0)
        #expect(try days.dropped.isEmpty && database.count("interval_readings") == 20)
    }

    @Test func aSecondRunAtOnceChangesNothingAndSaysWhy() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let owner = try database.connect()
        defer { owner.close() }
        _ = try owner.migrate()
        let before = try Self.layout(database, "readings")
        let other = try database.connect()
        defer { other.close() }
        _ = try other.query("SELECT pg_advisory_lock(\(PartitionMaintenance.lockKey))", parameters: ["readings"])
        let later = PartitionMonth(year: 2031, month: 6)
        let error = #expect(throws: PartitionMaintenanceError.self) {
            try PartitionMaintenance(connection: owner).maintain(
                .readings,
                current: later,
                monthsAhead: 1,
                retentionMonths: 0
            )
        }
        #expect(error?.description.contains("being maintained by another run") == true)
        #expect(try Self.layout(database, "readings") == before)

        _ = try other.query("SELECT pg_advisory_unlock(\(PartitionMaintenance.lockKey))", parameters: ["readings"])
        let outcome = try PartitionMaintenance(connection: owner).maintain(
            .readings,
            current: later,
            monthsAhead: 1,
            retentionMonths: 0
        )
        #expect(outcome.created.map(\.name) == ["readings_2031_06", "readings_2031_07"])
        // The lock was released at the end of the run: another session takes it at once.
        let retaken = try other.query(
            "SELECT pg_try_advisory_lock(\(PartitionMaintenance.lockKey))::text",
            parameters: ["readings"]
        )
        #expect(retaken.first?.first == "true")
    }

    @Test func refusesATableThatIsNotPartitioned() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        _ = try connection.migrate(through: 20)
        let error = #expect(throws: PartitionMaintenanceError.self) {
            try PartitionMaintenance(connection: connection).maintain(
                .readings,
                current: PartitionMonth(year: 2026, month: 12),
                monthsAhead: 1,
                retentionMonths: 0
            )
        }
        #expect(error?.description == "table readings is not a partitioned table (run `migrate`)")
    }
}
