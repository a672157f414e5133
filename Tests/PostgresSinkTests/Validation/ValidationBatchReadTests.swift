import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

/// How the batch validator reads: stored interval days turned into the points the `interval_readings` view shows,
/// and statements that probe by key however small the tables are.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct ValidationBatchReadTests {
    @Test func partitionsFilledSinceTheirLastAnalyzeAreAnalysedBeforeValidating() async throws {
        try await withMigratedStores { _, database, ids in
            let meter = ids["m1"]!
            let store = ValidationStore(PostgresSession(conninfo: database.conninfo, logger: testLogger))
            // Nothing filled yet: nothing to analyse.
            #expect(try await store.analyzePartitionsWithoutStatistics() == [])
            let connection = try database.connect()
            // 5,000 readings of this month in a partition never analysed (as after a burst of ingest, before
            // autovacuum's next round).
            _ = try connection.execute(
                """
                INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, valve,
                    status_bits, source, protection_flags)
                SELECT $1, date_trunc('month', now()) + n * interval '1 second', 0, now(), n * 1000, 100000000000, 0,
                    0, 1, 2
                FROM generate_series(1, 5000) AS n
                """,
                parameters: [String(meter)]
            )
            _ = try connection.query("SELECT pg_stat_force_next_flush()")
            connection.close()
            // The server publishes the insert's counts asynchronously: wait until it shows them.
            let observer = try database.connect()
            let partition = try #require(
                try observer.query(
                    "SELECT format('%I.%I', 'public', tableoid::regclass::text) FROM readings LIMIT 1"
                ).first?.first ?? nil
            )
            let deadline = ContinuousClock.now + .seconds(20)
            func changedSinceAnalyze() throws -> Int {
                let rows = try observer.query(
                    "SELECT n_mod_since_analyze FROM pg_stat_all_tables WHERE relid = $1::regclass",
                    parameters: [partition]
                )
                return Int((rows.first?.first ?? nil) ?? "") ?? 0
            }
            while try changedSinceAnalyze() < 5000 {
                try #require(ContinuousClock.now < deadline, "the insert's statistics never showed")
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await store.analyzePartitionsWithoutStatistics() == [partition])
            let analysed = try observer.query(
                "SELECT last_analyze IS NOT NULL FROM pg_stat_all_tables WHERE relid = $1::regclass",
                parameters: [partition]
            )
            #expect(analysed.first?.first == "t")
            let tuples = try observer.query(
                "SELECT reltuples FROM pg_class WHERE oid = $1::regclass",
                parameters: [partition]
            )
            #expect(tuples.first?.first == "5000")
            // Analysed now: not again.
            #expect(try await store.analyzePartitionsWithoutStatistics() == [])
        }
    }

    @Test func intervalDaysGiveThePointsTheViewShows() async throws {
        try await withMigratedStores { _, database, ids in
            let meter = ids["m1"]!
            let connection = try database.connect()
            // Two days written by hand: sub-second starts on the first, every protection and key source, two
            // receipts, and end indexes that are not a chain.
            _ = try connection.execute(
                """
                INSERT INTO interval_days (meter_id, day, first_index_ml, offsets_s, offsets_frac_us, minutes,
                    volumes_ml, end_index_ml, flags, receipts)
                VALUES ($1, '2026-03-01', 1000, '{0,1800,3600,86399}', '{0,250000,0,999999}', '{30,30,30,1}',
                        '{10,20,30,40}', NULL, '{0,5,38,22}', '{2026-03-02 00:00:05+00,2026-03-02 00:10:00+00,2026-03-02 00:20:00+00}'),
                    ($1, '2026-03-02', 2000, '{0,900}', NULL, '{15,15}', '{7,8}', '{2007,2099}', '{1,2}',
                        '{2026-03-03 00:00:05+00}')
                """,
                parameters: [String(meter)]
            )
            // From 00:30:00.1 on the first day: the first point is before the window, the second (00:30:00.25) in it.
            let first = at(1_800).microsecondsSinceEpoch + 100_000
            var points: [IntervalValue] = []
            for row in try connection.rows(ValidationBatchSQL.windowIntervalDays, [[meter], [first]]) {
                #expect(try row.decode(0, as: Int64.self) == meter)
                try IntervalDayPoints(row: row).appendPoints(startingAtOrAfter: first, to: &points)
            }
            let view = try connection.rows(
                """
                SELECT \(ValidationSQL.micros("interval_start")), interval_minutes, volume_ml, protection::text
                FROM interval_readings WHERE meter_id = $1 AND interval_start >= \(ValidationSQL.instant("$2"))
                ORDER BY interval_start
                """,
                [meter, first]
            )
            #expect(view.count == 5)
            #expect(points.count == view.count)
            for (point, row) in zip(points, view) {
                #expect(point.start.microsecondsSinceEpoch == (try row.decode(0, as: Int64.self)))
                #expect(point.minutes == (try row.decode(1, as: Int16.self)))
                #expect(point.volumeMillilitres == (try row.decode(2, as: Int64.self)))
                #expect(point.protection.code == (try row.decode(3, as: String.self)))
            }
            #expect(
                points.map(\.protection) == [.encrypted, .authenticated, .authenticated, .encrypted, .authenticated]
            )
        }
    }

    @Test func intervalDayArraysOfDifferentLengthsAreAnError() async throws {
        try await withMigratedStores { _, database, ids in
            let meter = ids["m1"]!
            let connection = try database.connect()
            _ = try connection.execute(
                """
                INSERT INTO interval_days (meter_id, day, first_index_ml, offsets_s, minutes, volumes_ml, flags, receipts)
                VALUES ($1, '2026-03-01', 1000, '{0,1800}', '{30}', '{10,20}', '{0,0}', '{2026-03-02 00:00:05+00}')
                """,
                parameters: [String(meter)]
            )
            let rows = try connection.rows(
                ValidationBatchSQL.windowIntervalDays,
                [[meter], [at(0).microsecondsSinceEpoch]]
            )
            #expect(rows.count == 1)
            #expect(throws: PostgresError.self) { _ = try IntervalDayPoints(row: rows[0]) }
        }
    }

    @Test func theWindowReadProbesByKeyUnderTheBatchPlans() async throws {
        try await withMigratedStores { _, database, ids in
            let meters = ["m1", "m2", "m3"].map { ids[$0]! }
            let connection = try database.connect()
            // Enough readings that hashing the whole table is the planner's cheapest estimate for a large batch.
            _ = try connection.execute(
                """
                INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, valve,
                    status_bits, source, protection_flags)
                SELECT m, timestamptz '2026-03-01' + s * interval '1 minute', 0, now(), s, 100000000000, 0, 0, 1, 0
                FROM unnest($1::bigint[]) AS m, generate_series(1, 3000) AS s
                """,
                parameters: [meters.postgresText]
            )
            _ = try connection.execute("ANALYZE readings")
            // The window read of a large batch (v25: readings is insert-only, so this read, not a verdict update,
            // is the validator's statement over `readings`).
            let keys = (1...1_500).map { _ in meters[0] }
            let parameters: [String?] = [
                keys.postgresText, keys.map { _ in String(at(0).microsecondsSinceEpoch) }.postgresText,
            ]
            func plan() throws -> String {
                try connection.query("EXPLAIN " + ValidationBatchSQL.windowReads, parameters: parameters)
                    .compactMap { $0.first ?? nil }.joined(separator: "\n")
            }
            _ = try connection.execute("BEGIN")
            let unguarded = try plan()
            try connection.executeScript(ValidationBatchSQL.plansByKey)
            let guarded = try plan()
            try connection.executeScript(ValidationBatchSQL.plansByAnyJoin)
            let restored = try plan()
            _ = try connection.execute("ROLLBACK")
            // `readings` is partitioned by month (v23): on a fresh database the rows of March 2026 lie before the
            // first monthly partition and are in the DEFAULT partition; the monthly ones are empty (a scan of an
            // empty partition costs nothing either way). The premise: left alone, the planner reads the whole
            // partition that holds the rows (a sequential scan for a hash join, or its whole key for a merge join).
            #expect(
                unguarded.contains("Seq Scan on readings_default") || unguarded.contains("Merge Join"),
                "\(unguarded)"
            )
            #expect(!guarded.contains("Seq Scan on readings_default"), "\(guarded)")
            #expect(!guarded.contains("Merge Join") && !guarded.contains("Hash Join"), "\(guarded)")
            #expect(guarded.contains("Index Scan using readings_default_pkey"), "\(guarded)")
            #expect(guarded.contains("Index Cond: ((meter_id = w.meter_id)"), "\(guarded)")
            #expect(restored == unguarded)
        }
    }
}
