public import GatewayCore
public import GatewayDomain

/// Complaints: intake with its working-day answer deadline, lifecycle steps, the return call, notes, escalation of
/// late answers, the list, and one complaint with its events.
///
/// The rules are ``ComplaintLifecycle``, ``ReturnCall`` and ``WorkingCalendar`` (GatewayDomain); this store locks
/// the complaint, asks them, and writes the change and its `complaint_events` row in one transaction. The database
/// refuses a backward step or a `follow_up_done` without a return call on its own as well (migration v24).
public struct ComplaintStore: Sendable {
    let database: any PostgresDatabase
    private let calendar: WorkingCalendar
    private let zone: TimeZoneRules
    private let answerWorkingDays: Int
    let clock: @Sendable () -> Timestamp

    /// Creates a store.
    /// - Parameters:
    ///   - database: Where the statements run.
    ///   - calendar: The company's working days (``WorkingCalendar``).
    ///   - zone: The company's zone: which day a complaint was received and when a working day ends.
    ///   - answerWorkingDays: Working days allowed for the answer (5 in the service commitments).
    ///   - clock: "Now" of what the store records; escalation takes "now" as a parameter.
    public init(
        _ database: any PostgresDatabase,
        calendar: WorkingCalendar,
        zone: TimeZoneRules,
        answerWorkingDays: Int = 5,
        clock: @escaping @Sendable () -> Timestamp = WallClock.now
    ) {
        self.database = database
        self.calendar = calendar
        self.zone = zone
        self.answerWorkingDays = answerWorkingDays
        self.clock = clock
    }

    private static func isText(_ text: String?) -> Bool { !(text?.utf8.contains(0) ?? false) }

    /// Records a complaint received now, with its answer deadline.
    /// - Parameters:
    ///   - intake: What was received.
    ///   - actor: Who took it (recorded on the `received` event).
    /// - Returns: The complaint as stored.
    /// - Throws: ``PostgresError`` `.invalidArgument` for an unknown meter, an empty complainant or summary, a
    ///   billing dispute without meter or days, or text with NUL bytes.
    public func receive(_ intake: ComplaintIntake, actor: String) async throws -> Complaint {
        guard !actor.isEmpty, !intake.complainant.isEmpty, !intake.summary.isEmpty,
            [
                actor, intake.complainant, intake.summary, intake.contact, intake.request, intake.district,
                intake.meter?.address,
            ].allSatisfy(Self.isText)
        else {
            throw PostgresError(code: .invalidArgument, message: "a complaint needs a complainant and a summary")
        }
        if intake.category == .billingDispute, intake.meter == nil || intake.disputedDays == nil {
            throw PostgresError(
                code: .invalidArgument,
                message: "a billing dispute names the meter and the disputed days (disputed_from, disputed_to)"
            )
        }
        let now = clock()
        let deadline = calendar.deadline(workingDays: answerWorkingDays, after: now, zone: zone)
        let detail =
            "answer by \(deadline.at) (\(answerWorkingDays) working days, last \(deadline.lastDay))"
            + (deadline.uncoveredYears.isEmpty
                ? "" : "; no working calendar for \(deadline.uncoveredYears.map(String.init).joined(separator: ", "))")
        return try await database.withTransaction { connection in
            var meterID: Int64?
            var district = intake.district
            if let meter = intake.meter {
                guard let row = try connection.rows(ComplaintSQL.meter, [meter.protocol, meter.address]).first else {
                    throw PostgresError(
                        code: .invalidArgument,
                        message: "no \(meter.protocol.rawValue) meter \(meter.address)"
                    )
                }
                meterID = try row.decode(0)
                district = try row.decode(1, as: String?.self) ?? district
            }
            guard
                let id = try connection.rows(
                    ComplaintSQL.insert,
                    [
                        intake.channel, intake.category, meterID, district, intake.complainant, intake.contact,
                        intake.isConfidential, intake.summary, intake.request,
                        intake.disputedDays.map { "\($0.lowerBound)" }, intake.disputedDays.map { "\($0.upperBound)" },
                        now, actor, deadline.at, !deadline.uncoveredYears.isEmpty,
                    ]
                ).first?.decode(0, as: Int64.self)
            else { throw PostgresError(code: .unexpectedResult, message: "the complaint was not written") }
            _ = try connection.rows(ComplaintSQL.insertEvent, [id, now, "received", actor, detail])
            guard let complaint = try connection.query(ComplaintSQL.one, [id], as: Complaint.self).first else {
                throw PostgresError(code: .unexpectedResult, message: "complaint \(id) vanished")
            }
            return complaint
        }
    }

