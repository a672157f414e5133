public import GatewayCore

/// A step of the ticket lifecycle: open → acknowledged → dispatched → on site → made safe → resolved → follow-up
/// call done → closed. Steps move forward only; `made_safe` may be skipped (a fault that was never an escape).
public enum TicketStep: String, Sendable, Hashable, CaseIterable {
    case acknowledged
    case dispatched
    case onSite = "on_site"
    case madeSafe = "made_safe"
    case resolved
    case followUpDone = "follow_up_done"
    case closed

    /// The statuses a ticket may be in for this step to apply.
    var allowedFrom: [String] {
        switch self {
        case .acknowledged: ["open"]
        case .dispatched: ["acknowledged"]
        case .onSite: ["dispatched"]
        case .madeSafe: ["on_site"]
        case .resolved: ["on_site", "made_safe"]
        case .followUpDone: ["resolved"]
        case .closed: ["follow_up_done"]
        }
    }
}

/// One ticket with its deadlines and lifecycle times.
public struct DispatchTicket: Sendable, Equatable {
    public var id: Int64
    public var meterID: Int64
    public var `protocol`: FrameProtocol
    public var meter: String
    public var district: String?
    public var isRural: Bool
    public var condition: String
    public var priority: TicketPriority
    public var status: String
    public var origin: String
    public var incidentID: Int64?
    public var escalationLevel: Int
    public var alarmCount: Int
    public var openedAt: Timestamp
    /// acknowledge, arrive, make safe, repair.
    public var deadlines: [String: Timestamp]
    /// When each step was reached, by step name.
    public var steps: [String: Timestamp]
    public var reporter: String?
    public var note: String?
}

/// One event of a ticket's audit trail.
public struct DispatchEvent: Sendable, Equatable {
    public var id: Int64
    public var ticketID: Int64
    public var at: Timestamp
    public var kind: String
    public var actor: String
    public var alarmID: Int64?
    public var detail: String?
}

/// Which open tickets to list.
public struct TicketFilter: Sendable, Equatable {
    public var priority: TicketPriority?
    public var district: String?
    /// Only tickets with a pending deadline (of their next step) before this instant.
    public var dueBefore: Timestamp?
    /// Include resolved and closed tickets.
    public var includeClosed = false
    public var limit = 500

    public init() {}
}

/// The household file of a meter: what a crew wants to know before arriving.
public struct HouseholdFile: Sendable, Equatable {
    /// (read at, volume ml, valve, quality) of the latest readings.
    public var readings: [(readAt: Timestamp, volumeMillilitres: Int64, valve: ValveState, quality: ReadQuality?)]
    /// (raised at, condition, priority, cleared) of the latest alarms.
    public var alarms: [(raisedAt: Timestamp, condition: String, priority: String, isCleared: Bool)]
    /// (id, condition, priority, status, opened at) of the meter's latest tickets.
    public var tickets: [(id: Int64, condition: String, priority: String, status: String, openedAt: Timestamp)]
    /// (date, inspector, result) of the latest inspections.
    public var inspections: [(date: String, inspector: String, result: String)]
    public var hasContinuousAppliance: Bool
    public var isMethaneDetectorLinked: Bool
    public var customerClass: String?

    public static func == (lhs: HouseholdFile, rhs: HouseholdFile) -> Bool {
        lhs.readings.map(\.readAt) == rhs.readings.map(\.readAt)
            && lhs.alarms.map(\.raisedAt) == rhs.alarms.map(\.raisedAt)
            && lhs.tickets.map(\.id) == rhs.tickets.map(\.id)
            && lhs.inspections.map(\.date) == rhs.inspections.map(\.date)
    }
}

