import Foundation
import GatewayCore
import GatewayDomain
import Synchronization
import Testing

@testable import PostgresSink

/// The validator against a real database: ingest queues the meter, validation keeps quality and reasons for each
/// reading (apart from it since v25), determines days, publishes billable days to the feed once, and publishes a correction when late data
/// changes a published day.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct ValidationStoreTests {
    /// 2026-01-01 00:00 UTC.
    private let t0 = Timestamp(secondsSinceEpoch: 1_767_225_600)
    private let hour: Int64 = 3600
    private let day: Int64 = 86_400

    private func reading(_ meter: Int64, _ seconds: Int64, ml: Int64, kind: ReadingKind = .periodic) -> ReadingRecord {
        let at = t0.adding(seconds: seconds)
        return ReadingRecord(
            meterID: meter,
            readAt: at,
            receivedAt: kind == .dailyFrozen ? at.adding(seconds: 3600) : at.adding(seconds: 4),
            kind: kind,
            volumeMillilitres: ml,
            registerModulusMillilitres: 100_000_000_000,
            flowMillilitresPerHour: nil,
            valve: .open,
            batteryMillivolts: nil,
            temperatureCentiCelsius: nil,
            signalDBm: nil,
            statusBits: 0,
            frameCounter: nil,
            source: .native,
            // Frozen totals authenticated, the rest only encrypted: a day's level is its weakest input.
            protection: kind == .dailyFrozen ? .authenticated : .encrypted
        )
    }

    private func drain(_ writer: ValidationStore, now: Timestamp) async throws -> MeterValidationSummary {
        var total = MeterValidationSummary()
        while true {
            let queue = try await writer.dirtyMeters(limit: 10)
            if queue.isEmpty { return total }
            for meter in queue {
                let summary = try await writer.validate(meter, settings: ValidationSettings(), now: now)
                total.readsChanged += summary.readsChanged
                total.daysChanged += summary.daysChanged
                total.published += summary.published
                total.corrections += summary.corrections
            }
        }
    }

    @Test func validationPublishesBillableDaysOnceAndCorrectionsWhenLateDataChangesThem() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let stores = TestStores(conninfo: database.conninfo)
        let writer = stores.telemetry
        _ = try await writer.migrate()
        var profile = MeterProfile(protocol: .native, address: "42")
        profile.qminMillilitresPerHour = 40_000
        profile.qtMillilitresPerHour = 600_000
        profile.qmaxMillilitresPerHour = 6_000_000
        profile.registerDigits = 5
        _ = try await stores.meters.importMeters([profile], columns: [.qminM3h, .qtM3h, .qmaxM3h, .registerDigits])
        let meter = try #require(Int64(try database.scalar("SELECT id FROM meters") ?? ""))

        // Day 1 anchored by frozen totals; day 2 starts on a frozen total but its end is only reached by a read at
        // 02:00 on day 3 (interpolated midnight: estimated). One spike on day 2 is rejected.
        var batch = SinkBatch()
        batch.readings = [
            reading(meter, 0, ml: 1_000_000_000, kind: .dailyFrozen),
            reading(meter, 12 * hour, ml: 1_001_000_000),
            reading(meter, day, ml: 1_002_000_000, kind: .dailyFrozen),
            reading(meter, day + 12 * hour, ml: 1_003_000_000),
            reading(meter, day + 13 * hour, ml: 1_200_000_000),  // +197 m³ in an hour
            reading(meter, 2 * day + 2 * hour, ml: 1_004_400_000),
        ]
        _ = try await writer.write(batch)
        #expect(try database.count("validation_queue") == 1)
        #expect(try database.count("readings_validated", where: "quality IS NULL") == 6)

        let now = t0.adding(seconds: 10 * day)
        let first = try await drain(stores.validation, now: now)
        #expect(try database.count("validation_queue") == 0)
        #expect(
            try database.connect().query(
                "SELECT quality, array_to_string(reasons, ',') FROM readings_validated ORDER BY read_at"
            )
            .map { $0.map { $0 ?? "NULL" } } == [
                ["0", ""], ["0", ""], ["0", ""], ["0", ""], ["3", "spike"], ["0", ""],
            ]
        )
        // Day 2's end (day 3 00:00) lies between 1,003 m³ at 12:00 and 1,004.4 m³ at 02:00 next day: 1,004.2 m³.
        let days = try database.connect().query(
            "SELECT day::text, start_index_ml, end_index_ml, volume_ml, read_quality_name(quality), array_to_string(reasons, ','), version FROM daily_reads ORDER BY day"
        ).map { $0.map { $0 ?? "NULL" } }
        #expect(
            days == [
                ["2026-01-01", "1000000000", "1002000000", "2000000", "valid", "", "1"],
                ["2026-01-02", "1002000000", "1004200000", "2200000", "estimated", "estimated_boundary", "1"],
            ]
        )
        #expect(first.published == 2 && first.corrections == 0)
        // Day 1 from two authenticated frozen totals; day 2's end interpolated between two encrypted reads.
        #expect(
            try database.connect().query("SELECT protection::text FROM billing_feed ORDER BY seq")
                == [["authenticated"], ["encrypted"]]
        )
        #expect(try database.count("billing_feed") == 2)

        // Validating again with nothing new publishes nothing.
        try database.connect().execute(
            "INSERT INTO validation_queue (meter_id, dirty_from) VALUES (\(meter), '2026-01-01Z')"
        )
        let again = try await drain(stores.validation, now: now)
        #expect(again.published == 0 && again.daysChanged == 0 && again.readsChanged == 0)

        // The actual frozen total at day 3 00:00 arrives late: day 2 becomes valid, billing gets a correction.
        var late = SinkBatch()
        late.readings = [reading(meter, 2 * day, ml: 1_004_100_000, kind: .dailyFrozen)]
        _ = try await writer.write(late)
        let corrected = try await drain(stores.validation, now: now)
        #expect(corrected.corrections == 1)
        let feed = try database.connect().query(
            "SELECT seq, day::text, version, is_correction, volume_ml, quality, protection FROM billing_daily_reads ORDER BY seq"
        ).map { Array($0.dropFirst()).map { $0 ?? "NULL" } }
        // The correction rests on the late authenticated frozen total: authenticated.
        #expect(
            feed == [
                ["2026-01-01", "1", "f", "2000000", "valid", "authenticated"],
                ["2026-01-02", "1", "f", "2200000", "estimated", "encrypted"],
                ["2026-01-02", "2", "t", "2100000", "valid", "authenticated"],
            ]
        )
    }

    /// A native meter's alarm snapshot and its reading of the same second, the register having moved one litre
    /// between them: the authenticated frame counter orders them as the meter took them, so neither is an index
    /// decrease (in kind order the later reading came first and the snapshot was rejected). A real decrease in the
    /// same second, the counter saying the lower register came later, is still rejected.
    @Test func readsOfTheSameSecondAreJudgedInTheOrderOfTheirFrameCounters() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let stores = TestStores(conninfo: database.conninfo)
        _ = try await stores.telemetry.migrate()
        var profile = MeterProfile(protocol: .native, address: "42")
        profile.qmaxMillilitresPerHour = 6_000_000
        _ = try await stores.meters.importMeters([profile], columns: [.qmaxM3h])
        let meter = try #require(Int64(try database.scalar("SELECT id FROM meters") ?? ""))
        func read(_ seconds: Int64, ml: Int64, kind: ReadingKind, counter: Int64) -> ReadingRecord {
            var record = reading(meter, seconds, ml: ml, kind: kind)
            record.frameCounter = counter
            return record
        }
        var batch = SinkBatch()
        batch.readings = [
            read(hour, ml: 5_000_000, kind: .periodic, counter: 7),
            // Same second: the snapshot (counter 8) before the reading (counter 9), one litre apart.
            read(2 * hour, ml: 5_100_000, kind: .alarmSnapshot, counter: 8),
            read(2 * hour, ml: 5_101_000, kind: .periodic, counter: 9),
            // Same second again, but the snapshot (counter 11) is the later one and lower: a real decrease.
            read(3 * hour, ml: 5_200_000, kind: .periodic, counter: 10),
            read(3 * hour, ml: 5_150_000, kind: .alarmSnapshot, counter: 11),
        ]
        _ = try await stores.telemetry.write(batch)
        _ = try await drain(stores.validation, now: t0.adding(seconds: 2 * day))
        #expect(
            try database.connect().query(
                "SELECT kind, quality, array_to_string(reasons, ',') FROM readings_validated ORDER BY read_at, frame_counter"
            ).map { $0.map { $0 ?? "NULL" } } == [
                ["0", "0", ""], ["2", "0", ""], ["0", "0", ""], ["0", "0", ""], ["2", "3", "index_decrease"],
            ]
        )
    }

    @Test func anIngestDuringValidationKeepsTheMeterQueued() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let stores = TestStores(conninfo: database.conninfo)
        let writer = stores.telemetry
        _ = try await writer.migrate()
        _ = try await stores.meters.importMeters([MeterProfile(protocol: .native, address: "43")], columns: [])
        let meter = try #require(Int64(try database.scalar("SELECT id FROM meters") ?? ""))
        var batch = SinkBatch()
        batch.readings = [reading(meter, 0, ml: 5_000_000)]
        _ = try await writer.write(batch)
        let seen = try #require(try await stores.validation.dirtyMeters(limit: 5).first)
        // New data for the same meter lands after the validator read the queue row.
        batch.readings = [reading(meter, -day, ml: 4_000_000)]
        _ = try await writer.write(batch)
        _ = try await stores.validation.validate(seen, settings: ValidationSettings(), now: t0.adding(seconds: day))
        let left = try #require(try await stores.validation.dirtyMeters(limit: 5).first)
        #expect(left.version == seen.version + 1)
        #expect(left.dirtyFrom == t0.adding(seconds: -day))
    }

    /// Billing pages the feed by `seq` and never goes back, so a row must not commit after a row with a higher `seq`
    /// (the reader would already be past it). Two validators publish at once; the first one's transaction is slowed
    /// down after its feed row took its `seq` (a trigger sleeps), while a reader pages the feed the way billing does.
    /// The feed lock makes the second wait for the first's commit, so the reader sees every row once.
    @Test func twoValidatorsPublishingAtOnceSkipNoRowForAReaderPagingBySeq() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let stores = TestStores(conninfo: database.conninfo)
        let writer = stores.telemetry
        _ = try await writer.migrate()
        _ = try await stores.meters.importMeters(
            [MeterProfile(protocol: .native, address: "51"), MeterProfile(protocol: .native, address: "52")],
            columns: []
        )
        let ids = try database.connect().query("SELECT id FROM meters ORDER BY address").compactMap {
            $0.first.flatMap { $0 }.flatMap { Int64($0) }
        }
        let (slow, fast) = (try #require(ids.first), try #require(ids.last))
        var batch = SinkBatch()
        for meter in [slow, fast] {
            batch.readings += [
                reading(meter, 0, ml: 1_000_000_000, kind: .dailyFrozen),
                reading(meter, day, ml: 1_001_000_000, kind: .dailyFrozen),
            ]
        }
        _ = try await writer.write(batch)
        try database.connect().executeScript(
            """
            CREATE FUNCTION t_slow_feed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.meter_id = \(slow) THEN PERFORM pg_sleep(2); END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER t_slow_feed AFTER INSERT ON billing_feed FOR EACH ROW EXECUTE FUNCTION t_slow_feed();
            """
        )
        let queue = try await stores.validation.dirtyMeters(limit: 5)
        let (slowMeter, fastMeter) = (
            try #require(queue.first { $0.meterID == slow }), try #require(queue.first { $0.meterID == fast })
        )
        let second = PostgresSession(.gateway(conninfo: database.conninfo), logger: testLogger)
        let now = t0.adding(seconds: 10 * day)

        let reader = try database.connect()
        defer { reader.close() }
        var seen: [String] = []
        var cursor = "0"
        func page() throws {
            let rows = try reader.query(
                "SELECT seq FROM billing_feed WHERE seq > $1::bigint ORDER BY seq",
                parameters: [cursor]
            )
            let seqs = rows.compactMap { $0.first.flatMap { $0 } }
            seen += seqs
            cursor = seqs.last ?? cursor
        }
        let done = Done()
        let slowRun = Task {
            defer { done.count.withLock { $0 += 1 } }
            return try await stores.validation.validate(slowMeter, settings: ValidationSettings(), now: now)
        }
        try await Task.sleep(for: .milliseconds(500))  // the slow validator is inside its sleep, its seq taken
        let fastRun = Task {
            defer { done.count.withLock { $0 += 1 } }
            return try await ValidationStore(second).validate(fastMeter, settings: ValidationSettings(), now: now)
        }
        while done.count.withLock({ $0 }) < 2 {
            try page()
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await slowRun.value.published == 1)
        #expect(try await fastRun.value.published == 1)
        try page()
        let all = try database.connect().query("SELECT seq FROM billing_feed ORDER BY seq").compactMap {
            $0.first.flatMap { $0 }
        }
        #expect(all.count == 2)
        #expect(seen == all, "every feed row reached the reader, once")
        await second.close()
        await stores.close()
    }

    /// `validation.delay_seconds`: a meter is validated only once its queue entry has settled that long, so a
    /// daily report still arriving frame by frame is judged whole.
    @Test func aMeterIsValidatedOnlyOnceItsQueueEntryHasSettled() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let stores = TestStores(conninfo: database.conninfo)
        _ = try await stores.telemetry.migrate()
        _ = try await stores.meters.importMeters([MeterProfile(protocol: .native, address: "61")], columns: [])
        let meter = try #require(Int64(try database.scalar("SELECT id FROM meters") ?? ""))
        var batch = SinkBatch()
        batch.readings = [reading(meter, 0, ml: 5_000_000)]
        _ = try await stores.telemetry.write(batch)
        #expect(try await stores.validation.dirtyMeters(limit: 5, settledSeconds: 60).isEmpty, "queued just now")
        #expect(try await stores.validation.dirtyMeters(limit: 5).map(\.meterID) == [meter])
        _ = try database.scalar("UPDATE validation_queue SET queued_at = now() - interval '61 seconds' RETURNING 1")
        #expect(try await stores.validation.dirtyMeters(limit: 5, settledSeconds: 60).map(\.meterID) == [meter])
        #expect(try await stores.validation.dirtyMeters(limit: 5, settledSeconds: 120).isEmpty)
        await stores.close()
    }

    /// Two deliveries of one reading (same meter, time and kind) with different volumes: the first is kept, the
    /// conflict recorded, and the validator holds the stored reading as suspect `conflicting_duplicate`, so billing
    /// never takes a value that the meter also reported otherwise without a person looking at it.
    @Test func aConflictingDuplicateHoldsTheStoredReadingForReview() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let stores = TestStores(conninfo: database.conninfo)
        _ = try await stores.telemetry.migrate()
        _ = try await stores.meters.importMeters([MeterProfile(protocol: .native, address: "71")], columns: [])
        let meter = try #require(Int64(try database.scalar("SELECT id FROM meters") ?? ""))
        var batch = SinkBatch()
        batch.readings = [
            reading(meter, 0, ml: 1_000_000_000, kind: .dailyFrozen),
            reading(meter, 12 * hour, ml: 1_000_500_000),
            reading(meter, day, ml: 1_001_000_000, kind: .dailyFrozen),
        ]
        _ = try await stores.telemetry.write(batch)
        batch.readings = [reading(meter, 12 * hour, ml: 1_000_700_000)]
        _ = try await stores.telemetry.write(batch)
        #expect(try database.count("readings") == 3, "the first value is kept")
        #expect(try database.count("value_conflicts") == 1)

        _ = try await drain(stores.validation, now: t0.adding(seconds: 10 * day))
        let verdicts = try database.connect().query(
            """
            SELECT read_quality_name(quality), ('conflicting_duplicate' = ANY (reasons))::text, volume_ml::text
            FROM readings_validated WHERE read_at = '2026-01-01 12:00:00Z'
            """
        )
        #expect(verdicts == [["suspect", "true", "1000500000"]])
        await stores.close()
    }

    /// How many of a test's tasks have finished.
    private final class Done: Sendable {
        let count = Mutex(0)
    }
}