    /// Moves a complaint one step (not `follow_up_done`: that is ``recordReturnCall(_:_:actor:)``).
    /// - Parameters:
    ///   - id: The complaint.
    ///   - step: The step.
    ///   - text: The reason of a refusal, the proposal or the answer (stored on the complaint and the event).
    ///   - outcome: The outcome of a billing dispute's answer.
    ///   - actor: Who.
    /// - Returns: The event written.
    /// - Throws: ``PostgresError`` `.invalidArgument` with ``ComplaintLifecycle/Refusal``'s message, or when there
    ///   is no such complaint (message starting "no complaint").
    public func advance(
        _ id: Int64,
        to step: ComplaintStep,
        text: String?,
        outcome: ComplaintOutcome?,
        actor: String
    ) async throws -> ComplaintEvent {
        guard !actor.isEmpty, Self.isText(actor), Self.isText(text) else {
            throw PostgresError(code: .invalidArgument, message: "a complaint step needs an actor")
        }
        guard step != .followUpDone else {
            throw PostgresError(
                code: .invalidArgument,
                message: "follow_up_done is recorded with the return call's outcome (return-call)"
            )
        }
        let now = clock()
        return try await database.withTransaction { connection in
            let (status, category) = try Self.lock(id, on: connection)
            do throws(ComplaintLifecycle.Refusal) {
                _ = try ComplaintLifecycle.advance(
                    complaint: id,
                    from: status,
                    by: step,
                    text: text,
                    category: category,
                    outcome: outcome
                )
            } catch {
                throw PostgresError(code: .invalidArgument, message: error.message)
            }
            var text = text
            if step == .answered, outcome == .corrected {
                // The answer names the corrections it rests on; there must be one.
                let seqs = try connection.rows(DisputeSQL.correctionSeqs, [id]).map { try $0.decode(0, as: Int64.self) }
                do throws(ComplaintLifecycle.Refusal) {
                    text = (text ?? "") + " [" + (try ComplaintLifecycle.correctionNote(seqs)) + "]"
                } catch {
                    throw PostgresError(code: .invalidArgument, message: error.message)
                }
            }
            return try Self.write(id, step: step, text: text, outcome: outcome, actor: actor, at: now, on: connection)
        }
    }

    /// Records the return call (or a supervisor's waiver) and moves the complaint to `follow_up_done`.
    /// - Parameters:
    ///   - id: The complaint (answered or not accepted).
    ///   - call: The call, checked by ``ReturnCall``.
    ///   - actor: Who called (or waived).
    /// - Returns: The `follow_up_done` event.
    /// - Throws: ``PostgresError`` `.invalidArgument` when the complaint is not awaiting its return call.
    public func recordReturnCall(_ id: Int64, _ call: ReturnCall, actor: String) async throws -> ComplaintEvent {
        guard !actor.isEmpty, Self.isText(actor), Self.isText(call.remarks) else {
            throw PostgresError(code: .invalidArgument, message: "a return call needs an actor")
        }
        let now = clock()
        return try await database.withTransaction { connection in
            let (status, category) = try Self.lock(id, on: connection)
            do throws(ComplaintLifecycle.Refusal) {
                _ = try ComplaintLifecycle.advance(
                    complaint: id,
                    from: status,
                    by: .followUpDone,
                    text: nil,
                    category: category,
                    outcome: nil
                )
            } catch {
                throw PostgresError(code: .invalidArgument, message: error.message)
            }
            _ = try connection.rows(
                ComplaintSQL.insertReturnCall,
                [nil, id, call.outcome, call.attempts, call.remarks, actor, now]
            )
            return try Self.write(
                id,
                step: .followUpDone,
                text: ReturnCallSQL.detail(call),
                outcome: nil,
                actor: actor,
                at: now,
                on: connection
            )
        }
    }

