public import GatewayCore
public import GatewayDomain

/// The tickets of the dispatch desk: lifecycle steps, notes, hotline tickets, escalation, planned outages
/// (`DispatchStore+Outages.swift`), the ticket list and one ticket with its household file, and the SLA report.
///
/// The rules are ``TicketLifecycle`` and ``TicketDeadlines`` (GatewayDomain); this store locks, reads, asks them and
/// writes, each change one transaction with its `ticket_events` row and its ``TicketEventMessage`` on NOTIFY
/// `ticket_events` (delivered on commit). It owns
/// no connection: it runs on the ``PostgresDatabase`` it is given (a session for the dispatch service, a pool for the
/// HTTP API). The valve-command outbox is ``DispatchOutbox``; inspections are ``InspectionStore``.
public struct DispatchStore: Sendable {
    let database: any PostgresDatabase
    private let policy: TicketPolicy
    let outagePolicy: PlannedOutagePolicy
    let clock: @Sendable () -> Timestamp

    /// Creates a store over a session or a pool.
    /// - Parameters:
    ///   - database: Where the statements run.
    ///   - policy: The priorities and deadlines of hotline tickets.
    ///   - outages: The limits of planned outages (the longest window).
    ///   - clock: "Now" of what the store records (a step, a note, a hotline call and the start of its deadlines,
    ///     an outage's announcement and cancellation) and of the SLA report's "decided" (a deadline passed by now).
    ///     Escalation takes "now" as a parameter.
    public init(
        _ database: any PostgresDatabase,
        policy: TicketPolicy = .serviceCommitments,
        outages: PlannedOutagePolicy = PlannedOutagePolicy(),
        clock: @escaping @Sendable () -> Timestamp = WallClock.now
    ) {
        self.database = database
        self.policy = policy
        self.outagePolicy = outages
        self.clock = clock
    }

    /// Moves a ticket one step along its lifecycle, recording the actor and an optional note, and notifies it.
    /// - Parameters:
    ///   - ticketID: The ticket.
    ///   - step: The step reached.
    ///   - actor: Who (recorded on the event).
    ///   - note: Free text for the event's detail.
    /// - Returns: The event written, as the ``TicketEventMessage`` notified for it.
    /// - Throws: ``PostgresError`` with code `.invalidArgument` when the ticket does not exist or is not in a status
    ///   this step follows (the message is ``TicketLifecycle/Refusal``'s; nothing is written), and for
    ///   `follow_up_done`, which only ``recordReturnCall(_:_:actor:)`` records.
    public func advanceTicket(
        _ ticketID: Int64,
        to step: TicketStep,
        actor: String,
        note: String?
    ) async throws -> TicketEventMessage {
        guard !actor.isEmpty, !actor.utf8.contains(0), !(note?.utf8.contains(0) ?? false) else {
            throw PostgresError(code: .invalidArgument, message: "a ticket step needs an actor")
        }
        guard step != .followUpDone else {
            // Only with its outcome (recordReturnCall); the database refuses it without one too.
            throw PostgresError(
                code: .invalidArgument,
                message: "follow_up_done is recorded with the return call's outcome (return-call)"
            )
        }
        return try await database.withTransaction { connection in
            _ = try connection.rows(DispatchSQL.lockTicket, [ticketID])
            guard let current = try connection.rows(DispatchSQL.ticketStatus, [ticketID]).first else {
                throw PostgresError(code: .invalidArgument, message: "no ticket \(ticketID)")
            }
            let status = try current.decode(0, as: TicketStatus.self)
            let next: TicketStatus
            do throws(TicketLifecycle.Refusal) {
                next = try TicketLifecycle.advance(ticket: ticketID, from: status, by: step)
            } catch {
                throw PostgresError(code: .invalidArgument, message: error.message)
            }
            guard
                let event = try connection.query(
                    DispatchSQL.advance(step),
                    [ticketID, actor, note, next, clock()],
                    as: DispatchEvent.self
                ).first
            else { throw PostgresError(code: .invalidArgument, message: "no ticket \(ticketID)") }
            return try Self.notifiedMessage(of: event, on: connection)
        }
    }