extension TelemetryStore {
    /// Moves a ticket one step along its lifecycle, recording the actor and an optional note, and notifies it.
    /// - Parameters:
    ///   - ticketID: The ticket.
    ///   - step: The step reached.
    ///   - actor: Who (recorded on the event).
    ///   - note: Free text for the event's detail.
    /// - Returns: The event written.
    /// - Throws: ``PostgresError`` with code `.invalidArgument` when the ticket does not exist or is not in a status
    ///   this step follows (nothing is written).
    public func advanceTicket(
        _ ticketID: Int64,
        to step: TicketStep,
        actor: String,
        note: String?
    ) throws
        -> DispatchEvent
    {
        guard !actor.isEmpty, !actor.utf8.contains(0), !(note?.utf8.contains(0) ?? false) else {
            throw PostgresError(code: .invalidArgument, message: "a ticket step needs an actor")
        }
        return try withTransaction { connection in
            _ = try connection.query(DispatchSQL.lockTicket, parameters: [String(ticketID)])
            let rows = try connection.query(
                DispatchSQL.advance(step),
                parameters: [String(ticketID), actor, note, "{\(step.allowedFrom.joined(separator: ","))}"]
            )
            guard let row = rows.first, let event = Self.event(from: row) else {
                let status = try connection.query(
                    "SELECT status FROM repair_tickets WHERE id = $1::bigint",
                    parameters: [String(ticketID)]
                ).first?.first.flatMap { $0 }
                throw PostgresError(
                    code: .invalidArgument,
                    message: status.map {
                        "ticket \(ticketID) is \($0); \(step.rawValue) follows \(step.allowedFrom.joined(separator: " or "))"
                    }
                        ?? "no ticket \(ticketID)"
                )
            }
            return event
        }
    }

