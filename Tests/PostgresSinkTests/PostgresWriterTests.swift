import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct PostgresWriterTests {
    // MARK: Migrations

    @Test func migrateTwiceIsANoOp() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let writer = PostgresWriter(conninfo: database.conninfo, logger: testLogger)
        let all = Migrations.all.map(\.version)
        #expect(all == Array(1...all.count))
        #expect(try await writer.migrate() == all)
        #expect(try await writer.migrate() == [])
        let connection = try database.connect()
        #expect(try connection.migrate() == [])
        #expect(try connection.schemaVersion() == all.count)
        #expect(try database.count("schema_migrations") == all.count)
        #expect(try database.scalar("SELECT name FROM schema_migrations WHERE version = 1") == "initial schema")
        await writer.close()
    }

    @Test func concurrentMigrationsApplyEachVersionOnce() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let first = PostgresWriter(conninfo: database.conninfo, logger: testLogger)
        let second = PostgresWriter(conninfo: database.conninfo, logger: testLogger)
        async let a = first.migrate()
        async let b = second.migrate()
        let applied = try await a + b
        #expect(applied == Migrations.all.map(\.version))
        #expect(try database.count("schema_migrations") == Migrations.all.count)
        await first.close()
        await second.close()
    }

    /// A v1 database with stored readings and conflicts upgrades in place: old rows get basis, storage and tariff 0,
    /// and a reading that differs only in basis (Vm next to Vb) is a new row, not a conflict.
    @Test func v2UpgradesAV1DatabaseWithRows() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        #expect(try connection.migrate(through: 1) == [1])
        try connection.execute(
            """
            INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, valve, status_bits,
                source)
            VALUES (1, '2026-01-01 00:00Z', 0, '2026-01-01 00:01Z', 5000, 0, 0, 0, 'native')
            """
        )
        try connection.execute(
            """
            INSERT INTO value_conflicts (series, meter_id, at, kind, stored_volume_ml, conflicting_volume_ml, received_at)
            VALUES ('reading', 1, '2026-01-01 00:00Z', 0, 5000, 6000, '2026-01-01 00:02Z')
            """
        )
        #expect(try connection.migrate().first == 2)
        #expect(try database.scalar("SELECT basis || '/' || storage || '/' || tariff FROM readings") == "0/0/0")
        #expect(try database.scalar("SELECT basis || '/' || storage || '/' || tariff FROM value_conflicts") == "0/0/0")

        let writer = PostgresWriter(conninfo: database.conninfo, logger: testLogger)
        var batch = SinkBatch()
        let at = Timestamp(secondsSinceEpoch: 1_767_225_600)  // 2026-01-01 00:00 UTC
        var converted = ReadingRecord(
            meterID: 1,
            readAt: at,
            receivedAt: at.adding(seconds: 120),
            kind: .periodic,
            volumeMillilitres: 4_800,
            registerModulusMillilitres: 0,
            flowMillilitresPerHour: nil,
            valve: .unknown,
            batteryMillivolts: nil,
            temperatureCentiCelsius: nil,
            signalDBm: nil,
            statusBits: 0,
            frameCounter: nil,
            source: .wmbus,
            basis: .converted
        )
        batch.readings.append(converted)
        converted.volumeMillilitres = 4_900  // the same key again with another value: a conflict
        batch.readings.append(converted)
        let summary = try await writer.write(batch)
        #expect(summary.readingsInserted == 1)
        #expect(summary.conflicts == 1)
        #expect(try database.count("readings") == 2)
        #expect(
            try database.scalar("SELECT basis || ':' || conflicting_volume_ml FROM value_conflicts WHERE basis = 2")
                == "2:4900"
        )
        await writer.close()
    }

    @Test func seededDeadlinesMatchServiceCommitments() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        _ = try connection.migrate()
        let policy = TicketPolicy.serviceCommitments
        for priority in TicketPriority.allCases {
            for isRural in [false, true] {
                let row = try connection.query(
                    "SELECT acknowledge_s, arrive_s, make_safe_s, repair_s FROM ticket_deadline_settings WHERE priority = $1 AND is_rural = $2::boolean",
                    parameters: [priority.rawValue, String(isRural)]
                )
                let expected = policy.deadlines(for: priority, isRural: isRural)
                #expect(
                    row.first
                        == [
                            expected.acknowledgeSeconds, expected.arriveSeconds, expected.makeSafeSeconds,
                            expected.repairSeconds,
                        ].map { String($0) }
                )
            }
        }
    }

    // MARK: Batches

    @Test(arguments: [false, true])
    func batchLandsWithExactValuesAndReplayChangesNothing(perTransactionStages: Bool) async throws {
        try await withMigratedWriter { writer, database, ids in
            let writer =
                perTransactionStages
                ? PostgresWriter(conninfo: database.conninfo, logger: testLogger, stageStrategy: .perTransaction)
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
                FROM readings ORDER BY read_at
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
            #expect(replay.framesInserted == 0 && replay.framesDuplicate == 2)
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

    // MARK: Tickets

    @Test func twoAlarmsOfOneMeterAndConditionMakeOneTicketAndTwoEvents() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            let summary = try await writer.write(
                batch(alarms: [
                    makeAlarm(meter: m1, raisedAt: at(10), rawCode: 0x21),
                    makeAlarm(meter: m1, raisedAt: at(20), rawCode: 0x21),
                ])
            )
            #expect(summary.alarmsInserted == 2)
            #expect(summary.ticketsOpened == 1)
            #expect(summary.ticketEvents == 2)
            #expect(summary.events.map(\.kind) == ["opened", "alarm"])
            let ticket = try #require(summary.openedTickets.first)
            #expect(ticket.meterID == m1 && ticket.condition == .methaneDetector && ticket.priority == .p0)
            #expect(ticket.openedAt == at(12))
            #expect(try database.count("repair_tickets") == 1)
            #expect(try database.scalar("SELECT alarm_count FROM repair_tickets") == "2")
            #expect(
                try database.scalar("SELECT first_alarm_id = (SELECT min(id) FROM alarms) FROM repair_tickets") == "t"
            )
            let events = try database.connect().query(
                "SELECT kind, actor, alarm_id IS NOT NULL FROM ticket_events ORDER BY id"
            )
            #expect(events == [["opened", "gateway", "t"], ["alarm", "gateway", "t"]])

            // A later alarm joins the open ticket.
            let later = try await writer.write(batch(alarms: [makeAlarm(meter: m1, raisedAt: at(300))]))
            #expect(later.ticketsOpened == 0 && later.ticketEvents == 1)
            #expect(later.events.first?.kind == "alarm" && later.events.first?.ticketID == ticket.id)
            #expect(try database.scalar("SELECT alarm_count FROM repair_tickets") == "3")
            #expect(try database.scalar("SELECT last_alarm_at FROM repair_tickets") == "2026-03-01 00:05:02+00")

            // Another condition of the same meter opens its own ticket.
            let other = try await writer.write(
                batch(alarms: [
                    makeAlarm(meter: m1, raisedAt: at(300), condition: .tiltOrRemoval, priority: .p1, rawCode: 0x05)
                ])
            )
            #expect(other.ticketsOpened == 1)
            #expect(try database.count("repair_tickets") == 2)
        }
    }

    @Test func clearedAlarmDoesNotOpenATicketButIsRecordedOnAnActiveOne() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            let cleared = try await writer.write(
                batch(alarms: [makeAlarm(meter: m1, raisedAt: at(10), isCleared: true)])
            )
            #expect(cleared.alarmsInserted == 1)
            #expect(cleared.ticketsOpened == 0 && cleared.ticketEvents == 0)
            #expect(try database.count("repair_tickets") == 0)

            _ = try await writer.write(batch(alarms: [makeAlarm(meter: m1, raisedAt: at(20))]))
            let clear = try await writer.write(batch(alarms: [makeAlarm(meter: m1, raisedAt: at(30), isCleared: true)]))
            #expect(clear.ticketsOpened == 0)
            #expect(clear.events.map(\.kind) == ["alarm_cleared"])
            #expect(try database.scalar("SELECT status FROM repair_tickets") == "open")
            #expect(try database.scalar("SELECT alarm_count FROM repair_tickets") == "1")

            // Raise and clear in one batch: opened, then cleared.
            let both = try await writer.write(
                batch(alarms: [
                    makeAlarm(meter: m1, raisedAt: at(40), condition: .overFlow, priority: .p1, rawCode: 0x10),
                    makeAlarm(
                        meter: m1,
                        raisedAt: at(50),
                        condition: .overFlow,
                        priority: .p1,
                        isCleared: true,
                        rawCode: 0x10
                    ),
                ])
            )
            #expect(both.events.map(\.kind) == ["opened", "alarm_cleared"])
        }
    }

    @Test func moreUrgentAlarmRaisesPriorityAndTightensDeadlines() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            let opened = try await writer.write(
                batch(alarms: [
                    makeAlarm(
                        meter: m1,
                        raisedAt: at(0),
                        receivedAt: at(0),
                        condition: .overFlow,
                        priority: .p1,
                        rawCode: 0x10
                    )
                ])
            )
            let p1 = try #require(opened.openedTickets.first)
            #expect(p1.priority == .p1)
            #expect(p1.arriveBy == at(7_200))

            let raised = try await writer.write(
                batch(alarms: [
                    makeAlarm(
                        meter: m1,
                        raisedAt: at(600),
                        receivedAt: at(600),
                        condition: .overFlow,
                        priority: .p0,
                        rawCode: 0x11
                    )
                ])
            )
            #expect(raised.ticketsOpened == 0)
            #expect(raised.events.map(\.kind) == ["alarm", "priority_raised"])
            #expect(raised.events.allSatisfy { $0.priority == .p0 && $0.ticketID == p1.id })
            let row = try database.connect().query(
                "SELECT priority, arrive_by, acknowledge_by, repair_by FROM repair_tickets"
            )
            // P0 urban: arrive 30 min after 00:10 = 00:40 (earlier than P1's 02:00); acknowledge 5 min = 00:15;
            // repair stays 24 h from the first alarm (earlier than 24 h from the second).
            #expect(row == [["P0", "2026-03-01 00:40:00+00", "2026-03-01 00:15:00+00", "2026-03-02 00:00:00+00"]])
            #expect(
                try database.scalar("SELECT detail FROM ticket_events WHERE kind = 'priority_raised'") == "P1 -> P0"
            )

            // A less urgent alarm neither lowers the priority nor emits priority_raised.
            let lower = try await writer.write(
                batch(alarms: [
                    makeAlarm(meter: m1, raisedAt: at(900), condition: .overFlow, priority: .p1, rawCode: 0x10)
                ])
            )
            #expect(lower.events.map(\.kind) == ["alarm"])
            #expect(try database.scalar("SELECT priority FROM repair_tickets") == "P0")
        }
    }

    @Test func priorityRaisedInsideOneBatch() async throws {
        try await withMigratedWriter { writer, _, ids in
            let m1 = try #require(ids["m1"])
            let summary = try await writer.write(
                batch(alarms: [
                    makeAlarm(
                        meter: m1,
                        raisedAt: at(0),
                        receivedAt: at(0),
                        condition: .overFlow,
                        priority: .p1,
                        rawCode: 0x10
                    ),
                    makeAlarm(
                        meter: m1,
                        raisedAt: at(60),
                        receivedAt: at(60),
                        condition: .overFlow,
                        priority: .p0,
                        rawCode: 0x11
                    ),
                ])
            )
            #expect(summary.events.map(\.kind) == ["opened", "alarm", "priority_raised"])
            let ticket = try #require(summary.openedTickets.first)
            #expect(ticket.priority == .p0)
            #expect(ticket.openedAt == at(0))
            #expect(ticket.arriveBy == at(60 + 1_800))
        }
    }

    @Test func deadlinesComeFromSettingsForUrbanAndRuralMeters() async throws {
        try await withMigratedWriter(meters: ["city", "village"], rural: ["village"]) { writer, database, ids in
            let city = try #require(ids["city"])
            let village = try #require(ids["village"])
            let summary = try await writer.write(
                batch(alarms: [
                    makeAlarm(meter: city, raisedAt: at(0), receivedAt: at(0)),
                    makeAlarm(meter: village, raisedAt: at(0), receivedAt: at(0)),
                ])
            )
            let byMeter = Dictionary(uniqueKeysWithValues: summary.openedTickets.map { ($0.meterID, $0) })
            #expect(byMeter[city]?.arriveBy == at(1_800))
            #expect(byMeter[village]?.arriveBy == at(3_600))
            #expect(byMeter[city]?.acknowledgeBy == at(300))
            #expect(byMeter[city]?.makeSafeBy == at(21_600))
            #expect(byMeter[city]?.repairBy == at(86_400))

            // A configured policy replaces the settings for later tickets.
            var policy = TicketPolicy.serviceCommitments
            policy.p0Urban.arriveSeconds = 20 * 60
            policy.p0Rural.arriveSeconds = 40 * 60
            try await writer.syncTicketPolicy(policy)
            #expect(
                try database.scalar(
                    "SELECT arrive_s FROM ticket_deadline_settings WHERE priority = 'P0' AND NOT is_rural"
                ) == "1200"
            )
            let next = try await writer.write(
                batch(alarms: [
                    makeAlarm(
                        meter: city,
                        raisedAt: at(10),
                        receivedAt: at(10),
                        condition: .flowWithValveClosed,
                        rawCode: 0x30
                    ),
                    makeAlarm(
                        meter: village,
                        raisedAt: at(10),
                        receivedAt: at(10),
                        condition: .flowWithValveClosed,
                        rawCode: 0x30
                    ),
                ])
            )
            let nextByMeter = Dictionary(uniqueKeysWithValues: next.openedTickets.map { ($0.meterID, $0) })
            #expect(nextByMeter[city]?.arriveBy == at(10 + 1_200))
            #expect(nextByMeter[village]?.arriveBy == at(10 + 2_400))
        }
    }

    @Test func concurrentWritersOpenExactlyOneActiveTicketPerMeterAndCondition() async throws {
        let meters = (0..<40).map { "c\($0)" }
        try await withMigratedWriter(meters: meters) { writer, database, ids in
            let other = PostgresWriter(conninfo: database.conninfo, logger: testLogger)
            let meterIDs = meters.compactMap { ids[$0] }
            for round in 0..<5 {
                let condition = AlarmCondition.allCases[round]
                // Each writer reports a different alarm (different raise time) for every meter, same condition.
                let first = batch(
                    alarms: meterIDs.map {
                        makeAlarm(meter: $0, raisedAt: at(Int64(round * 1_000)), condition: condition)
                    }
                )
                let second = batch(
                    alarms: meterIDs.reversed().map {
                        makeAlarm(meter: $0, raisedAt: at(Int64(round * 1_000 + 1)), condition: condition)
                    }
                )
                async let a = writer.write(first)
                async let b = other.write(second)
                let (sa, sb) = try await (a, b)
                #expect(sa.ticketsOpened + sb.ticketsOpened == meterIDs.count)
                #expect(sa.ticketEvents + sb.ticketEvents == 2 * meterIDs.count)
                let active = try database.count(
                    "repair_tickets",
                    where:
                        "condition = '\(condition.rawValue)' AND status IN ('open', 'acknowledged', 'dispatched', 'on_site', 'made_safe')"
                )
                #expect(active == meterIDs.count)
                let perTicket = try database.connect().query(
                    """
                    SELECT t.alarm_count, count(*) FILTER (WHERE e.kind = 'opened'), count(*) FILTER (WHERE e.kind = 'alarm')
                    FROM repair_tickets t JOIN ticket_events e ON e.ticket_id = t.id
                    WHERE t.condition = $1 GROUP BY t.id, t.alarm_count
                    """,
                    parameters: [condition.rawValue]
                )
                #expect(perTicket.count == meterIDs.count)
                #expect(perTicket.allSatisfy { $0 == ["2", "1", "1"] })
            }
            await other.close()
        }
    }

    @Test func databaseRejectsASecondActiveTicket() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            _ = try await writer.write(batch(alarms: [makeAlarm(meter: m1, raisedAt: at(0))]))
            let connection = try database.connect()
            let insert = """
                INSERT INTO repair_tickets (meter_id, condition, priority, opened_at, last_alarm_at)
                VALUES ($1::bigint, 'methane_detector', 'P0', now(), now())
                """
            let error = #expect(throws: PostgresError.self) { try connection.execute(insert, parameters: [String(m1)]) }
            #expect(error?.sqlState == "23505")
            #expect(error?.code == .serverError)
            #expect(error?.isRetryable == false)
            // A closed ticket does not block a new active one.
            try connection.execute("UPDATE repair_tickets SET status = 'closed'")
            try connection.execute(insert, parameters: [String(m1)])
            // And the next alarm joins that new ticket rather than the closed one.
            let next = try await writer.write(batch(alarms: [makeAlarm(meter: m1, raisedAt: at(60))]))
            #expect(next.ticketsOpened == 0 && next.events.map(\.kind) == ["alarm"])
        }
    }

    /// Another session (one that does not take the ticket lock) holds an uncommitted active ticket for the same
    /// meter and condition: the writer's upsert must wait for it and then join it, not open a second one.
    @Test func upsertWaitsForAConcurrentTicketAndJoinsIt() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            let other = try database.connect()
            try other.execute("BEGIN")
            try other.execute(
                """
                INSERT INTO repair_tickets (meter_id, condition, priority, opened_at, last_alarm_at)
                VALUES ($1::bigint, 'methane_detector', 'P1', now(), now())
                """,
                parameters: [String(m1)]
            )
            let writerPID = try #require(await writer.backendPID)
            async let pending = writer.write(batch(alarms: [makeAlarm(meter: m1, raisedAt: at(0))]))
            // Wait until the writer's backend is blocked on the other session's row.
            let observer = try database.connect()
            var waited = false
            for _ in 0..<100 {
                let state = try observer.query(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1::integer",
                    parameters: [String(writerPID)]
                )
                if state.first?.first == "Lock" {
                    waited = true
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(waited)
            try other.execute("COMMIT")
            let summary = try await pending
            #expect(summary.ticketsOpened == 0)
            #expect(summary.events.map(\.kind) == ["alarm"])
            #expect(summary.events.first?.priority == .p0)
            #expect(try database.count("repair_tickets") == 1)
            #expect(try database.scalar("SELECT priority || '/' || alarm_count FROM repair_tickets") == "P0/2")
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

    // MARK: Meters

    @Test func registersLoadsAndUpdatesMeters() async throws {
        try await withMigratedWriter(meters: []) { writer, database, _ in
            let key = Array(UInt8(0)..<16)
            let registered = try await writer.registerMeters([
                MeterRegistration(protocol: .wmbus, address: "12345678", district: "north", isRural: true, aesKey: key),
                MeterRegistration(protocol: .wmbus, address: "87654321"),
                MeterRegistration(protocol: .cjt188, address: "12345678", district: "south"),
            ])
            #expect(registered == 3)
            let wmbus = try await writer.loadMeters(protocol: .wmbus)
            #expect(wmbus.map(\.address) == ["12345678", "87654321"])
            #expect(
                wmbus[0].aesKey == key && wmbus[0].isRural && wmbus[0].district == "north"
                    && wmbus[0].protocol == .wmbus
            )
            #expect(wmbus[1].aesKey == nil && !wmbus[1].isRural && wmbus[1].district == nil)
            #expect(!wmbus[0].description.contains("0, 1, 2"))
            #expect(wmbus[0].description.contains("<redacted>"))

            let cjt = try await writer.lookupMeter(protocol: .cjt188, address: "12345678")
            #expect(cjt?.district == "south")
            #expect(try await writer.lookupMeter(protocol: .mbus, address: "12345678") == nil)

            // Re-registering updates in place: same id, new key and district.
            let newKey = [UInt8](repeating: 0xAB, count: 16)
            #expect(
                try await writer.registerMeters([
                    MeterRegistration(protocol: .wmbus, address: "87654321", district: "east", aesKey: newKey)
                ]) == 1
            )
            let updated = try await writer.lookupMeter(protocol: .wmbus, address: "87654321")
            #expect(updated?.id == wmbus[1].id && updated?.aesKey == newKey && updated?.district == "east")
            #expect(try database.count("meters") == 3)

            let error = await #expect(throws: PostgresError.self) {
                try await writer.registerMeters([MeterRegistration(protocol: .wmbus, address: "x", aesKey: [1, 2, 3])])
            }
            #expect(error?.code == .invalidArgument)
            #expect(error.map { !$0.description.contains("1, 2, 3") } == true)
        }
    }
}

/// The JSON object of a `ticket_events` notification.
func eventJSON(_ note: PostgresNotification) -> [String: Any]? {
    guard let data = note.payload.data(using: .utf8) else { return nil }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
}