    /// Adds a note event to a ticket.
    /// - Parameters:
    ///   - ticketID: The ticket.
    ///   - actor: Who wrote it.
    ///   - note: The text.
    /// - Returns: The event written, as the ``TicketEventMessage`` notified for it.
    /// - Throws: ``PostgresError`` with code `.invalidArgument` when the ticket does not exist or a field is empty.
    public func noteTicket(_ ticketID: Int64, actor: String, note: String) async throws -> TicketEventMessage {
        guard !actor.isEmpty, !note.isEmpty, !actor.utf8.contains(0), !note.utf8.contains(0) else {
            throw PostgresError(code: .invalidArgument, message: "a note needs an actor and text")
        }
        return try await database.withTransaction { connection in
            guard
                let event = try connection.query(
                    DispatchSQL.note,
                    [ticketID, actor, note, clock()],
                    as: DispatchEvent.self
                ).first
            else { throw PostgresError(code: .invalidArgument, message: "no ticket \(ticketID)") }
            return try Self.notifiedMessage(of: event, on: connection)
        }
    }

    /// Opens a ticket by hand (a hotline call), with the priority the policy gives the condition and the deadlines
    /// of the meter's district; joins the active ticket of the same meter and condition instead when there is one.
    /// - Parameters:
    ///   - meter: The premises' meter.
    ///   - condition: For a caller smelling gas, ``AlarmCondition/gasSmellReported`` (P0).
    ///   - reporter: Who called (recorded).
    ///   - actor: Who took the call (recorded).
    ///   - note: What was said.
    /// - Returns: The ticket id and whether it was opened (false: joined).
    /// - Throws: ``PostgresError`` with code `.invalidArgument` for an unknown meter.
    public func openManualTicket(
        meter: (protocol: FrameProtocol, address: String),
        condition: AlarmCondition,
        reporter: String,
        actor: String,
        note: String?
    ) async throws -> (ticketID: Int64, opened: Bool) {
        guard !reporter.isEmpty, !actor.isEmpty, !reporter.utf8.contains(0), !actor.utf8.contains(0),
            !(note?.utf8.contains(0) ?? false)
        else { throw PostgresError(code: .invalidArgument, message: "a hotline ticket needs a reporter and an actor") }
        let priority = policy.priority(for: condition, valve: .unknown)
        let detail = "hotline call from \(reporter)" + (note.map { ": \($0)" } ?? "")
        let now = clock()
        let (source, address) = meter
        let answer = try await database.withTransaction { [policy] connection -> (ticketID: Int64, opened: Bool) in
            guard let meter = try connection.rows(DispatchSQL.meterID, [source, address]).first else {
                throw PostgresError(code: .invalidArgument, message: "no \(source.rawValue) meter \(address)")
            }
            let meterID = try meter.decode(0, as: Int64.self)
            _ = try connection.rows(DispatchSQL.lockMeterCondition, [meterID, condition.rawValue])
            let active = try connection.rows(DispatchSQL.activeTicket, [meterID, condition.rawValue]).first
            let ticketID: Int64
            let kind: TicketEventKind
            if let active {
                // The call joins the ticket already in hand, as a note on it.
                ticketID = try active.decode(0)
                kind = .note
            } else {
                let deadlines = TicketFolding.deadlines(
                    from: now,
                    priority: priority,
                    isRural: try meter.decode(1, as: Bool?.self) ?? false,
                    policy: policy
                ).instants
                guard
                    let opened = try connection.rows(
                        DispatchSQL.openHotlineTicket,
                        [
                            meterID, condition.rawValue, priority, now, deadlines[.acknowledge], deadlines[.arrive],
                            deadlines[.makeSafe], deadlines[.repair], reporter, note,
                        ]
                    ).first
                else { throw PostgresError(code: .unexpectedResult, message: "the ticket could not be opened") }
                ticketID = try opened.decode(0)
                kind = .opened
            }
            guard
                let event = try connection.rows(
                    DispatchSQL.insertEvent,
                    [ticketID, now, kind.rawValue, actor, detail]
                ).first
            else { throw PostgresError(code: .unexpectedResult, message: "the hotline event was not written") }
            try DispatchOutbox.notify(eventIDs: [try event.decode(0)], on: connection)
            return (ticketID, active == nil)
        }
        return answer
    }