    /// Adds a note event to a ticket.
    public func noteTicket(_ ticketID: Int64, actor: String, note: String) throws -> DispatchEvent {
        guard !actor.isEmpty, !note.isEmpty, !actor.utf8.contains(0), !note.utf8.contains(0) else {
            throw PostgresError(code: .invalidArgument, message: "a note needs an actor and text")
        }
        return try withTransaction { connection in
            guard let row = try connection.query(DispatchSQL.note, parameters: [String(ticketID), actor, note]).first,
                let event = Self.event(from: row)
            else { throw PostgresError(code: .invalidArgument, message: "no ticket \(ticketID)") }
            return event
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
    ) throws -> (ticketID: Int64, opened: Bool) {
        guard !reporter.isEmpty, !actor.isEmpty, !reporter.utf8.contains(0), !actor.utf8.contains(0),
            !(note?.utf8.contains(0) ?? false)
        else { throw PostgresError(code: .invalidArgument, message: "a hotline ticket needs a reporter and an actor") }
        let priority = TicketPolicy.serviceCommitments.priority(for: condition, valve: .unknown)
        return try withTransaction { connection in
            guard
                let id = try connection.query(
                    "SELECT id FROM meters WHERE protocol = $1 AND address = $2",
                    parameters: [meter.protocol.rawValue, meter.address]
                ).first?.first.flatMap({ $0 })
            else {
                throw PostgresError(
                    code: .invalidArgument,
                    message: "no \(meter.protocol.rawValue) meter \(meter.address)"
                )
            }
            try connection.execute(
                "SELECT pg_advisory_xact_lock(ticket_lock_key($1::bigint, $2))",
                parameters: [id, condition.rawValue]
            )
            let rows = try connection.query(
                DispatchSQL.openManual,
                parameters: [id, condition.rawValue, priority.rawValue, reporter, actor, note]
            )
            guard let row = rows.first, row.count >= 2, let ticket = row[0].flatMap({ Int64($0) }) else {
                throw PostgresError(code: .invalidArgument, message: "the ticket could not be opened")
            }
            return (ticket, row[1] == "t")
        }
    }

    /// Writes an `escalated` event for every active ticket whose deadline passed without its step (once per
    /// ticket and deadline), raises its escalation level and notifies.
    /// - Returns: The events written.
    /// - Throws: ``PostgresError``.
    public func escalateOverdue() throws -> [DispatchEvent] {
        try withTransaction { connection in
            try connection.query(DispatchSQL.escalate).compactMap(Self.event(from:))
        }
    }

    /// Events not yet published on the dispatch topic, oldest first, each with its ticket's priority and the event
    /// and ticket as JSON.
    /// - Parameter limit: At most this many.
    /// - Returns: (event id, ticket priority, JSON).
    /// - Throws: ``PostgresError``.
    public func undispatchedEvents(limit: Int) throws -> [(id: Int64, priority: String, json: String)] {
        let rows = try withConnection { connection in
            try connection.query(DispatchSQL.undispatched, parameters: [String(limit)])
        }
        return rows.compactMap { row in
            guard row.count == 3, let id = row[0].flatMap({ Int64($0) }), let priority = row[1], let json = row[2]
            else {
                return nil
            }
            return (id, priority, json)
        }
    }

    /// Marks events as published on the dispatch topic.
    public func markDispatched(_ ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        _ = try withConnection { connection in
            try connection.execute(
                "UPDATE ticket_events SET dispatched_at = now() WHERE id = ANY($1::bigint[]) AND dispatched_at IS NULL",
                parameters: ["{" + ids.map(String.init).joined(separator: ",") + "}"]
            )
        }
    }

    /// Announces a planned outage: alarms it explains from the district during the window are recorded but open no
    /// ticket.
    /// - Returns: The outage id.
    public func announceOutage(
        district: String,
        from start: Timestamp,
        to end: Timestamp,
        reason: String,
        by: String
    )
        throws -> Int64
    {
        guard end > start, !district.isEmpty, !reason.isEmpty, !by.isEmpty,
            ![district, reason, by].contains(where: { $0.utf8.contains(0) })
        else {
            throw PostgresError(
                code: .invalidArgument,
                message: "an outage needs a district, a window, a reason and who announced it"
            )
        }
        let rows = try withConnection { connection in
            try connection.query(
                """
                INSERT INTO planned_outages (district, starts_at, ends_at, reason, announced_by)
                VALUES ($1, \(ValidationSQL.instant("$2")), \(ValidationSQL.instant("$3")), $4, $5) RETURNING id
                """,
                parameters: [
                    district, String(start.microsecondsSinceEpoch), String(end.microsecondsSinceEpoch), reason, by,
                ]
            )
        }
        guard let id = rows.first?.first.flatMap({ $0 }).flatMap({ Int64($0) }) else {
            throw PostgresError(code: .invalidArgument, message: "the outage was not recorded")
        }
        return id
    }

    /// Syncs the numeric dispatch settings the ticket SQL reads.
    public func syncDispatchSettings(incidentWindowSeconds: Int64, incidentMinimumMeters: Int64) throws {
        _ = try withTransaction { connection in
            for (name, value) in [
                ("incident_window_s", incidentWindowSeconds), ("incident_min_meters", incidentMinimumMeters),
            ] {
                try connection.execute(
                    """
                    INSERT INTO dispatch_settings (name, value) VALUES ($1, $2::bigint)
                    ON CONFLICT (name) DO UPDATE SET value = excluded.value
                    WHERE dispatch_settings.value IS DISTINCT FROM excluded.value
                    """,
                    parameters: [name, String(value)]
                )
            }
        }
    }

    /// Lists tickets, most urgent first (priority, then the nearest pending deadline).
    public func tickets(_ filter: TicketFilter) throws -> [DispatchTicket] {
        let rows = try withConnection { connection in
            try connection.query(
                DispatchSQL.list,
                parameters: [
                    filter.priority?.rawValue, filter.district,
                    filter.dueBefore.map { String($0.microsecondsSinceEpoch) }, filter.includeClosed ? "true" : "false",
                    String(filter.limit),
                ]
            )
        }
        return rows.compactMap(Self.ticket(from:))
    }

    /// One ticket with its events and the household file of its meter.
    /// - Returns: `nil` when there is no such ticket.
    public func ticket(
        _ id: Int64
    ) throws -> (ticket: DispatchTicket, events: [DispatchEvent], household: HouseholdFile)? {
        try withConnection { connection in
            guard
                let ticket = try connection.query(DispatchSQL.one, parameters: [String(id)]).first.flatMap(
                    Self.ticket(from:)
                )
            else { return nil }
            let events = try connection.query(
                "SELECT id, ticket_id, \(WriterSQL.epochMicros("at")), kind, actor, alarm_id, detail FROM ticket_events WHERE ticket_id = $1::bigint ORDER BY id",
                parameters: [String(id)]
            ).compactMap(Self.event(from:))
            let meter = String(ticket.meterID)
            let readings = try connection.query(
                "SELECT \(WriterSQL.epochMicros("read_at")), volume_ml, valve, quality FROM readings WHERE meter_id = $1::bigint AND storage = 0 AND tariff = 0 ORDER BY read_at DESC LIMIT 10",
                parameters: [meter]
            ).compactMap { row -> (Timestamp, Int64, ValveState, ReadQuality?)? in
                guard let at = row[0].flatMap({ Int64($0) }), let volume = row[1].flatMap({ Int64($0) }) else {
                    return nil
                }
                return (
                    Timestamp(microsecondsSinceEpoch: at), volume,
                    row[2].flatMap { Int16($0) }.flatMap { ValveState(rawValue: $0) } ?? .unknown,
                    row[3].flatMap { Int16($0) }.flatMap { ReadQuality(rawValue: $0) }
                )
            }
            let alarms = try connection.query(
                "SELECT \(WriterSQL.epochMicros("raised_at")), condition, priority, is_cleared FROM alarms WHERE meter_id = $1::bigint ORDER BY raised_at DESC LIMIT 20",
                parameters: [meter]
            ).compactMap { row -> (Timestamp, String, String, Bool)? in
                guard let at = row[0].flatMap({ Int64($0) }), let condition = row[1], let priority = row[2] else {
                    return nil
                }
                return (Timestamp(microsecondsSinceEpoch: at), condition, priority, row[3] == "t")
            }
            let tickets = try connection.query(
                "SELECT id, condition, priority, status, \(WriterSQL.epochMicros("opened_at")) FROM repair_tickets WHERE meter_id = $1::bigint ORDER BY opened_at DESC LIMIT 10",
                parameters: [meter]
            ).compactMap { row -> (Int64, String, String, String, Timestamp)? in
                guard let id = row[0].flatMap({ Int64($0) }), let condition = row[1], let priority = row[2],
                    let status = row[3], let at = row[4].flatMap({ Int64($0) })
                else { return nil }
                return (id, condition, priority, status, Timestamp(microsecondsSinceEpoch: at))
            }
            let inspections = try connection.query(
                "SELECT inspected_on::text, inspector, result FROM inspections WHERE meter_id = $1::bigint ORDER BY inspected_on DESC LIMIT 10",
                parameters: [meter]
            ).compactMap { row -> (String, String, String)? in
                guard let date = row[0], let inspector = row[1], let result = row[2] else { return nil }
                return (date, inspector, result)
            }
            let premises = try connection.query(
                "SELECT continuous_appliance, methane_detector_linked, customer_class FROM meters WHERE id = $1::bigint",
                parameters: [meter]
            ).first
            let household = HouseholdFile(
                readings: readings.map { ($0.0, $0.1, $0.2, $0.3) },
                alarms: alarms.map { ($0.0, $0.1, $0.2, $0.3) },
                tickets: tickets.map { ($0.0, $0.1, $0.2, $0.3, $0.4) },
                inspections: inspections.map { ($0.0, $0.1, $0.2) },
                hasContinuousAppliance: premises?[0] == "t",
                isMethaneDetectorLinked: premises?[1] == "t",
                customerClass: premises?[2] ?? nil
            )
            return (ticket, events, household)
        }
    }

    // MARK: Rows

    static func event(from row: [String?]) -> DispatchEvent? {
        guard row.count >= 7, let id = row[0].flatMap({ Int64($0) }), let ticket = row[1].flatMap({ Int64($0) }),
            let at = row[2].flatMap({ Int64($0) }), let kind = row[3], let actor = row[4]
        else { return nil }
        return DispatchEvent(
            id: id,
            ticketID: ticket,
            at: Timestamp(microsecondsSinceEpoch: at),
            kind: kind,
            actor: actor,
            alarmID: row[5].flatMap { Int64($0) },
            detail: row[6]
        )
    }

    static func ticket(from row: [String?]) -> DispatchTicket? {
        guard row.count >= 26, let id = row[0].flatMap({ Int64($0) }), let meterID = row[1].flatMap({ Int64($0) }),
            let source = row[2].flatMap({ FrameProtocol(rawValue: $0) }), let meter = row[3], let condition = row[6],
            let priority = row[7].flatMap({ TicketPriority(rawValue: $0) }), let status = row[8], let origin = row[9],
            let opened = row[13].flatMap({ Int64($0) })
        else { return nil }
        func time(_ index: Int) -> Timestamp? {
            row[index].flatMap { Int64($0) }.map { Timestamp(microsecondsSinceEpoch: $0) }
        }
        var deadlines: [String: Timestamp] = [:]
        for (index, name) in [(14, "acknowledge_by"), (15, "arrive_by"), (16, "make_safe_by"), (17, "repair_by")] {
            if let at = time(index) { deadlines[name] = at }
        }
        var steps: [String: Timestamp] = [:]
        for (offset, step) in TicketStep.allCases.enumerated() {
            if let at = time(18 + offset) { steps[step.rawValue] = at }
        }
        return DispatchTicket(
            id: id,
            meterID: meterID,
            protocol: source,
            meter: meter,
            district: row[4],
            isRural: row[5] == "t",
            condition: condition,
            priority: priority,
            status: status,
            origin: origin,
            incidentID: row[10].flatMap { Int64($0) },
            escalationLevel: row[11].flatMap { Int($0) } ?? 0,
            alarmCount: row[12].flatMap { Int($0) } ?? 0,
            openedAt: Timestamp(microsecondsSinceEpoch: opened),
            deadlines: deadlines,
            steps: steps,
            reporter: row[25],
            note: row.count > 26 ? row[26] : nil
        )
    }
}

/// SLA compliance of one priority and district: per deadline, how many decided tickets met it, and arrival times.
public struct SLARow: Sendable, Equatable {
    public var priority: String
    public var district: String
    public var tickets: Int
    /// Per deadline (`acknowledge`, `arrive`, `make_safe`, `repair`): (met, decided). A deadline is decided once its
    /// step was reached or the deadline passed; met when the step was reached by then.
    public var deadlines: [String: (met: Int, decided: Int)]
    /// Minutes from opening to on site: median, 90th percentile, maximum (nil without arrivals).
    public var arrivalMinutes: (p50: Double, p90: Double, max: Double)?

