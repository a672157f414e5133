import GatewayCore
import GatewayDomain

extension TelemetryStore {
    /// The most frames a batch may hold to be written in pipelined round trips: alarm commits hold a few; larger
    /// batches go through binary COPY, which costs fewer bytes and less server time per row.
    static let pipelinedFrameLimit = 32

    /// Whether `batch` is written by ``writePipelinedIfSmall(_:)``: it holds an alarm, at most
    /// ``pipelinedFrameLimit`` frame gates, and nothing but readings, frame-log rows and alarms.
    static func writesPipelined(_ batch: SinkBatch) -> Bool {
        !batch.alarms.isEmpty && batch.gates.count <= pipelinedFrameLimit
            && batch.readings.count <= 4 * pipelinedFrameLimit && batch.alarms.count <= 4 * pipelinedFrameLimit
            && batch.intervals.isEmpty && batch.quarantine.isEmpty && batch.commandResults.isEmpty
            && batch.formatLayouts.isEmpty
    }

    /// Writes a small alarm batch (``writesPipelined(_:)``) in libpq's pipeline mode: usually four or five round trips
    /// for the whole transaction instead of 25–30 (`BEGIN`, the replay marks, identities, readings, frame log,
    /// validation queue, alarms and the ticket step's reads in one; the ticket ids; the ticket writes and events;
    /// the messages; the notifications with `COMMIT`). Under load each round trip waits for a busy server process
    /// and this thread to be scheduled, so their count is most of an alarm's time to its ticket.
    ///
    /// It does what the standard path's fast case does, with the same statements (rows travel as array parameters,
    /// ``ColumnArrays``, since COPY cannot be pipelined): identities, readings and frame-log rows inserted without
    /// `ON CONFLICT`, alarms staged and inserted, the ticket step planned by the same pure rules
    /// (``TicketStepWriter``). Whenever the standard path would leave its fast case — a counter at or below its
    /// meter's mark, a row already stored (a unique violation), a concurrent ticket — or the server refuses anything,
    /// this path rolls back and returns nil, and the caller writes the batch the standard way, whose outcome is then
    /// the only one. A broken connection throws, as the standard path does (retryable; the batch is written again).
    /// - Returns: What the commit changed, or nil when the batch is not for this path or was rolled back for the
    ///   standard path.
    /// - Throws: ``PostgresError`` when the connection broke.
    func writePipelinedIfSmall(_ batch: SinkBatch) throws -> CommitSummary? {
        guard pipelinesAlarmBatches, stageStrategy == .perSession, Self.writesPipelined(batch),
            directCopy.shouldTry("pipelined")
        else { return nil }
        let summary = try withConnection { connection -> CommitSummary? in
            do {
                return try writePipelined(batch, on: connection)
            } catch let error as PostgresError where connection.isConnected && error.code != .connectionLost {
                try connection.execute("ROLLBACK")
                if error.sqlState == "23505" { directCopy.failed("pipelined") }
                return nil
            }
        }
        if summary == nil { pipelinedRollbacks += 1 } else { pipelinedCommits += 1 }
        return summary
    }