    /// Writes an `escalated` event for every active ticket whose deadline passed at `now` without its step (once per
    /// ticket and deadline, the rule of ``TicketDeadlines/escalationsDue(status:escalated:now:)``), raises its
    /// escalation level and notifies.
    /// - Parameter now: The instant to judge the deadlines at (the caller's clock, not the database's).
    /// - Returns: The events written.
    /// - Throws: ``PostgresError``.
    public func escalateOverdue(now: Timestamp) async throws -> [DispatchEvent] {
        try await database.withTransaction { connection in
            var tickets: [Int64] = []
            var deadlines: [TicketDeadline] = []
            for candidate in try connection.query(DispatchSQL.overdueCandidates, [now], as: OverdueTicket.self) {
                let due = candidate.deadlines.escalationsDue(
                    status: candidate.status,
                    escalated: candidate.escalated,
                    now: now
                )
                tickets += Array(repeating: candidate.id, count: due.count)
                deadlines += due
            }
            guard !tickets.isEmpty else { return [] }
            let events = try connection.query(DispatchSQL.escalate, [tickets, deadlines, now], as: DispatchEvent.self)
            try DispatchOutbox.notify(eventIDs: events.map(\.id), on: connection)
            return events
        }
    }

    /// Lists tickets, most urgent first (priority, then the deadline of the next pending step).
    /// - Parameter filter: Which tickets.
    /// - Returns: The tickets.
    /// - Throws: ``PostgresError``.
    public func tickets(_ filter: TicketFilter) async throws -> [DispatchTicket] {
        try await database.withConnection { connection in
            try connection.query(
                DispatchSQL.list,
                [
                    filter.priority, filter.district, filter.dueBefore, filter.includeClosed, filter.limit,
                    filter.after?.id ?? filter.afterTicket, filter.after?.priority.rawValue,
                    filter.after?.nextDeadline,
                ],
                as: DispatchTicket.self
            )
        }
    }

    /// One ticket with its events and the household file of its meter.
    ///
    /// The events are the ``TicketEventMessage``s NOTIFY and MQTT carry, in id order; like the outbox's, each
    /// message's `ticket` is the ticket as it stands now.
    /// - Parameter id: The ticket.
    /// - Returns: `nil` when there is no such ticket.
    /// - Throws: ``PostgresError``.
    public func ticket(
        _ id: Int64
    ) async throws -> (ticket: DispatchTicket, events: [TicketEventMessage], household: HouseholdFile)? {
        try await database.withConnection { connection -> TicketWithFile? in
            guard let ticket = try connection.query(DispatchSQL.one, [id], as: DispatchTicket.self).first else {
                return nil
            }
            let events = try connection.query(DispatchSQL.messagesOfTicket, [id], as: TicketEventMessage.self)
            let meter = ticket.meterID
            let premises = try connection.rows(DispatchSQL.premises, [meter]).first
            let household = HouseholdFile(
                readings: try connection.query(DispatchSQL.householdReadings, [meter], as: HouseholdFile.Reading.self),
                alarms: try connection.query(DispatchSQL.householdAlarms, [meter], as: HouseholdFile.Alarm.self),
                tickets: try connection.query(DispatchSQL.householdTickets, [meter], as: HouseholdFile.Ticket.self),
                inspections: try connection.query(
                    DispatchSQL.householdInspections,
                    [meter],
                    as: HouseholdFile.Inspection.self
                ),
                hasContinuousAppliance: try premises?.decode(0, as: Bool?.self) ?? false,
                isMethaneDetectorLinked: try premises?.decode(1, as: Bool?.self) ?? false,
                customerClass: try premises?.decode(2, as: String?.self)
            )
            return TicketWithFile(ticket: ticket, events: events, household: household)
        }.map { ($0.ticket, $0.events, $0.household) }
    }

    /// SLA compliance per priority and district for tickets opened in [from, to).
    /// - Parameters:
    ///   - from: First opening instant included.
    ///   - to: First opening instant excluded.
    /// - Returns: One row per priority and district.
    /// - Throws: ``PostgresError``.
    public func slaReport(from: Timestamp, to: Timestamp) async throws -> [SLARow] {
        try await database.withConnection { connection in
            try connection.query(DispatchSQL.slaReport, [from, to, clock()], as: SLARow.self)
        }
    }

    /// How many tickets are active, and how many of those are overdue (the deadline of the step they have not reached
    /// yet passed at `now`), per priority: the `/metrics` gauges. One grouped statement over the active tickets.
    /// - Parameter now: The instant to judge the deadlines at.
    /// - Returns: One count per priority that has an active ticket.
    /// - Throws: ``PostgresError``.
    public func activeTicketCounts(now: Timestamp) async throws -> [ActiveTicketCount] {
        try await database.withConnection { connection in
            try connection.query(DispatchSQL.activeTicketCounts, [now], as: ActiveTicketCount.self)
        }
    }