    public static func == (lhs: SLARow, rhs: SLARow) -> Bool {
        lhs.priority == rhs.priority && lhs.district == rhs.district && lhs.tickets == rhs.tickets
            && lhs.deadlines.mapValues { [$0.met, $0.decided] } == rhs.deadlines.mapValues { [$0.met, $0.decided] }
    }
}

/// A premises due for its safety inspection.
public struct InspectionDue: Sendable, Equatable {
    public var `protocol`: FrameProtocol
    public var meter: String
    public var district: String?
    public var customerClass: String
    public var lastInspection: String?
    public var dueOn: String
}

extension TelemetryStore {
    /// SLA compliance per priority and district for tickets opened in [from, to).
    public func slaReport(from: Timestamp, to: Timestamp) throws -> [SLARow] {
        let rows = try withConnection { connection in
            try connection.query(
                DispatchSQL.slaReport,
                parameters: [String(from.microsecondsSinceEpoch), String(to.microsecondsSinceEpoch)]
            )
        }
        return rows.compactMap { row in
            guard row.count == 14, let priority = row[0], let district = row[1],
                let tickets = row[2].flatMap({ Int($0) })
            else { return nil }
            var deadlines: [String: (met: Int, decided: Int)] = [:]
            for (index, name) in ["acknowledge", "arrive", "make_safe", "repair"].enumerated() {
                deadlines[name] = (Int(row[3 + 2 * index] ?? "") ?? 0, Int(row[4 + 2 * index] ?? "") ?? 0)
            }
            var arrival: (Double, Double, Double)?
            if let p50 = row[11].flatMap({ Double($0) }), let p90 = row[12].flatMap({ Double($0) }),
                let max = row[13].flatMap({ Double($0) })
            {
                arrival = (p50, p90, max)
            }
            return SLARow(
                priority: priority,
                district: district,
                tickets: tickets,
                deadlines: deadlines,
                arrivalMinutes: arrival
            )
        }
    }

