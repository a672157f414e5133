import GatewayCore
public import GatewayDomain

/// The writer's ticket step for the alarms a transaction has just stored (`gw_new_alarms`): lock their
/// meter-condition keys, read the alarms' context and the keys' active tickets, let the pure rules decide
/// (``TicketFolding``, ``MajorIncidentRule``) and write the decision, in the caller's transaction.
enum TicketStepWriter {
    /// How often the step re-reads and re-plans after a concurrent session (one that does not take the ticket lock)
    /// committed an active ticket the plan did not see.
    static let attempts = 3

    /// Runs the step and adds its events to `summary`; the caller notifies them.
    /// - Parameters:
    ///   - rules: The ticket policy and incident rule.
    ///   - now: The instant the rules decide at.
    ///   - summary: Receives the events and opened tickets.
    ///   - connection: The connection, inside the write transaction.
    /// - Throws: ``PostgresError``.
    static func run(
        rules: TicketRules,
        now: Timestamp,
        into summary: inout CommitSummary,
        on connection: PostgresConnection
    ) throws {
        try connection.execute(TicketSQL.lockKeys)
        let alarms = try connection.query(TicketSQL.newAlarms, as: StoredAlarm.self)
        for attempt in 1...attempts {
            try connection.execute("SAVEPOINT gw_ticket_step")
            do {
                let active = try connection.query(TicketSQL.activeTickets, as: ActiveTicket.self)
                let plan = TicketFolding.plan(alarms: alarms, active: active, policy: rules.policy, now: now)
                try write(plan, now: now, into: &summary, on: connection)
                try connection.execute("RELEASE SAVEPOINT gw_ticket_step")
                break
            } catch let error as PostgresError where error.sqlState == "23505" && attempt < attempts {
                // A session without the lock committed an active ticket of one of the keys while this step
                // waited on it: read again and join that ticket.
                try connection.execute("ROLLBACK TO SAVEPOINT gw_ticket_step")
                try connection.execute("RELEASE SAVEPOINT gw_ticket_step")
            }
        }
        let keys = rules.incidents.keys(of: alarms)
        guard !keys.isEmpty else { return }
        try linkIncidents(keys, rule: rules.incidents, now: now, into: &summary, on: connection)
    }

    /// Writes a plan: ids for its new tickets, then its statements (``planWrites(_:newIDs:now:)``).
    private static func write(
        _ plan: TicketPlan,
        now: Timestamp,
        into summary: inout CommitSummary,
        on connection: PostgresConnection
    ) throws {
        let newIDs = try allocateIDs(for: plan, on: connection)
        let writes = try planWrites(plan, newIDs: newIDs, now: now)
        for (index, statement) in writes.enumerated() {
            let rows = try connection.rows(statement)
            if index == writes.count - 1, !plan.tickets.isEmpty { try record(events: rows, into: &summary) }
        }
    }

    /// Allocates the ids of the tickets `plan` opens (none when it opens none).
    static func allocateIDs(for plan: TicketPlan, on connection: PostgresConnection) throws -> [Int64] {
        guard !plan.tickets.isEmpty, plan.newTicketCount > 0 else { return [] }
        let newIDs: [Int64] = try connection.rows(TicketSQL.allocateTicketIDs, [plan.newTicketCount]).map {
            try $0.decode(0)
        }
        guard newIDs.count == plan.newTicketCount else {
            throw PostgresError(code: .unexpectedResult, message: "ticket ids: \(newIDs.count) allocated")
        }
        return newIDs
    }

