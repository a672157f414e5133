import Foundation
import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

/// Migrations v19, v20 and v25: `held_readings` is exactly the readings of quality 2 whatever writes them (v19 to
/// v24), validation never rewrites a reading once v25 keeps verdicts apart, and the inlinable `interval_point_flags`
/// codes and refuses exactly as the PL/pgSQL function of v17 did.
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
        #expect(try connection.migrate(through: 24) == Migrations.all.map(\.version).filter { (19...24).contains($0) })
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

    /// v25: `readings` has no verdict column, and validating a meter writes its verdicts apart (a day list and the
    /// rare suspect or rejected rows) without updating or deleting any reading.
    @Test func validationNeverRewritesAReading() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let stores = TestStores(conninfo: database.conninfo)
        _ = try await stores.telemetry.migrate()
        #expect(
            try database.scalar(
                """
                SELECT count(*) FROM pg_attribute WHERE attrelid = 'readings'::regclass
                    AND attname IN ('quality', 'reasons', 'validated_at') AND NOT attisdropped
                """
            ) == "0"
        )
        var profile = MeterProfile(protocol: .native, address: "7")
        profile.qminMillilitresPerHour = 40_000
        profile.qtMillilitresPerHour = 600_000
        profile.qmaxMillilitresPerHour = 6_000_000
        _ = try await stores.meters.importMeters([profile], columns: [.qminM3h, .qtM3h, .qmaxM3h])
        let meter = try #require(Int64(try database.scalar("SELECT id FROM meters") ?? ""))
        // 2026-02-28 00:00 UTC, a reading an hour for two days (two UTC months); one 500 m³ jump that validation
        // rejects.
        let t0 = Timestamp(secondsSinceEpoch: 1_772_236_800)
        var batch = SinkBatch()
        batch.readings = (0..<48).map { hour in
            var reading = makeReading(
                meter: meter,
                at: t0.adding(seconds: Int64(hour) * 3600),
                volume: Int64(hour) * 10_000
            )
            // A flow between Qmin and Qmax: no reason at all on a plain reading (below Qmin would be a valid
            // verdict with the reason flow_below_min, kept as a verdict row).
            reading.flowMillilitresPerHour = 100_000
            if hour == 30 { reading.volumeMillilitres = 500_000_000 }
            return reading
        }
        _ = try await stores.telemetry.write(batch)
        // An UPDATE, even a HOT one, gives the row a new version (ctid, xmin); a DELETE removes it.
        let versions = "SELECT string_agg(ctid::text || ' ' || xmin::text, ',' ORDER BY read_at) FROM readings"
        let before = try database.scalar(versions)
        let queue = try await stores.validation.dirtyMeters(limit: 10)
        #expect(queue.count == 1)
        var readsChanged = 0
        for dirty in queue {
            readsChanged += try await stores.validation.validate(
                dirty,
                settings: ValidationSettings(),
                now: t0.adding(seconds: 10 * 86_400)
            ).readsChanged
        }
        #expect(readsChanged == 48)
        #expect(try database.scalar(versions) == before)
        #expect(try database.count("readings_validated", where: "quality IS NULL") == 0)
        // One list per validated channel and UTC month (v30), each with every validated reading of its month, and a
        // verdict row only for what is not plainly valid (the jump and the decrease after it).
        #expect(
            try database.scalar(
                "SELECT string_agg(month || ' ' || cardinality(reads), ', ' ORDER BY month) FROM validated_reading_months"
            ) == "2026-02-01 24, 2026-03-01 24"
        )
        let notPlainlyValid = try database.count("readings_validated", where: "quality <> 0 OR reasons <> '{}'")
        #expect(try database.count("reading_verdicts") == notPlainlyValid)
        #expect((1..<10).contains(notPlainlyValid))
    }

    /// A reading whose verdict row said "valid, but" loses that row when a later validation finds it plainly valid;
    /// readings that never had a row are not touched (the verdict store probes only where a row can exist).
    @Test func revalidationRemovesAVerdictRowOnceTheReadingIsPlainlyValid() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let stores = TestStores(conninfo: database.conninfo)
        _ = try await stores.telemetry.migrate()
        // No Qmax yet: every reading is valid with the reason no_flow_limits, i.e. has a verdict row.
        _ = try await stores.meters.importMeters([MeterProfile(protocol: .native, address: "8")], columns: [])
        let meter = try #require(Int64(try database.scalar("SELECT id FROM meters") ?? ""))
        let t0 = Timestamp(secondsSinceEpoch: 1_772_323_200)
        var batch = SinkBatch()
        batch.readings = (0..<24).map { hour in
            var reading = makeReading(
                meter: meter,
                at: t0.adding(seconds: Int64(hour) * 3600),
                volume: Int64(hour) * 10_000
            )
            reading.flowMillilitresPerHour = 100_000
            return reading
        }
        _ = try await stores.telemetry.write(batch)
        func validateQueued() async throws -> Int {
            var changed = 0
            for dirty in try await stores.validation.dirtyMeters(limit: 10) {
                changed += try await stores.validation.validate(
                    dirty,
                    settings: ValidationSettings(),
                    now: t0.adding(seconds: 10 * 86_400)
                ).readsChanged
            }
            return changed
        }
        #expect(try await validateQueued() == 24)
        #expect(try database.count("reading_verdicts") == 24)
        #expect(try database.count("readings_validated", where: "quality = 0 AND reasons = '{no_flow_limits}'") == 24)

        // The meter gets its flow limits; revalidating it finds every reading plainly valid.
        _ = try database.connect().execute(
            "UPDATE meters SET qmin_ml_per_h = 40000, qmax_ml_per_h = 6000000 WHERE id = \(meter)"
        )
        _ = try database.connect().execute(
            "INSERT INTO validation_queue (meter_id, dirty_from) VALUES (\(meter), timestamptz 'epoch')"
        )
        #expect(try await validateQueued() == 24)
        #expect(try database.count("reading_verdicts") == 0)
        #expect(try database.count("readings_validated", where: "quality = 0 AND reasons = '{}'") == 24)
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
        // Inlined: the plan holds the expression, not a call of interval_point_flags (the view presents a reading's
        // protection and key source as the text columns did before v28).
        let plan = try connection.query(
            "EXPLAIN VERBOSE SELECT interval_point_flags(protection, key_source, 0) FROM readings_validated"
        ).compactMap { $0.first ?? nil }.joined(separator: "\n")
        #expect(!plan.contains("interval_point_flags(") && plan.contains("interval_point_flags_refused"))
    }
}