    /// Premises due for a safety inspection on `date`: residential after `residentialMonths`, commercial and
    /// industrial after `nonResidentialMonths`, counted from the last inspection (or from registration).
    public func inspectionsDue(
        asOf date: CivilDate,
        residentialMonths: Int,
        nonResidentialMonths: Int,
        limit: Int
    )
        throws -> [InspectionDue]
    {
        let rows = try withConnection { connection in
            try connection.query(
                DispatchSQL.inspectionsDue,
                parameters: [date.description, String(residentialMonths), String(nonResidentialMonths), String(limit)]
            )
        }
        return rows.compactMap { row in
            guard row.count == 6, let source = row[0].flatMap({ FrameProtocol(rawValue: $0) }), let meter = row[1],
                let customer = row[3], let due = row[5]
            else { return nil }
            return InspectionDue(
                protocol: source,
                meter: meter,
                district: row[2],
                customerClass: customer,
                lastInspection: row[4],
                dueOn: due
            )
        }
    }

    /// Records a safety inspection of a premises.
    public func recordInspection(
        meter: (protocol: FrameProtocol, address: String),
        on date: CivilDate,
        inspector: String,
        result: String,
        note: String?
    ) throws {
        guard !inspector.isEmpty, !result.isEmpty,
            ![inspector, result, note ?? ""].contains(where: { $0.utf8.contains(0) })
        else { throw PostgresError(code: .invalidArgument, message: "an inspection needs an inspector and a result") }
        let inserted = try withConnection { connection in
            try connection.execute(
                """
                INSERT INTO inspections (meter_id, inspected_on, inspector, result, note)
                SELECT id, $3::date, $4, $5, $6 FROM meters WHERE protocol = $1 AND address = $2
                """,
                parameters: [meter.protocol.rawValue, meter.address, date.description, inspector, result, note]
            )
        }
        guard inserted == 1 else {
            throw PostgresError(code: .invalidArgument, message: "no \(meter.protocol.rawValue) meter \(meter.address)")
        }
    }
}

/// A P0 ticket whose meter should get a valve-close command.
public struct PendingValveClose: Sendable, Equatable {
    public var ticketID: Int64
    public var meterID: Int64
    public var address: String
    public var key: [UInt8]
    public var condition: String
}

extension TelemetryStore {
    /// Active P0 tickets of native meters with a key whose valve-close command was not sent yet.
    public func pendingValveCloses(limit: Int) throws -> [PendingValveClose] {
        let rows = try withConnection { connection in
            try connection.query(DispatchSQL.pendingValveCloses, parameters: [String(limit)])
        }
        return rows.compactMap { row in
            guard row.count == 5, let ticket = row[0].flatMap({ Int64($0) }), let meter = row[1].flatMap({ Int64($0) }),
                let address = row[2], let key = row[3].flatMap({ MeterStore.bytes(fromHex: $0) }), let condition = row[4]
            else { return nil }
            return PendingValveClose(ticketID: ticket, meterID: meter, address: address, key: key, condition: condition)
        }
    }

