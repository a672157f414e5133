import Foundation
import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

/// The pipelined write of small alarm batches (``TelemetryStore/writePipelinedIfSmall(_:)``): the rows it sends as
/// array parameters are the rows COPY would store, and a batch leaves the same rows, summary and tickets as the
/// standard path, which takes over whenever the fast case does not hold.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct PipelinedWriteTests {
    /// Every column type the writers use, nullable, so each value and NULL can be compared.
    private static let everyType = StageTables.Table(
        name: "t_every_type",
        columns: [
            ("n", "integer NOT NULL"), ("small", "smallint"), ("whole", "integer"), ("big", "bigint"),
            ("flag", "boolean"), ("at", "timestamptz"), ("words", "text"), ("bytes", "bytea"),
            ("level", "protection_level"),
        ],
        directTarget: nil,
        hasSequence: false
    )

    private struct Row {
        var small: Int16?
        var whole: Int32?
        var big: Int64?
        var flag: Bool?
        var at: Timestamp?
        var words: String?
        var bytes: [UInt8]?
        var level: String?
    }

    private static let rows: [Row] = [
        Row(
            small: .min,
            whole: .max,
            big: .min,
            flag: true,
            at: Timestamp(microsecondsSinceEpoch: 0),
            words: #"a "quoted" \back\slash, {braces} (parens) 'single'"#,
            bytes: [0x00, 0x5C, 0x22, 0xFF],
            level: "authenticated"
        ),
        Row(
            small: .max,
            whole: .min,
            big: .max,
            flag: false,
            at: Timestamp(microsecondsSinceEpoch: -1_234_567_890_123_457),
            words: "NULL",
            bytes: [],
            level: "plain"
        ),
        Row(
            small: 0,
            whole: 0,
            big: 0,
            flag: nil,
            at: Timestamp(microsecondsSinceEpoch: 4_102_444_800_000_001),
            words: "",
            bytes: nil,
            level: nil
        ),
        Row(words: "  spaces kept  \t\n Ünïcødé 計量 🔥", bytes: Array(0...255)),
        Row(),
    ]

    private static func write<W: RowFieldWriter>(_ row: Row, number: Int, to writer: inout W) {
        writer.beginTuple(fieldCount: 9)
        writer.writeInt32(Int32(number))
        writer.writeInt16(row.small)
        writer.writeInt32(row.whole)
        writer.writeInt64(row.big)
        if let flag = row.flag { writer.writeBool(flag) } else { writer.writeNull() }
        if let at = row.at { writer.writeTimestamp(at) } else { writer.writeNull() }
        writer.writeText(row.words)
        writer.writeBytea(row.bytes)
        writer.writeText(row.level)
    }

    @Test func columnArraysStoreExactlyWhatBinaryCopyStores() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        try connection.executeScript("CREATE TYPE protection_level AS ENUM ('plain', 'encrypted', 'authenticated')")
        let copied = Self.everyType
        let sent = StageTables.Table(
            name: "t_every_type_arrays",
            columns: copied.columns,
            directTarget: nil,
            hasSequence: false
        )
        try connection.execute(copied.createSQL(.perSession))
        try connection.execute(sent.createSQL(.perSession))

        var encoder = BinaryCopyEncoder()
        var arrays = ColumnArrays(columnCount: copied.columns.count)
        for (number, row) in Self.rows.enumerated() {
            Self.write(row, number: number, to: &encoder)
            Self.write(row, number: number, to: &arrays)
        }
        encoder.finish()
        try connection.execute("BEGIN")
        #expect(try connection.copyIn(sql: copied.copySQL, data: encoder.bytes) == Self.rows.count)
        let results = try connection.pipeline([
            PipelinedStatement(sent.insertFromArraysSQL(into: sent.name), texts: arrays.parameters),
            PipelinedStatement("SELECT count(*) FROM (TABLE t_every_type EXCEPT ALL TABLE t_every_type_arrays) d"),
            PipelinedStatement("SELECT count(*) FROM (TABLE t_every_type_arrays EXCEPT ALL TABLE t_every_type) d"),
            PipelinedStatement("SELECT words, encode(bytes, 'hex') FROM t_every_type_arrays WHERE n = 0"),
            PipelinedStatement("SELECT count(*) FROM t_every_type_arrays WHERE words = 'NULL' AND bytes = ''::bytea"),
        ])
        try connection.execute("COMMIT")
        #expect(results[0].affected == Self.rows.count)
        #expect(try results[1].rows.first?.decode(0, as: Int.self) == 0)
        #expect(try results[2].rows.first?.decode(0, as: Int.self) == 0)
        #expect(results[3].rows.first?.columns == [Self.rows[0].words, "005c22ff"])
        #expect(try results[4].rows.first?.decode(0, as: Int.self) == 1)
    }

    @Test func aFailingStatementFailsThePipelineAndTheConnectionStaysUsable() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        try connection.execute("CREATE TABLE t (k integer PRIMARY KEY)")
        try connection.execute("BEGIN")
        let error = #expect(throws: PostgresError.self) {
            try connection.pipeline([
                PipelinedStatement("INSERT INTO t VALUES (1)"),
                PipelinedStatement("INSERT INTO t VALUES (1)"),
                PipelinedStatement("INSERT INTO t VALUES (2)"),
            ])
        }
        #expect(error?.sqlState == "23505" && error?.isRetryable == false)
        #expect(connection.isConnected && connection.isInTransaction)
        try connection.execute("ROLLBACK")
        #expect(try connection.query("SELECT count(*) FROM t") == [["0"]])
        let results = try connection.pipeline([
            PipelinedStatement("INSERT INTO t VALUES ($1::integer)", [3]),
            PipelinedStatement("SELECT k FROM t"),
        ])
        #expect(results[0].affected == 1 && results[1].rows.first?.columns == ["3"])
    }

    /// The session's prepared statements, by statement text.
    private static func prepared(on connection: PostgresConnection) throws -> [String] {
        try connection.query("SELECT statement FROM pg_prepared_statements ORDER BY statement").compactMap { $0[0] }
    }

    @Test func pipelinedStatementsArePreparedOncePerSessionAndFollowTheSchema() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        try connection.execute("CREATE TABLE t (k integer PRIMARY KEY)")
        let insert = "INSERT INTO t VALUES ($1::integer)"
        let count = "SELECT count(*) FROM t"
        for key in 1...3 {
            let results = try connection.pipeline([PipelinedStatement(insert, [key]), PipelinedStatement(count)])
            #expect(try results[1].rows.first?.decode(0, as: Int.self) == key)
        }
        #expect(try Self.prepared(on: connection) == [insert, count])

        // The table dropped and made again (as a per-transaction stage table is): the server re-plans them.
        try connection.execute("DROP TABLE t")
        try connection.execute("CREATE TABLE t (k integer PRIMARY KEY, note text)")
        let again = try connection.pipeline([PipelinedStatement(insert, [7]), PipelinedStatement(count)])
        #expect(try again[1].rows.first?.decode(0, as: Int.self) == 1)
        #expect(try Self.prepared(on: connection) == [insert, count])

        // A statement that does not parse is thrown before anything is sent, and is not kept.
        let error = #expect(throws: PostgresError.self) {
            try connection.pipeline([PipelinedStatement(insert, [8]), PipelinedStatement("SELEC 1")])
        }
        #expect(error?.sqlState == "42601")
        #expect(try connection.query(count) == [["1"]])
        #expect(try Self.prepared(on: connection) == [insert, count])

        // A new server session holds none; they are prepared again. Past the limit statements run unnamed.
        try connection.reset()
        #expect(try Self.prepared(on: connection).isEmpty)
        connection.preparedStatementLimit = 1
        let unnamed = try connection.pipeline([PipelinedStatement(insert, [9]), PipelinedStatement(count)])
        #expect(try unnamed[1].rows.first?.decode(0, as: Int.self) == 2)
        #expect(try Self.prepared(on: connection) == [insert])
    }

    @Test func migratingForgetsThePreparedStatements() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        _ = try connection.migrate(through: 29)
        let list = "SELECT * FROM validated_reading_days"
        _ = try connection.pipeline([PipelinedStatement(list)])
        #expect(try Self.prepared(on: connection) == [list])
        #expect(try connection.migrate() == [30])
        #expect(try Self.prepared(on: connection).isEmpty)
        #expect(try connection.migrate().isEmpty)
    }

    /// An authenticated alarm frame as the ladder makes it: its gate, its frame-log row, its reading and its alarm.
    private static func alarmFrame(
        meter: Int64,
        counter: Int64,
        at seconds: Int64,
        authenticated: Bool = true,
        into batch: inout SinkBatch
    ) {
        let time = at(seconds)
        batch.gates.append(
            FrameGate(
                meterID: meter,
                identity: .counter(UInt32(counter)),
                counter: authenticated ? ReplayCounter(authenticated: .nativeFrame, value: UInt32(counter)) : nil,
                fingerprint: counter &* 0x9E37_79B9,
                source: .native,
                receivedAt: time.adding(seconds: 1),
                rowsStartingAt: batch
            )
        )
        batch.frames.append(
            UplinkFrameRecord(
                meterID: meter,
                frameCounter: counter,
                frameType: 3,
                meterTime: time,
                receivedAt: time.adding(seconds: 1)
            )
        )
        var reading = makeReading(meter: meter, at: time, volume: 1_000 + counter)
        reading.frameCounter = counter
        batch.readings.append(reading)
        batch.alarms.append(makeAlarm(meter: meter, raisedAt: time, rawCode: 0x21))
    }

    /// What a database holds after the writes, without generated ids (the paths may draw different ones).
    private static let contents = [
        "SELECT meter_id, read_at, kind, volume_ml, frame_counter, source, protection_flags FROM readings ORDER BY 1, 2",
        "SELECT meter_id, frame_counter, frame_type, meter_time, received_at FROM uplink_frames ORDER BY 1, 2",
        "SELECT meter_id, kind, identity, fingerprint, source FROM frame_identities ORDER BY 1, 2, 3",
        "SELECT meter_id, kind, high_water, forgotten_through FROM counter_marks ORDER BY 1, 2",
        "SELECT meter_id, raised_at, condition, priority, is_cleared FROM alarms ORDER BY 1, 2",
        "SELECT meter_id, condition, priority, status, alarm_count, opened_at, arrive_by FROM repair_tickets ORDER BY 1",
        "SELECT t.meter_id, e.kind FROM ticket_events e JOIN repair_tickets t ON t.id = e.ticket_id ORDER BY e.id",
        "SELECT meter_id, dirty_from FROM validation_queue ORDER BY 1",
    ]

    private static func snapshot(_ database: TestDatabase) throws -> [[[String?]]] {
        let connection = try database.connect()
        return try contents.map { try connection.query($0) }
    }

    /// The parts of a summary both paths must agree on (ids aside).
    private static func outcome(_ summary: CommitSummary) -> [Int] {
        [
            summary.readingsInserted, summary.readingsDuplicate, summary.framesInserted, summary.alarmsInserted,
            summary.alarmsDuplicate, summary.ticketsOpened, summary.ticketEvents, summary.duplicateGates.count,
            summary.replayedGates.count, summary.conflicts,
        ]
    }

    @Test func anAlarmBatchLeavesWhatTheStandardPathLeavesAndFallsBackWhereItMust() async throws {
        try await withMigratedWriter { pipelined, fast, ids in
            try await withMigratedWriter { _, standardDatabase, _ in
                let standard = TelemetryStore(
                    conninfo: standardDatabase.conninfo,
                    logger: testLogger,
                    stageStrategy: .perSession,
                    pipelinesAlarmBatches: false
                )
                let (m1, m2, m3) = (try #require(ids["m1"]), try #require(ids["m2"]), try #require(ids["m3"]))
                var first = SinkBatch()
                Self.alarmFrame(meter: m1, counter: 10, at: 0, into: &first)
                Self.alarmFrame(meter: m2, counter: 20, at: 5, into: &first)
                Self.alarmFrame(meter: m1, counter: 11, at: 10, into: &first)
                // A later frame: its alarm joins m1's ticket.
                var second = SinkBatch()
                Self.alarmFrame(meter: m1, counter: 12, at: 60, into: &second)
                // A replay below m2's mark and a frame written before (a duplicate): the standard path decides.
                var replayed = SinkBatch()
                Self.alarmFrame(meter: m2, counter: 19, at: 70, into: &replayed)
                var repeated = SinkBatch()
                Self.alarmFrame(meter: m1, counter: 12, at: 60, into: &repeated)
                // A frame without an authenticated counter, then again: its stored identity is a unique violation.
                var unauthenticated = SinkBatch()
                Self.alarmFrame(meter: m3, counter: 30, at: 80, authenticated: false, into: &unauthenticated)

                let steps = [first, second, replayed, repeated, unauthenticated, unauthenticated]
                for (step, input) in steps.enumerated() {
                    let expected = try await standard.write(input)
                    let written = try await pipelined.write(input)
                    #expect(Self.outcome(written) == Self.outcome(expected), "step \(step)")
                    #expect(written.events.map(\.kind) == expected.events.map(\.kind), "step \(step)")
                    #expect(try Self.snapshot(fast) == Self.snapshot(standardDatabase), "step \(step)")
                }
                // Committed pipelined: `first`, `second`. Rolled back for the standard path: `replayed` (its counter is
                // below the mark), `repeated` (its stored identity fails the insert before the marks' answer is
                // read) and the second `unauthenticated`. After `repeated`'s unique violation the next batch, the
                // first `unauthenticated`, skips the pipelined attempt once (``DirectCopyPolicy``).
                #expect(await pipelined.pipelinedCommits == 2)
                #expect(await pipelined.pipelinedRollbacks == 3)
                #expect(await standard.pipelinedCommits == 0)
                // The fast steps did what the issue needs: one ticket per meter, its events, the marks raised.
                #expect(try fast.count("repair_tickets") == 3)
                #expect(
                    try fast.scalar("SELECT alarm_count FROM repair_tickets WHERE meter_id = $1", [String(m1)]) == "3"
                )
                #expect(try fast.count("counter_marks", where: "high_water IN (12, 20)") == 2)
                await standard.close()
            }
        }
    }
}