    /// The statements that write `plan` with the ids of its new tickets: outages explained, stored tickets updated
    /// before new ones are inserted, then the events. When the plan has tickets, the last statement is the events'
    /// insert, whose rows are the written events (``record(events:into:)``).
    static func planWrites(_ plan: TicketPlan, newIDs: [Int64], now: Timestamp) throws -> [PipelinedStatement] {
        var statements: [PipelinedStatement] = []
        if !plan.explained.isEmpty {
            let rows = plan.explained.map { OutageRow(alarmID: $0.alarmID, outageID: $0.outageID) }
            statements.append(PipelinedStatement(TicketSQL.recordOutages, [try PostgresJSON(rows)]))
        }
        guard !plan.tickets.isEmpty else { return statements }
        func id(_ reference: TicketPlan.Reference) -> Int64 {
            switch reference {
            case .stored(let id): id
            case .new(let number): newIDs[number]
            }
        }
        let rows = plan.tickets.map { TicketRow($0, id: id($0.reference)) }
        let stored = rows.indices.filter { !plan.tickets[$0].isNew }.map { rows[$0] }
        let opened = rows.indices.filter { plan.tickets[$0].isNew }.map { rows[$0] }
        if !stored.isEmpty {
            statements.append(PipelinedStatement(TicketSQL.updateTickets, [try PostgresJSON(stored), now]))
        }
        if !opened.isEmpty {
            statements.append(PipelinedStatement(TicketSQL.insertTickets, [try PostgresJSON(opened), now]))
        }
        let events = plan.events.enumerated().map { order, event in
            EventRow(
                order: order,
                ticketID: id(event.ticket),
                at: event.at.microsecondsSinceEpoch,
                kind: event.kind.rawValue,
                alarmID: event.alarmID,
                detail: event.detail
            )
        }
        statements.append(PipelinedStatement(TicketSQL.insertEvents, [try PostgresJSON(events)]))
        return statements
    }

    /// Closes stale incidents, counts the batch's district-condition keys and lets the rule open or extend
    /// incidents, linking their districts' active tickets.
    private static func linkIncidents(
        _ keys: [MajorIncidentRule.Key],
        rule: MajorIncidentRule,
        now: Timestamp,
        into summary: inout CommitSummary,
        on connection: PostgresConnection
    ) throws {
        let prelude = try incidentCounting(keys, rule: rule, now: now)
        _ = try connection.rows(prelude.closeStale)
        let counts = try connection.rows(prelude.count).map(MajorIncidentRule.Count.init(row:))
        guard let link = try incidentLinking(counts, rule: rule, now: now) else { return }
        try record(events: try connection.rows(link), into: &summary)
    }

    /// The statements before the incident rule decides: stale incidents closed, then the keys counted (rows of
    /// ``MajorIncidentRule/Count``).
    static func incidentCounting(
        _ keys: [MajorIncidentRule.Key],
        rule: MajorIncidentRule,
        now: Timestamp
    ) throws -> (closeStale: PipelinedStatement, count: PipelinedStatement) {
        let wanted = keys.map { IncidentRow(district: $0.district, condition: $0.condition.rawValue) }
        return (
            PipelinedStatement(TicketSQL.closeStaleIncidents, [now, MajorIncidentRule.staleBefore(now)]),
            PipelinedStatement(TicketSQL.incidentCounts, [try PostgresJSON(wanted), rule.windowStart(at: now)])
        )
    }

    /// The statement that opens or extends the incidents the rule finds among `counts` and links their districts'
    /// active tickets (its rows are the written events), or nil when there is none.
    static func incidentLinking(
        _ counts: [MajorIncidentRule.Count],
        rule: MajorIncidentRule,
        now: Timestamp
    ) throws -> PipelinedStatement? {
        let incidents = rule.incidents(among: counts)
        guard !incidents.isEmpty else { return nil }
        let rows = incidents.map {
            IncidentRow(
                district: $0.key.district,
                condition: $0.key.condition.rawValue,
                firstAt: $0.firstAlarmAt.microsecondsSinceEpoch,
                lastAt: $0.lastAlarmAt.microsecondsSinceEpoch,
                meters: $0.meters
            )
        }
        return PipelinedStatement(TicketSQL.linkIncidents, [try PostgresJSON(rows), now])
    }

    /// Adds the events a statement wrote (rows of ``WriterSQL/eventColumns``) to the summary.
    static func record(events rows: [PostgresRow], into summary: inout CommitSummary) throws {
        for row in rows {
            let written = try WrittenTicketEvent(row: row)
            summary.events.append(written.event)
            summary.ticketEvents += 1
            if written.event.kind == .opened {
                summary.ticketsOpened += 1
                summary.openedTickets.append(written.ticket)
            }
        }
    }
}

