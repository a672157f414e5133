public import GatewayCore
public import GatewayDomain
public import Logging

/// Writes ``GatewayCore/SinkBatch``es to PostgreSQL, one transaction per batch, idempotently: the ingest side of
/// the sink (readings, intervals, frames, frame identities, quarantine, alarms and the tickets they open).
///
/// Thread rules: the actor's executor is a dedicated thread (one per store, `DedicatedThreadExecutor`), so libpq's
/// blocking calls run there and never on the Swift cooperative pool; a batch is one hop onto that thread. The store owns
/// one connection (through the same ``SessionConnection`` plumbing as ``PostgresSession``), a reused binary COPY
/// buffer and the per-connection stage tables; nothing else touches them.
///
/// Failure model: every method throws ``PostgresError``. When the connection breaks, the error is retryable
/// (`isRetryable == true`) and the next call reconnects (temporary stage tables are re-created, because their
/// readiness is tied to the connection's generation). A commit whose outcome is unknown (the connection broke
/// during `COMMIT`) is also retryable: writing the same batch again changes nothing that was already committed,
/// opens no ticket twice and emits no notification twice.
public actor TelemetryStore {
    private let executor: DedicatedThreadExecutor
    private let session: SessionConnection
    private let logger: Logger
    let stageStrategy: StageTables.Strategy
    /// The connection generation whose session stage tables exist, if any.
    private var stageTablesGeneration: Int?
    private var encoder = BinaryCopyEncoder(reservingCapacity: 1 << 20)
    /// The ticket policy and major-incident rule applied to the alarms the store writes.
    public nonisolated let rules: TicketRules
    let clock: @Sendable () -> Timestamp
    var directCopy = DirectCopyPolicy()
    /// The batch's authenticated counters, reused from batch to batch.
    var counterScratch = CounterMarkScratch()
    /// Whether small alarm batches are written in pipelined round trips (``writePipelinedIfSmall(_:)``); tests turn
    /// it off to compare with the standard path.
    let pipelinesAlarmBatches: Bool
    /// Batches committed by the pipelined path, and those it rolled back for the standard path (for tests).
    var pipelinedCommits = 0
    var pipelinedRollbacks = 0

    /// Runs every job of this actor on the store's own thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Creates a store; it connects on ``connect()`` or on the first call that needs the database.
    /// - Parameters:
    ///   - conninfo: A libpq connection string or URI. It is never logged.
    ///   - logger: Receives connection, migration and batch events (metadata keys `pg.*`).
    ///   - rules: The ticket policy and major-incident rule applied to the alarms it stores.
    ///   - clock: "Now" for the rules (an auto-resolve time, the incident window).
    public init(
        conninfo: String,
        logger: Logger,
        rules: TicketRules = TicketRules(),
        clock: @escaping @Sendable () -> Timestamp = WallClock.now
    ) {
        self.init(conninfo: conninfo, logger: logger, stageStrategy: .perSession, rules: rules, clock: clock)
    }

    init(
        conninfo: String,
        logger: Logger,
        stageStrategy: StageTables.Strategy,
        rules: TicketRules = TicketRules(),
        clock: @escaping @Sendable () -> Timestamp = WallClock.now,
        pipelinesAlarmBatches: Bool = true
    ) {
        self.pipelinesAlarmBatches = pipelinesAlarmBatches
        self.rules = rules
        self.clock = clock
        self.executor = DedicatedThreadExecutor(name: "pg-telemetry")
        self.session = SessionConnection(conninfo: conninfo, setupStatements: WriterSQL.sessionSettings, logger: logger)
        self.logger = logger
        self.stageStrategy = stageStrategy
    }

    deinit {
        // The connection (if any) is finished by its own deinit; the thread is stopped asynchronously because
        // deinit may run on that very thread.
        executor.shutdown()
    }

    // MARK: Connection

    /// Connects if not connected, or reconnects after a lost connection.
    /// - Throws: ``PostgresError`` with code `.connectionFailed` (retryable) when the server is unreachable.
    public func connect() throws {
        assert(executor.isOnExecutorThread)
        _ = try session.connected()
    }

    /// Closes the connection. A later call reconnects.
    public func close() {
        session.close()
    }

    /// Whether the store currently holds an open connection.
    public var isConnected: Bool { session.isConnected }

    /// The server process id of the store's session (for diagnostics and tests), or nil when not connected.
    public var backendPID: Int32? { session.backendPID }

    /// Runs `body` with the connection (connecting first), recovering on failure.
    func withConnection<R>(_ body: (PostgresConnection) throws -> R) throws -> R {
        assert(executor.isOnExecutorThread)
        return try session.run(body)
    }

    /// Runs `body` in one transaction (BEGIN … COMMIT), rolling back and recovering on failure.
    func withTransaction<R>(_ body: (PostgresConnection) throws -> R) throws -> R {
        assert(executor.isOnExecutorThread)
        return try session.withTransaction(body)
    }

    // MARK: Schema and settings

    /// Applies pending schema migrations (see ``PostgresConnection/migrate()``).
    /// - Returns: The versions applied now; empty when the schema was current.
    /// - Throws: ``PostgresError`` with code `.migrationFailed` or `.connectionLost`.
    public func migrate() throws -> [Int] {
        try migrate(through: Int.max)
    }

    /// Applies pending schema migrations up to and including `version` (see
    /// ``PostgresConnection/migrate(through:)``).
    /// - Parameter version: The highest version to apply.
    /// - Returns: The versions applied now; empty when none up to `version` was pending.
    /// - Throws: ``PostgresError`` with code `.migrationFailed` or `.connectionLost`.
    public func migrate(through version: Int) throws -> [Int] {
        let applied = try withConnection { try $0.migrate(through: version) }
        if !applied.isEmpty {
            logger.info("postgres schema migrated", metadata: ["pg.migrations": "\(applied)"])
        }
        return applied
    }

    // MARK: Stage tables

    /// Session strategy: creates every stage table once per connection, in autocommit *before* the write
    /// transaction, so a rolled-back batch cannot take the tables with it.
    func prepareSessionStageTables(on connection: PostgresConnection) throws {
        guard stageStrategy == .perSession, stageTablesGeneration != session.generation else { return }
        for table in StageTables.all {
            try connection.execute(table.createSQL(.perSession))
        }
        stageTablesGeneration = session.generation
    }

    /// Transaction strategy: creates the tables this batch needs inside its transaction (dropped at commit).
    func prepareTransactionStageTables(_ tables: [StageTables.Table], on connection: PostgresConnection) throws {
        guard stageStrategy == .perTransaction else { return }
        for table in tables {
            try connection.execute(table.createSQL(.perTransaction))
        }
    }

    /// Encodes `records` into the reused buffer (header, tuples, trailer).
    private func encode<Records: Collection>(
        _ records: Records,
        with append: (inout BinaryCopyEncoder, Records.Element) -> Void
    ) {
        encoder.reset()
        for record in records { append(&encoder, record) }
        encoder.finish()
    }

    /// Inserts the encoded rows of `table` idempotently and returns (inserted, sent).
    ///
    /// First, unless a recent attempt hit duplicates, it tries one binary COPY straight into the real table under
    /// a savepoint: when every row is new (the normal case) that is the whole job, at about 2.5 times the speed
    /// of staging. A unique violation (SQLSTATE 23505: some row is already stored, or repeated in the batch)
    /// rolls back to the savepoint, and the same bytes go through the stage table and
    /// `INSERT … ON CONFLICT DO NOTHING`. Either way the outcome is the same: a direct COPY that succeeds
    /// proves that no key was already present.
    private func insertEncoded(
        _ table: StageTables.Table,
        insertSQL: String,
        on connection: PostgresConnection
    ) throws -> (inserted: Int, sent: Int) {
        if let directSQL = table.directCopySQL, directCopy.shouldTry(table.name) {
            try connection.execute("SAVEPOINT gw_direct_copy")
            do {
                let copied = try connection.copyIn(sql: directSQL, data: encoder.bytes)
                try connection.execute("RELEASE SAVEPOINT gw_direct_copy")
                directCopy.succeeded(table.name)
                return (copied, copied)
            } catch let error as PostgresError where error.sqlState == "23505" && connection.isConnected {
                try connection.execute("ROLLBACK TO SAVEPOINT gw_direct_copy")
                try connection.execute("RELEASE SAVEPOINT gw_direct_copy")
                directCopy.failed(table.name)
            }
        }
        let sent = try connection.copyIn(sql: table.copySQL, data: encoder.bytes)
        let inserted = try connection.execute(insertSQL)
        return (inserted, sent)
    }

    // MARK: Batches

    /// Writes one batch in one transaction and returns what changed.
    ///
    /// A small batch that holds an alarm is first written in a few pipelined round trips
    /// (``writePipelinedIfSmall(_:)``), so its ticket and `NOTIFY` do not wait for 25–30 statements one after another;
    /// whatever that path cannot decide alone (a counter at its mark, a row already stored, a concurrent ticket) it
    /// rolls back and leaves to the path below, with the same outcome.
    ///
    /// Readings and frames are binary-COPYed straight into their tables when every row is new (the normal case); if
    /// any key is already stored, the same bytes go through a temporary stage table and
    /// `INSERT … ON CONFLICT DO NOTHING`, and a stored key that arrives with a different volume is recorded in
    /// `value_conflicts`. Intervals are binary-COPYed into their stage table and merged into one `interval_days` row
    /// per meter and day (``IntervalDaysSQL``), with the same outcome per interval. Quarantine rows and alarms are
    /// always staged. New alarms open or join repair tickets
    /// (one active ticket per meter and condition, guaranteed by a partial unique index), each ticket change is
    /// a `ticket_events` row, and every event is sent with `pg_notify('ticket_events', json)`, which PostgreSQL
    /// delivers only after the commit. Writing the same batch again inserts nothing, opens no ticket and sends
    /// no notification.
    /// - Parameters:
    ///   - batch: The rows to write.
    /// - Returns: Counts of inserted, duplicate and conflicting rows, and the tickets and events created.
    /// - Throws: ``PostgresError``. When `isRetryable` is true (connection lost, deadlock, server restarting),
    ///   retry with the same batch; the writer reconnects by itself.
    public func write(_ batch: SinkBatch) throws -> CommitSummary {
        if batch.isEmpty { return CommitSummary() }
        // The frame log has no key of its own (v27): its rows are written once because their gates are.
        guard batch.frames.isEmpty || batch.gates.first?.firstFrame == 0 else {
            throw PostgresError(
                code: .invalidArgument,
                message: "uplink frames need their frame gates (FrameGate before each frame's rows)"
            )
        }
        try withConnection { connection in try prepareSessionStageTables(on: connection) }
        let pipelined = try writePipelinedIfSmall(batch)
        let summary =
            try pipelined
            ?? withTransaction { connection in
                var summary = CommitSummary()
                let fresh = try passGates(batch, into: &summary, on: connection)
                try writeRows(fresh, into: &summary, on: connection)
                return summary
            }
        logger.debug(
            "postgres batch committed",
            metadata: [
                "pg.batch.readings": "\(summary.readingsInserted)/\(batch.readings.count)",
                "pg.batch.intervals": "\(summary.intervalsInserted)/\(batch.intervals.count)",
                "pg.batch.alarms": "\(summary.alarmsInserted)/\(batch.alarms.count)",
                "pg.batch.conflicts": "\(summary.conflicts)",
                "pg.batch.tickets.opened": "\(summary.ticketsOpened)",
            ]
        )
        for ticket in summary.openedTickets {
            logger.info(
                "repair ticket opened",
                metadata: [
                    "ticket.id": "\(ticket.id)", "meter.id": "\(ticket.meterID)",
                    "ticket.condition": "\(ticket.condition.rawValue)",
                    "ticket.priority": "\(ticket.priority.rawValue)",
                    "ticket.arrive_by": "\(ticket.arriveBy)",
                ]
            )
        }
        return summary
    }

    /// Stores the batch's frame identities, raises the counter marks, and returns the batch without the rows of
    /// frames already stored (duplicates) or replayed.
    ///
    /// First the marks of meters with a counter at or below their high-water mark are read (``CounterMarkSQL``):
    /// normally none. Then the normal case — no counter reached a mark, every frame new — is one binary COPY
    /// straight into `frame_identities` under a savepoint (as for readings, see ``DirectCopyPolicy``). If a counter
    /// reached its mark, or any identity is already stored (or repeated in the batch: the unique violation rolls the
    /// savepoint back, with the marks the fast path had raised and their locks), the slow path first locks
    /// every mark row of the batch in (meter, kind) order and reads the reached marks again under the locks, then
    /// decides gate by gate: it reads which identities are stored (a primary-key probe per gate), judges each
    /// authenticated counter with ``GatewayCore/ReplayRule``, then inserts the new identities. If that insert stored
    /// fewer than expected, a concurrent writer committed one of these frames in between: the error is retryable,
    /// and the retry finds it stored. Last, one ordered upsert raises the marks to the batch's highest counters (on
    /// the fast path, inside the savepoint and before the identities, so every writer locks marks before it inserts
    /// identities and two writers cannot deadlock).
    ///
    /// Why the fast path reads the marks without a lock: marks only rise, and a frame it stores is above the mark it
    /// read; if a concurrent writer raised the mark meanwhile, the frame is a late delivery, which is stored all the
    /// same, unless that writer stored the same identity, which the direct COPY's unique violation sends to the slow
    /// path.
    private func passGates(
        _ batch: SinkBatch,
        into summary: inout CommitSummary,
        on connection: PostgresConnection
    ) throws -> SinkBatch {
        guard !batch.gates.isEmpty else { return batch }
        var marks = try readCounterMarks(batch.gates, on: connection)
        if marks.isEmpty, directCopy.shouldTry("frame_identities") {
            encoder.reset()
            for gate in batch.gates { encoder.appendIdentity(gate) }
            encoder.finish()
            try connection.execute("SAVEPOINT gw_direct_identities")
            do {
                // Marks first, so that every writer takes its mark locks before its identity inserts.
                try raiseCounterMarks(on: connection)
                _ = try connection.copyIn(sql: WriterSQL.copyIdentities, data: encoder.bytes)
                try connection.execute("RELEASE SAVEPOINT gw_direct_identities")
                directCopy.succeeded("frame_identities")
                return batch
            } catch let error as PostgresError where error.sqlState == "23505" && connection.isConnected {
                try connection.execute("ROLLBACK TO SAVEPOINT gw_direct_identities")
                try connection.execute("RELEASE SAVEPOINT gw_direct_identities")
                directCopy.failed("frame_identities")
            }
        }
        if !counterScratch.isEmpty {
            // Slow path: every mark row of the batch locked in one ordered statement, then read again.
            try connection.execute(CounterMarkSQL.lockMarks)
            marks = try reachedCounterMarks(on: connection)
        }
        try prepareTransactionStageTables([StageTables.gates], on: connection)
        encoder.reset()
        for (index, gate) in batch.gates.enumerated() { encoder.append(gate, index: index) }
        encoder.finish()
        _ = try connection.copyIn(sql: StageTables.gates.copySQL, data: encoder.bytes)
        var stored: [Int: Int64] = [:]
        for row in try connection.rows(WriterSQL.storedIdentities) {
            stored[try row.decode(0, as: Int.self)] = try row.decode(1, as: Int64.self)
        }
        let decision = GateDecision.decide(batch.gates, stored: stored, marks: marks)
        summary.identityConflicts += decision.identityConflicts
        if !decision.replayed.isEmpty {
            let indices = "{" + decision.replayed.sorted().map(String.init).joined(separator: ",") + "}"
            try connection.execute(CounterMarkSQL.forgetReplayedGates, parameters: [indices])
        }
        let inserted = try connection.execute(WriterSQL.insertIdentities)
        guard inserted == decision.expectedNew else {
            throw PostgresError(
                code: .serverError,
                sqlState: "40001",
                message: "a concurrent writer stored \(decision.expectedNew - inserted) of this batch's frames first",
                isRetryable: true
            )
        }
        try raiseCounterMarks(on: connection)
        summary.duplicateGates = decision.duplicates.sorted()
        summary.replayedGates = decision.replayed.sorted()
        return batch.removingRows(ofGates: decision.duplicates.union(decision.replayed))
    }

    /// Stages the batch's authenticated counters and returns the marks that some counter of the batch is at or below
    /// (empty in the normal case, and when the batch has no authenticated counter).
    private func readCounterMarks(
        _ gates: [FrameGate],
        on connection: PostgresConnection
    ) throws -> [CounterMarkScratch.Key: CounterMark] {
        counterScratch.collect(gates)
        guard !counterScratch.isEmpty else { return [:] }
        try prepareTransactionStageTables([StageTables.marks], on: connection)
        encoder.reset()
        for (key, range) in counterScratch.ranges {
            encoder.appendCounterRange(key, low: range.low, high: range.high)
        }
        encoder.finish()
        _ = try connection.copyIn(sql: StageTables.marks.copySQL, data: encoder.bytes)
        return try reachedCounterMarks(on: connection)
    }

    /// The staged meters' marks that some counter of the batch is at or below.
    private func reachedCounterMarks(on connection: PostgresConnection) throws -> [CounterMarkScratch.Key: CounterMark]
    {
        var marks: [CounterMarkScratch.Key: CounterMark] = [:]
        for row in try connection.rows(CounterMarkSQL.marksReached) {
            guard let kind = ReplayCounterKind(rawValue: try row.decode(1, as: Int16.self)) else { continue }
            marks[CounterMarkScratch.Key(meterID: try row.decode(0, as: Int64.self), kind: kind)] = CounterMark(
                highWater: try row.decode(2, as: Int64.self),
                forgottenThrough: try row.decode(3, as: Int64.self)
            )
        }
        return marks
    }

    /// Raises the marks to the batch's highest counters in one ordered upsert (a no-op for a batch without
    /// counters).
    private func raiseCounterMarks(on connection: PostgresConnection) throws {
        guard !counterScratch.isEmpty else { return }
        try connection.execute(CounterMarkSQL.raiseMarks)
    }

    /// Forgets frame identities stored longer ago than `horizonSeconds`, at most `limit` of them, and raises each
    /// meter's `forgotten_through` to the highest counter forgotten (below it, ``GatewayCore/ReplayRule`` refuses
    /// frames the log can no longer recognise).
    /// - Parameters:
    ///   - horizonSeconds: How long an identity is kept (`ingest.dedupe_horizon_days`).
    ///   - limit: The most rows to delete in this call.
    /// - Returns: The number of identities deleted.
    /// - Throws: ``PostgresError``.
    public func pruneFrameIdentities(olderThanSeconds horizonSeconds: Int64, limit: Int = 50_000) throws -> Int {
        try withConnection { connection in
            let rows = try connection.query(
                CounterMarkSQL.pruneIdentities,
                parameters: [String(horizonSeconds), String(limit)]
            )
            return rows.first?.first.flatMap { $0 }.flatMap { Int($0) } ?? 0
        }
    }

    /// The rows of a batch whose gates passed, in the write transaction.
    private func writeRows(
        _ batch: SinkBatch,
        into summary: inout CommitSummary,
        on connection: PostgresConnection
    ) throws {
        var needed: [StageTables.Table] = []
        if !batch.readings.isEmpty { needed.append(StageTables.readings) }
        if !batch.intervals.isEmpty { needed.append(StageTables.intervals) }
        if !batch.quarantine.isEmpty { needed.append(StageTables.quarantine) }
        if !batch.alarms.isEmpty { needed.append(contentsOf: [StageTables.alarms, StageTables.newAlarms]) }
        try prepareTransactionStageTables(needed, on: connection)
        try writeSeries(batch, into: &summary, on: connection)
        try ValidationStore.markForValidation(batch, on: connection)
        summary.ticketEvents += try DispatchOutbox.recordCommandResults(batch.commandResults, on: connection)
        if !batch.formatLayouts.isEmpty {
            _ = try FormatLayoutStore.upsert(batch.formatLayouts, on: connection)
        }
        if !batch.alarms.isEmpty {
            try writeAlarms(batch.alarms, into: &summary, on: connection)
        }
    }

    /// Readings, intervals, frames and quarantine: COPY, insert, count, detect conflicts.
    private func writeSeries(
        _ batch: SinkBatch,
        into summary: inout CommitSummary,
        on connection: PostgresConnection
    ) throws {
        if !batch.readings.isEmpty {
            encode(batch.readings) { $0.append($1) }
            let (inserted, sent) = try insertEncoded(
                StageTables.readings,
                insertSQL: WriterSQL.insertReadings,
                on: connection
            )
            summary.readingsInserted = inserted
            summary.readingsDuplicate = sent - inserted
            if inserted < sent {
                summary.conflicts += try connection.execute(WriterSQL.readingConflicts)
            }
        }
        if !batch.intervals.isEmpty {
            encode(batch.intervals) { $0.append($1) }
            let sent = try connection.copyIn(sql: StageTables.intervals.copySQL, data: encoder.bytes)
            let inserted = try IntervalDaysWriter.merge(on: connection)
            summary.intervalsInserted = inserted
            summary.intervalsDuplicate = sent - inserted
            if inserted < sent {
                summary.conflicts += try connection.execute(IntervalDaysSQL.conflicts)
            }
        }
        if !batch.frames.isEmpty {
            // Straight into the log: it has no key (v27), and a frame's row is here only if its identity was new.
            encode(batch.frames) { $0.append($1) }
            summary.framesInserted = try connection.copyIn(sql: WriterSQL.copyFrames, data: encoder.bytes)
        }
        if !batch.quarantine.isEmpty {
            encode(batch.quarantine) { $0.append($1) }
            let (inserted, _) = try insertEncoded(
                StageTables.quarantine,
                insertSQL: WriterSQL.insertQuarantine,
                on: connection
            )
            summary.quarantined = inserted
        }
    }

    /// Alarms, then the ticket step for the alarms that are new.
    func writeAlarms(
        _ alarms: [AlarmRecord],
        into summary: inout CommitSummary,
        on connection: PostgresConnection
    ) throws {
        try Self.writeAlarms(alarms, rules: rules, now: clock(), encoder: &encoder, into: &summary, on: connection)
    }

    /// Alarms, then the ticket step (``TicketStepWriter``) for the alarms that are new, with the given rules and
    /// COPY buffer (the validator stores its signature and balance alarms through this too), and notifies the
    /// events. The stage tables for alarms must exist.
    static func writeAlarms(
        _ alarms: [AlarmRecord],
        rules: TicketRules,
        now: Timestamp,
        encoder: inout BinaryCopyEncoder,
        into summary: inout CommitSummary,
        on connection: PostgresConnection
    ) throws {
        encoder.reset()
        for alarm in alarms {
            encoder.append(alarm, opensTicket: rules.policy.opensTicket(alarm.condition, isCleared: alarm.isCleared))
        }
        encoder.finish()
        let staged = try connection.copyIn(sql: StageTables.alarms.copySQL, data: encoder.bytes)
        let inserted = try connection.execute(WriterSQL.insertAlarms)
        summary.alarmsInserted = inserted
        summary.alarmsDuplicate = staged - inserted
        // Only alarms that open a ticket or clear one can change a ticket or an incident.
        guard inserted > 0,
            alarms.contains(where: { $0.isCleared || rules.policy.opensTicket($0.condition, isCleared: false) })
        else { return }
        let firstEvent = summary.events.count
        try TicketStepWriter.run(rules: rules, now: now, into: &summary, on: connection)
        try DispatchOutbox.notify(eventIDs: summary.events[firstEvent...].map(\.id), on: connection)
    }
}

/// When to attempt a direct COPY into a real table: always, until an attempt hits a duplicate; then skip the
/// next 1, 2, 4, … 64 batches of that table before trying again, so replays and overlapping back-fills do
/// not pay for a failed attempt on every batch.
struct DirectCopyPolicy: Sendable {
    private var skip: [String: (remaining: Int, next: Int)] = [:]
    static let maximumSkip = 64

    mutating func shouldTry(_ table: String) -> Bool {
        guard var state = skip[table], state.remaining > 0 else { return true }
        state.remaining -= 1
        skip[table] = state
        return false
    }

    mutating func succeeded(_ table: String) {
        skip[table] = nil
    }

    mutating func failed(_ table: String) {
        let next = skip[table]?.next ?? 1
        skip[table] = (remaining: next, next: min(next * 2, Self.maximumSkip))
    }
}