    /// The pipelined transaction; nil after `ROLLBACK` when a counter reached its mark.
    private func writePipelined(_ batch: SinkBatch, on connection: PostgresConnection) throws -> CommitSummary? {
        var statements = [PipelinedStatement("BEGIN")]
        counterScratch.collect(batch.gates)
        var marksReached: Int?
        if !counterScratch.isEmpty {
            var marks = ColumnArrays(columnCount: StageTables.marks.columns.count)
            for (key, range) in counterScratch.ranges {
                marks.appendCounterRange(key, low: range.low, high: range.high)
            }
            statements.append(Self.insert(marks, into: StageTables.marks, target: StageTables.marks.name))
            marksReached = statements.count
            statements.append(PipelinedStatement(CounterMarkSQL.marksReached))
            // Marks before identities, as on the standard path: every writer locks marks first.
            statements.append(PipelinedStatement(CounterMarkSQL.raiseMarks))
        }
        if !batch.gates.isEmpty {
            var identities = ColumnArrays(columnCount: StageTables.identities.columns.count)
            for gate in batch.gates { identities.appendIdentity(gate) }
            statements.append(Self.insert(identities, into: StageTables.identities))
        }
        var readingsInsert: Int?
        if !batch.readings.isEmpty {
            var readings = ColumnArrays(columnCount: StageTables.readings.columns.count)
            for reading in batch.readings { readings.append(reading) }
            readingsInsert = statements.count
            statements.append(Self.insert(readings, into: StageTables.readings, target: "readings"))
        }
        var framesInsert: Int?
        if !batch.frames.isEmpty {
            var frames = ColumnArrays(columnCount: StageTables.frameLog.columns.count)
            for frame in batch.frames { frames.append(frame) }
            framesInsert = statements.count
            statements.append(Self.insert(frames, into: StageTables.frameLog))
        }
        if let queueing = ValidationStore.validationQueueing(batch) { statements.append(queueing) }
        var alarms = ColumnArrays(columnCount: StageTables.alarms.columns.count)
        for alarm in batch.alarms {
            alarms.append(alarm, opensTicket: rules.policy.opensTicket(alarm.condition, isCleared: alarm.isCleared))
        }
        statements.append(Self.insert(alarms, into: StageTables.alarms, target: StageTables.alarms.name))
        let alarmsInsert = statements.count
        statements.append(PipelinedStatement(WriterSQL.insertAlarms))
        // Only alarms that open a ticket or clear one can change a ticket or an incident.
        let stepsTickets = batch.alarms.contains {
            $0.isCleared || rules.policy.opensTicket($0.condition, isCleared: false)
        }
        var ticketReads: Int?
        if stepsTickets {
            statements.append(PipelinedStatement(TicketSQL.lockKeys))
            ticketReads = statements.count
            statements.append(PipelinedStatement(TicketSQL.newAlarms))
            statements.append(PipelinedStatement(TicketSQL.activeTickets))
        }
        let results = try connection.pipeline(statements)
        if let marksReached, !results[marksReached].rows.isEmpty {
            // A counter at or below its mark: a duplicate or a replay, judged under the marks' locks by the
            // standard path.
            try connection.execute("ROLLBACK")
            return nil
        }
        var summary = CommitSummary()
        if let readingsInsert { summary.readingsInserted = results[readingsInsert].affected }
        if let framesInsert { summary.framesInserted = results[framesInsert].affected }
        summary.alarmsInserted = results[alarmsInsert].affected
        summary.alarmsDuplicate = batch.alarms.count - summary.alarmsInserted
        if let ticketReads, summary.alarmsInserted > 0 {
            let stored = try results[ticketReads].rows.map(StoredAlarm.init(row:))
            let active = try results[ticketReads + 1].rows.map(ActiveTicket.init(row:))
            try stepTickets(stored, active: active, into: &summary, on: connection)
        }
        var finish: [PipelinedStatement] = []
        if !summary.events.isEmpty {
            let messages = try connection.query(
                DispatchSQL.messagesByID,
                [summary.events.map(\.id)],
                as: TicketEventMessage.self
            )
            for message in messages { finish.append(PipelinedStatement(DispatchSQL.notify, [try message.jsonText()])) }
        }
        finish.append(PipelinedStatement("COMMIT"))
        _ = try connection.pipeline(finish)
        return summary
    }

    /// The ticket step (``TicketStepWriter``) on the alarms just stored and their keys' active tickets, read under
    /// the keys' locks in the first pipeline: the plan's ids, then its writes and the incident counts in one
    /// pipeline, then the incidents' links when the rule finds one.
    private func stepTickets(
        _ alarms: [StoredAlarm],
        active: [ActiveTicket],
        into summary: inout CommitSummary,
        on connection: PostgresConnection
    ) throws {
        let now = clock()
        let plan = TicketFolding.plan(alarms: alarms, active: active, policy: rules.policy, now: now)
        let newIDs = try TicketStepWriter.allocateIDs(for: plan, on: connection)
        var writes = try TicketStepWriter.planWrites(plan, newIDs: newIDs, now: now)
        let events = plan.tickets.isEmpty ? nil : writes.count - 1
        let keys = rules.incidents.keys(of: alarms)
        var counts: Int?
        if !keys.isEmpty {
            let counting = try TicketStepWriter.incidentCounting(keys, rule: rules.incidents, now: now)
            writes.append(counting.closeStale)
            counts = writes.count
            writes.append(counting.count)
        }
        guard !writes.isEmpty else { return }
        let written = try connection.pipeline(writes)
        if let events { try TicketStepWriter.record(events: written[events].rows, into: &summary) }
        guard let counts else { return }
        let found = try written[counts].rows.map(MajorIncidentRule.Count.init(row:))
        if let link = try TicketStepWriter.incidentLinking(found, rule: rules.incidents, now: now) {
            try TicketStepWriter.record(events: try connection.rows(link), into: &summary)
        }
    }

    /// The insert of `rows` (laid out as `table`'s columns) into `target`, the table itself by default.
    private static func insert(
        _ rows: ColumnArrays,
        into table: StageTables.Table,
        target: String? = nil
    ) -> PipelinedStatement {
        PipelinedStatement(table.insertFromArraysSQL(into: target ?? table.name), texts: rows.parameters)
    }
}