    /// Reserves the valve-close command of a ticket (one per ticket) and returns its frame counter. The first
    /// reservation writes the `valve_command` event (before the downlink leaves, so the meter's answer always
    /// follows it in the ticket's history).
    /// - Parameters:
    ///   - ticketID: The P0 ticket.
    ///   - meterID: Its meter.
    ///   - detail: The event's detail.
    /// - Returns: The command's frame counter.
    public func reserveValveCommand(ticketID: Int64, meterID: Int64, detail: (UInt32) -> String) throws -> UInt32? {
        try withTransaction { connection in
            guard
                let row = try connection.query(
                    DispatchSQL.reserveValveCommand,
                    parameters: [String(ticketID), String(meterID)]
                ).first, row.count == 2, let counter = row[0].flatMap({ UInt32($0) })
            else { return nil }
            if row[1] == "t" {
                _ = try connection.query(
                    DispatchSQL.valveCommandEvent,
                    parameters: [String(ticketID), detail(counter)]
                )
            }
            return counter
        }
    }

    /// Records that the broker acknowledged the valve-close command of a ticket.
    public func markValveCommandSent(ticketID: Int64) throws {
        _ = try withConnection { connection in
            try connection.execute(
                "UPDATE valve_commands SET sent_at = now() WHERE ticket_id = $1::bigint AND sent_at IS NULL",
                parameters: [String(ticketID)]
            )
        }
    }

    /// Records meters' answers to commands (inside the ingest transaction).
    func recordCommandResults(_ results: [CommandResultRecord], on connection: PostgresConnection) throws -> Int {
        guard !results.isEmpty else { return 0 }
        func array(_ values: [String]) -> String { "{" + values.joined(separator: ",") + "}" }
        let rows = try connection.query(
            DispatchSQL.recordCommandResults,
            parameters: [
                array(results.map { String($0.meterID) }), array(results.map { String($0.commandFrameCounter) }),
                array(results.map { $0.outcome }), array(results.map { String($0.valve.rawValue) }),
                array(results.map { String($0.receivedAt.microsecondsSinceEpoch) }),
            ]
        )
        return rows.count
    }
}