    /// Notifies the event just written and returns its message (inside the caller's transaction).
    private static func notifiedMessage(
        of event: DispatchEvent,
        on connection: PostgresConnection
    ) throws -> TicketEventMessage {
        guard let message = try DispatchOutbox.notify(eventIDs: [event.id], on: connection).first else {
            throw PostgresError(code: .unexpectedResult, message: "event \(event.id) has no message")
        }
        return message
    }
}

/// The active tickets of one priority (``DispatchStore/activeTicketCounts(now:)``).
public struct ActiveTicketCount: Sendable, Equatable, PostgresRowDecodable {
    /// The priority.
    public var priority: TicketPriority
    /// Active tickets of this priority.
    public var active: Int64
    /// Those whose next pending deadline has passed.
    public var overdue: Int64

    /// Decodes `priority, active, overdue`.
    /// - Parameter row: The row.
    /// - Throws: ``PostgresError`` when a column does not decode.
    public init(row: PostgresRow) throws {
        priority = try row.decode(0)
        active = try row.decode(1)
        overdue = try row.decode(2)
    }
}

/// An active ticket with a passed deadline, as ``TicketDeadlines/escalationsDue(status:escalated:now:)`` needs it.
private struct OverdueTicket: PostgresRowDecodable {
    var id: Int64
    var status: TicketStatus
    var deadlines: TicketDeadlines
    var escalated: Set<TicketDeadline>

    init(row: PostgresRow) throws {
        id = try row.decode(0)
        status = try row.decode(1)
        var instants: [TicketDeadline: Timestamp] = [:]
        for (offset, deadline) in TicketDeadline.allCases.enumerated() {
            instants[deadline] = try row.decode(2 + offset, as: Timestamp?.self)
        }
        deadlines = TicketDeadlines(instants)
        // Escalation details of other shapes (none are written today) are not deadlines and are ignored.
        let names = try row.decode(2 + TicketDeadline.allCases.count, as: [String].self)
        escalated = Set(names.compactMap(TicketDeadline.init(rawValue:)))
    }
}

/// ``DispatchStore/ticket(_:)``'s answer as a Sendable value (tuples of structs are not carried across the session).
private struct TicketWithFile: Sendable {
    var ticket: DispatchTicket
    var events: [TicketEventMessage]
    var household: HouseholdFile
}

/// SLA compliance of one priority and district: per deadline, how many decided tickets met it, and arrival times.
public struct SLARow: Sendable, Equatable {
    /// Of one deadline: how many decided tickets met it.
    public struct Compliance: Sendable, Equatable {
        /// Tickets whose step was reached by the deadline.
        public var met: Int
        /// Tickets whose step was reached or whose deadline passed.
        public var decided: Int

        public init(met: Int, decided: Int) {
            self.met = met
            self.decided = decided
        }
    }

    /// Minutes from opening to on site.
    public struct ArrivalMinutes: Sendable, Equatable {
        public var p50: Double
        public var p90: Double
        public var max: Double

        public init(p50: Double, p90: Double, max: Double) {
            self.p50 = p50
            self.p90 = p90
            self.max = max
        }
    }

    public var priority: String
    public var district: String
    public var tickets: Int
    /// Per deadline (`acknowledge`, `arrive`, `make_safe`, `repair`). A deadline is decided once its step was reached
    /// or the deadline passed; met when the step was reached by then.
    public var deadlines: [String: Compliance]
    /// Median, 90th percentile and maximum (nil without arrivals).
    public var arrivalMinutes: ArrivalMinutes?
}

extension SLARow: PostgresRowDecodable {
    /// Decodes the columns of `DispatchSQL.slaReport`.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when a column is malformed.
    public init(row: PostgresRow) throws {
        var deadlines: [String: Compliance] = [:]
        for (index, name) in ["acknowledge", "arrive", "make_safe", "repair"].enumerated() {
            deadlines[name] = Compliance(
                met: try row.decode(3 + 2 * index, as: Int?.self) ?? 0,
                decided: try row.decode(4 + 2 * index, as: Int?.self) ?? 0
            )
        }
        var arrival: ArrivalMinutes?
        if let p50 = try row.decode(11, as: Double?.self), let p90 = try row.decode(12, as: Double?.self),
            let max = try row.decode(13, as: Double?.self)
        {
            arrival = ArrivalMinutes(p50: p50, p90: p90, max: max)
        }
        self.init(
            priority: try row.decode(0),
            district: try row.decode(1),
            tickets: try row.decode(2),
            deadlines: deadlines,
            arrivalMinutes: arrival
        )
    }
}
