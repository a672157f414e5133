import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct TelemetryStoreTests {
    // MARK: Batches

    @Test(arguments: [false, true])
    func batchLandsWithExactValuesAndReplayChangesNothing(perTransactionStages: Bool) async throws {
        try await withMigratedWriter { writer, database, ids in
            let writer =
                perTransactionStages
                ? TelemetryStore(conninfo: database.conninfo, logger: testLogger, stageStrategy: .perTransaction)
                : writer
            let m1 = try #require(ids["m1"])
            var sparse = makeReading(meter: m1, at: at(60), volume: 2_000, kind: .dailyFrozen)
            sparse.flowMillilitresPerHour = nil
            sparse.batteryMillivolts = nil
            sparse.temperatureCentiCelsius = nil
            sparse.signalDBm = nil
            sparse.frameCounter = nil
            sparse.valve = .unknown
            sparse.statusBits = Int64.min
            let readings = [makeReading(meter: m1, at: at(0), volume: 1_234_567_890_123), sparse]
            var intervals: [IntervalRecord] = []
            for index in 0..<3 {
                let offset = Int64(index)
                intervals.append(
                    makeInterval(meter: m1, start: at(offset * 1_800), volume: 100 + offset, endIndex: 10_000 + offset)
                )
            }
            let frames = [
                UplinkFrameRecord(meterID: m1, frameCounter: 41, frameType: 1, meterTime: at(0), receivedAt: at(5)),
                UplinkFrameRecord(meterID: m1, frameCounter: 42, frameType: 3, meterTime: at(60), receivedAt: at(65)),
            ]
            let quarantine = [
                QuarantineRecord(
                    receivedAt: Timestamp(microsecondsSinceEpoch: 1_772_323_200_123_456),
                    topic: "meters/native/up/000123",
                    payload: [0x68, 0x00, 0xFF, 0x16],
                    reason: "bad_crc",
                    detail: "crc 0x1234 != 0xbeef\u{0}!",
                    source: .native,
                    meterAddress: "000123"
                )
            ]
            let alarm = makeAlarm(meter: m1, raisedAt: at(100))
            let input = batch(
                readings: readings,
                intervals: intervals,
                alarms: [alarm],
                frames: frames,
                quarantine: quarantine
            )

            let first = try await writer.write(input)
            #expect(first.readingsInserted == 2)
            #expect(first.intervalsInserted == 3)
            #expect(first.framesInserted == 2)
            #expect(first.quarantined == 1)
            #expect(first.alarmsInserted == 1)
            #expect(first.ticketsOpened == 1)
            #expect(first.ticketEvents == 1)
            #expect(first.conflicts == 0)

            let reading = try database.connect().query(
                """
                SELECT meter_id, (extract(epoch FROM read_at) * 1000000)::bigint, kind,
                    (extract(epoch FROM received_at) * 1000000)::bigint, volume_ml, register_modulus_ml, flow_ml_per_h,
                    valve, battery_mv, temperature_centi_c, signal_dbm, status_bits, frame_counter, source
                FROM readings_validated ORDER BY read_at
                """
            )
            #expect(
                reading == [
                    [
                        "\(m1)", "\(at(0).microsecondsSinceEpoch)", "0", "\(at(5).microsecondsSinceEpoch)",
                        "1234567890123",
                        "100000000000", "1200", "0", "3600", "2150", "-87", "0", "17", "native",
                    ],
                    [
                        "\(m1)", "\(at(60).microsecondsSinceEpoch)", "1", "\(at(65).microsecondsSinceEpoch)", "2000",
                        "100000000000", nil, "255", nil, nil, nil, "\(Int64.min)", nil, "native",
                    ],
                ]
            )
            let storedIntervals = try database.connect().query(
                "SELECT interval_start, interval_minutes, volume_ml, end_index_ml, received_at FROM interval_readings ORDER BY interval_start"
            )
            #expect(
                storedIntervals.map { $0[0] } == [
                    "2026-03-01 00:00:00+00", "2026-03-01 00:30:00+00", "2026-03-01 01:00:00+00",
                ]
            )
            #expect(storedIntervals.map { $0[2] } == ["100", "101", "102"])
            #expect(storedIntervals.map { $0[3] } == ["10000", "10001", "10002"])
            #expect(storedIntervals[0][1] == "30")
            #expect(storedIntervals[0][4] == "2026-03-02 00:00:00+00")
            let storedFrames = try database.connect().query(
                "SELECT meter_id, frame_counter, frame_type, meter_time, received_at FROM uplink_frames ORDER BY frame_counter"
            )
            #expect(
                storedFrames == [
                    ["\(m1)", "41", "1", "2026-03-01 00:00:00+00", "2026-03-01 00:00:05+00"],
                    ["\(m1)", "42", "3", "2026-03-01 00:01:00+00", "2026-03-01 00:01:05+00"],
                ]
            )
            let storedQuarantine = try database.connect().query(
                "SELECT received_at, topic, encode(payload, 'hex'), payload_hash, reason, detail, source, meter_address, replayed_at FROM quarantine"
            )
            #expect(
                storedQuarantine == [
                    [
                        "2026-03-01 00:00:00.123456+00", "meters/native/up/000123", "6800ff16",
                        "\(quarantine[0].payloadHash)",
                        "bad_crc", "crc 0x1234 != 0xbeef\u{FFFD}!", "native", "000123", nil,
                    ]
                ]
            )
            let storedAlarm = try database.connect().query(
                "SELECT meter_id, raised_at, received_at, source, raw_code, condition, is_cleared, priority, valve, detail, frame_counter FROM alarms"
            )
            #expect(
                storedAlarm == [
                    [
                        "\(m1)", "2026-03-01 00:01:40+00", "2026-03-01 00:01:42+00", "native", "33", "methane_detector",
                        "f", "P0", "1", "25", "99",
                    ]
                ]
            )

            // The same batch again: nothing new, no ticket, no event.
            let replay = try await writer.write(input)
            #expect(replay.readingsInserted == 0 && replay.readingsDuplicate == 2)
            #expect(replay.intervalsInserted == 0 && replay.intervalsDuplicate == 3)
            #expect(replay.framesInserted == 0 && replay.duplicateGates == [0, 1])
            #expect(replay.alarmsInserted == 0 && replay.alarmsDuplicate == 1)
            #expect(replay.quarantined == 0)
            #expect(replay.conflicts == 0)
            #expect(replay.ticketsOpened == 0 && replay.ticketEvents == 0 && replay.events.isEmpty)
            #expect(try database.count("readings") == 2)
            #expect(try database.count("interval_readings") == 3)
            #expect(try database.count("uplink_frames") == 2)
            #expect(try database.count("quarantine") == 1)
            #expect(try database.count("alarms") == 1)
            #expect(try database.count("repair_tickets") == 1)
            #expect(try database.count("ticket_events") == 1)
            if perTransactionStages { await writer.close() }
        }
    }

    @Test func differentVolumeUnderAStoredKeyIsRecordedNotOverwritten() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            _ = try await writer.write(
                batch(
                    readings: [makeReading(meter: m1, at: at(0), volume: 100)],
                    intervals: [makeInterval(meter: m1, start: at(0), volume: 7)]
                )
            )
            let changed = try await writer.write(
                batch(
                    readings: [makeReading(meter: m1, at: at(0), volume: 200)],
                    intervals: [makeInterval(meter: m1, start: at(0), volume: 8)]
                )
            )
            #expect(changed.readingsInserted == 0 && changed.readingsDuplicate == 1)
            #expect(changed.conflicts == 2)
            #expect(try database.scalar("SELECT volume_ml FROM readings") == "100")
            #expect(try database.scalar("SELECT volume_ml FROM interval_readings") == "7")
            let conflicts = try database.connect().query(
                "SELECT series, meter_id, at, kind, stored_volume_ml, conflicting_volume_ml FROM value_conflicts ORDER BY series"
            )
            #expect(
                conflicts == [
                    ["interval", "\(m1)", "2026-03-01 00:00:00+00", "0", "7", "8"],
                    ["reading", "\(m1)", "2026-03-01 00:00:00+00", "0", "100", "200"],
                ]
            )
            // Replaying the conflicting batch records nothing new.
            let again = try await writer.write(
                batch(
                    readings: [makeReading(meter: m1, at: at(0), volume: 200)],
                    intervals: [makeInterval(meter: m1, start: at(0), volume: 8)]
                )
            )
            #expect(again.conflicts == 0)
            #expect(try database.count("value_conflicts") == 2)
        }
    }

    @Test func repeatedKeyInsideOneBatchKeepsTheFirstRow() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            let summary = try await writer.write(
                batch(intervals: [
                    makeInterval(meter: m1, start: at(0), volume: 5),
                    makeInterval(meter: m1, start: at(0), volume: 6),
                    makeInterval(meter: m1, start: at(0), volume: 5),
                ])
            )
            #expect(summary.intervalsInserted == 1 && summary.intervalsDuplicate == 2)
            #expect(summary.conflicts == 1)
            #expect(try database.scalar("SELECT volume_ml FROM interval_readings") == "5")
            #expect(try database.scalar("SELECT conflicting_volume_ml FROM value_conflicts") == "6")
        }
    }

    /// A source flooding one key with ever new values records at most `maxConflictsPerKey` of them per key.
    @Test func conflictsPerKeyAreBounded() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            _ = try await writer.write(
                batch(
                    readings: [makeReading(meter: m1, at: at(0), volume: 100)],
                    intervals: [makeInterval(meter: m1, start: at(0), volume: 7)]
                )
            )
            var recorded = 0
            for value in 1...40 {
                let summary = try await writer.write(
                    batch(
                        readings: [makeReading(meter: m1, at: at(0), volume: 1_000 + Int64(value))],
                        intervals: [makeInterval(meter: m1, start: at(0), volume: 1_000 + Int64(value))]
                    )
                )
                recorded += summary.conflicts
            }
            #expect(WriterSQL.maxConflictsPerKey == 16)
            #expect(recorded == 2 * WriterSQL.maxConflictsPerKey)
            #expect(try database.count("value_conflicts", where: "series = 'reading'") == 16)
            #expect(try database.count("value_conflicts", where: "series = 'interval'") == 16)
            // The first values recorded are kept; the stored rows are untouched.
            #expect(try database.scalar("SELECT max(conflicting_volume_ml) FROM value_conflicts") == "1016")
            #expect(try database.scalar("SELECT volume_ml FROM readings") == "100")
            // Another key of the same meter still records its conflict.
            _ = try await writer.write(batch(readings: [makeReading(meter: m1, at: at(60), volume: 5)]))
            let other = try await writer.write(batch(readings: [makeReading(meter: m1, at: at(60), volume: 6)]))
            #expect(other.conflicts == 1)
        }
    }

    /// Fresh batches go straight into the real table; a batch with any stored or repeated key falls back to
    /// staging under a savepoint, leaving no trace of the failed attempt, whatever the duplicate's position.
    @Test func directCopyFallsBackToStagingOnAnyDuplicate() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            func intervals(_ range: Range<Int>, volume: Int64 = 10) -> [IntervalRecord] {
                range.map { makeInterval(meter: m1, start: at(Int64($0) * 1_800), volume: volume) }
            }
            let fresh = try await writer.write(batch(intervals: intervals(0..<10)))
            #expect(fresh.intervalsInserted == 10 && fresh.intervalsDuplicate == 0)
            // Duplicate first, then new rows.
            let overlap = try await writer.write(batch(intervals: intervals(5..<15)))
            #expect(overlap.intervalsInserted == 5 && overlap.intervalsDuplicate == 5 && overlap.conflicts == 0)
            // New rows, duplicate last (after a failure the writer skips the direct attempt for a while; run
            // enough batches to exercise both paths).
            var total = 15
            for round in 0..<6 {
                let start = 15 + round * 10
                let rows = intervals(start..<(start + 10)) + intervals((start - 1)..<start, volume: 99)
                let summary = try await writer.write(batch(intervals: rows))
                #expect(summary.intervalsInserted == 10 && summary.intervalsDuplicate == 1 && summary.conflicts == 1)
                total += 10
            }
            // A key repeated inside one fresh batch: the first row wins, the second is a conflict.
            let repeated = try await writer.write(
                batch(intervals: intervals(200..<203) + intervals(201..<202, volume: 7))
            )
            #expect(repeated.intervalsInserted == 3 && repeated.intervalsDuplicate == 1 && repeated.conflicts == 1)
            total += 3
            #expect(try database.count("interval_readings") == total)
            #expect(try database.count("interval_readings", where: "volume_ml <> 10") == 0)
            #expect(try database.count("value_conflicts") == 7)
        }
    }

    // MARK: Connection loss

    @Test func lostConnectionThrowsRetryableAndTheNextWriteReconnects() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            _ = try await writer.write(batch(readings: [makeReading(meter: m1, at: at(0), volume: 1)]))
            let pid = try #require(await writer.backendPID)
            let admin = try database.connect()
            #expect(try admin.query("SELECT pg_terminate_backend($1::integer)", parameters: [String(pid)]) == [["t"]])

            let input = batch(
                readings: [makeReading(meter: m1, at: at(60), volume: 2)],
                alarms: [makeAlarm(meter: m1, raisedAt: at(60))]
            )
            let error = await #expect(throws: PostgresError.self) { try await writer.write(input) }
            #expect(error?.isRetryable == true)
            #expect(error?.code == .connectionLost)

            let retried = try await writer.write(input)
            #expect(retried.readingsInserted == 1)
            #expect(retried.ticketsOpened == 1)
            #expect(await writer.backendPID != pid)
            #expect(try database.count("readings") == 2)
        }
    }

    @Test func failedCommitLeavesNothingAndTheRetryWritesOnce() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            // A deferred trigger that fails at COMMIT while the flag is set: the whole batch, including the
            // queued notifications, must vanish.
            try database.connect().executeScript(
                """
                CREATE TABLE fail_commit (on_ boolean NOT NULL);
                INSERT INTO fail_commit VALUES (true);
                CREATE FUNCTION fail_commit_check() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF (SELECT on_ FROM fail_commit) THEN RAISE EXCEPTION 'injected commit failure' USING ERRCODE = '40001'; END IF;
                    RETURN NULL;
                END $$;
                CREATE CONSTRAINT TRIGGER fail_commit_trigger AFTER INSERT ON ticket_events
                    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_commit_check();
                """
            )
            let listener = PostgresListener(conninfo: database.conninfo, channel: "ticket_events", logger: testLogger)
            try await listener.start()
            let collector = NotificationCollector(listener.notifications)
            let input = batch(
                readings: [makeReading(meter: m1, at: at(0), volume: 1)],
                alarms: [makeAlarm(meter: m1, raisedAt: at(0))]
            )
            let error = await #expect(throws: PostgresError.self) { try await writer.write(input) }
            #expect(error?.sqlState == "40001" && error?.isRetryable == true)
            #expect(try database.count("readings") == 0)
            #expect(try database.count("repair_tickets") == 0)

            try database.connect().execute("UPDATE fail_commit SET on_ = false")
            let summary = try await writer.write(input)
            #expect(summary.ticketsOpened == 1)
            let notes = await collector.wait(forCount: 1)
            try await Task.sleep(for: .milliseconds(300))
            #expect(collector.all.count == 1)
            #expect(notes.first.flatMap(eventJSON)?["event"] as? String == "opened")
            listener.stop()
            await collector.finished()
        }
    }
}

/// The JSON object of a `ticket_events` notification.
func eventJSON(_ note: PostgresNotification) -> [String: Any]? {
    guard let data = note.payload.data(using: .utf8) else { return nil }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
}