extension TicketRow {
    init(_ ticket: TicketPlan.Ticket, id: Int64) {
        self.init(
            id: id,
            meterID: ticket.meterID,
            condition: ticket.condition.rawValue,
            priority: ticket.priority.rawValue,
            status: ticket.status.rawValue,
            openedAt: ticket.openedAt.microsecondsSinceEpoch,
            firstAlarmID: ticket.firstAlarmID,
            lastAlarmAt: ticket.lastAlarmAt.microsecondsSinceEpoch,
            alarmCount: ticket.alarmCount,
            acknowledgeBy: ticket.deadlines.instants[.acknowledge]?.microsecondsSinceEpoch,
            arriveBy: ticket.deadlines.instants[.arrive]?.microsecondsSinceEpoch,
            makeSafeBy: ticket.deadlines.instants[.makeSafe]?.microsecondsSinceEpoch,
            repairBy: ticket.deadlines.instants[.repair]?.microsecondsSinceEpoch,
            resolvedAt: ticket.resolvedAt?.microsecondsSinceEpoch
        )
    }
}

extension StoredAlarm: PostgresRowDecodable {
    /// Decodes the columns of ``TicketSQL/newAlarms``. A condition this build does not know (a newer writer's) is
    /// kept as unrecognised, never dropped.
    public init(row: PostgresRow) throws {
        self.init(
            id: try row.decode(0),
            meterID: try row.decode(1),
            condition: AlarmCondition(rawValue: try row.decode(2, as: String.self)) ?? .unrecognised,
            priority: try row.decode(3),
            raisedAt: try row.decode(4),
            receivedAt: try row.decode(5),
            isCleared: try row.decode(6),
            opensTicket: try row.decode(7),
            isRural: try row.decode(8),
            district: try row.decode(9, as: String?.self),
            outageID: try row.decode(10, as: Int64?.self)
        )
    }
}

extension ActiveTicket: PostgresRowDecodable {
    /// Decodes the columns of ``TicketSQL/activeTickets``.
    public init(row: PostgresRow) throws {
        var deadlines: [TicketDeadline: Timestamp] = [:]
        for (offset, deadline) in TicketDeadline.allCases.enumerated() {
            deadlines[deadline] = try row.decode(8 + offset, as: Timestamp?.self)
        }
        self.init(
            id: try row.decode(0),
            meterID: try row.decode(1),
            condition: AlarmCondition(rawValue: try row.decode(2, as: String.self)) ?? .unrecognised,
            priority: try row.decode(3),
            status: try row.decode(4),
            openedAt: try row.decode(5),
            lastAlarmAt: try row.decode(6),
            alarmCount: try row.decode(7),
            deadlines: TicketDeadlines(deadlines)
        )
    }
}

extension MajorIncidentRule.Count: PostgresRowDecodable {
    /// Decodes the columns of ``TicketSQL/incidentCounts``.
    public init(row: PostgresRow) throws {
        guard let condition = AlarmCondition(rawValue: try row.decode(1, as: String.self)) else {
            throw PostgresError(code: .unexpectedResult, message: "incident count of an unknown condition")
        }
        self.init(
            key: MajorIncidentRule.Key(district: try row.decode(0), condition: condition),
            meters: try row.decode(2),
            firstAlarmAt: try row.decode(3),
            lastAlarmAt: try row.decode(4)
        )
    }
}

/// One row of ``WriterSQL/eventColumns``: the event a ticket statement wrote and its ticket as it is now.
private struct WrittenTicketEvent: PostgresRowDecodable {
    var event: TicketEventSummary
    var ticket: TicketSummary

    init(row: PostgresRow) throws {
        // A condition this build does not know (a newer writer's) is kept as unrecognised, never dropped.
        let condition = AlarmCondition(rawValue: try row.decode(4, as: String.self)) ?? .unrecognised
        let priority = try row.decode(5, as: TicketPriority.self)
        event = TicketEventSummary(
            id: try row.decode(0),
            ticketID: try row.decode(1),
            kind: TicketEventKind(rawValue: try row.decode(2, as: String.self)),
            meterID: try row.decode(3),
            condition: condition,
            priority: priority,
            alarmID: try row.decode(6, as: Int64?.self)
        )
        ticket = TicketSummary(
            id: event.ticketID,
            meterID: event.meterID,
            condition: condition,
            priority: priority,
            openedAt: try row.decode(7),
            acknowledgeBy: try row.decode(8),
            arriveBy: try row.decode(9),
            makeSafeBy: try row.decode(10),
            repairBy: try row.decode(11)
        )
    }
}