    /// Adds a note to a complaint.
    /// - Returns: The event.
    /// - Throws: ``PostgresError`` `.invalidArgument` for no such complaint or an empty note.
    public func note(_ id: Int64, actor: String, note: String) async throws -> ComplaintEvent {
        guard !actor.isEmpty, !note.isEmpty, Self.isText(actor), Self.isText(note) else {
            throw PostgresError(code: .invalidArgument, message: "a note needs an actor and text")
        }
        let now = clock()
        return try await database.withTransaction { connection in
            _ = try Self.lock(id, on: connection)
            guard
                let event = try connection.query(
                    ComplaintSQL.insertEventReturning,
                    [id, now, "note", actor, note],
                    as: ComplaintEvent.self
                ).first
            else { throw PostgresError(code: .unexpectedResult, message: "the note was not written") }
            return event
        }
    }

    /// Writes an `escalated` event for every complaint still awaiting its answer whose deadline passed at `now`
    /// (once per complaint: ``ComplaintLifecycle/isEscalationDue(status:answerBy:isEscalated:now:)``) and raises
    /// its escalation level.
    /// - Parameter now: The instant to judge at.
    /// - Returns: The events written.
    public func escalateOverdue(now: Timestamp) async throws -> [ComplaintEvent] {
        try await database.withTransaction { connection in
            var due: [Int64] = []
            for row in try connection.rows(ComplaintSQL.overdueCandidates, [now]) {
                let id = try row.decode(0, as: Int64.self)
                if ComplaintLifecycle.isEscalationDue(
                    status: try row.decode(1),
                    answerBy: try row.decode(2),
                    isEscalated: try row.decode(3),
                    now: now
                ) {
                    due.append(id)
                }
            }
            guard !due.isEmpty else { return [] }
            return try connection.query(ComplaintSQL.escalate, [due, now], as: ComplaintEvent.self)
        }
    }

    /// Lists complaints in id order (the order of receipt; stable for pagination).
    /// - Parameter filter: Which complaints.
    /// - Returns: The complaints in id order.
    public func complaints(_ filter: ComplaintFilter) async throws -> [Complaint] {
        try await database.withConnection { connection in
            try connection.query(
                ComplaintSQL.list,
                [
                    filter.status, filter.category, filter.district, filter.includeClosed, filter.limit,
                    filter.afterComplaint,
                ],
                as: Complaint.self
            )
        }
    }

    /// One complaint with its events (in id order) and its return call.
    /// - Returns: `nil` when there is no such complaint.
    public func complaint(
        _ id: Int64
    ) async throws -> (complaint: Complaint, events: [ComplaintEvent], returnCall: ReturnCallRecord?)? {
        try await database.withConnection { connection -> ComplaintWithEvents? in
            guard let complaint = try connection.query(ComplaintSQL.one, [id], as: Complaint.self).first else {
                return nil
            }
            return ComplaintWithEvents(
                complaint: complaint,
                events: try connection.query(ComplaintSQL.events, [id], as: ComplaintEvent.self),
                returnCall: try connection.query(
                    ReturnCallSQL.ofComplaint,
                    [id],
                    as: ReturnCallRecord.self
                ).first
            )
        }.map { ($0.complaint, $0.events, $0.returnCall) }
    }

    /// Locks a complaint and reads its status and category.
    private static func lock(
        _ id: Int64,
        on connection: PostgresConnection
    ) throws -> (ComplaintStatus, ComplaintCategory) {
        guard let row = try connection.rows(ComplaintSQL.lock, [id]).first else {
            throw PostgresError(code: .invalidArgument, message: "no complaint \(id)")
        }
        return (try row.decode(0), try row.decode(1))
    }

    /// Writes a step the lifecycle allowed and its event.
    private static func write(
        _ id: Int64,
        step: ComplaintStep,
        text: String?,
        outcome: ComplaintOutcome?,
        actor: String,
        at now: Timestamp,
        on connection: PostgresConnection
    ) throws -> ComplaintEvent {
        guard
            let event = try connection.query(
                ComplaintSQL.advance(step),
                [id, step.status, now, text, outcome, actor],
                as: ComplaintEvent.self
            ).first
        else { throw PostgresError(code: .unexpectedResult, message: "complaint \(id) was not moved") }
        return event
    }
}

/// ``ComplaintStore/complaint(_:)``'s answer as one Sendable value.
private struct ComplaintWithEvents: Sendable {
    var complaint: Complaint
    var events: [ComplaintEvent]
    var returnCall: ReturnCallRecord?
}
