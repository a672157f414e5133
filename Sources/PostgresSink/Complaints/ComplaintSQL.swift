import GatewayDomain

/// The statements of ``ComplaintStore`` and the return calls of tickets. Times cross as microseconds since 1970.
enum ComplaintSQL {
    private static func micros(_ expression: String) -> String { WriterSQL.epochMicros(expression) }
    private static func instant(_ micros: String) -> String { ValidationSQL.instant(micros) }

    /// The columns ``Complaint/init(row:)`` reads, for `complaints c LEFT JOIN meters m`.
    static let columns = """
        c.id, c.channel, c.category, m.protocol, m.address, c.district, c.complainant, c.contact, c.confidential,
            c.summary, c.request, c.disputed_from::text, c.disputed_to::text, c.status, \(micros("c.received_at")),
            c.received_by, \(micros("c.answer_by")), c.answer_by_provisional,
            \(ComplaintStep.allCases.map { micros("c.\($0.rawValue)_at") }.joined(separator: ", ")),
            c.not_accepted_reason, c.proposal, c.answer, c.outcome, c.escalation_level
        """

    static let meter = "SELECT id, district FROM meters WHERE protocol = $1 AND address = $2"

    /// $1 channel … $11 disputed_to, $12 now (µs), $13 received_by, $14 answer_by (µs), $15 provisional.
    static let insert = """
        INSERT INTO complaints (channel, category, meter_id, district, complainant, contact, confidential, summary,
            request, disputed_from, disputed_to, received_at, received_by, answer_by, answer_by_provisional, updated_at)
        VALUES ($1, $2, $3::bigint, $4, $5, $6, $7::boolean, $8, $9, $10::date, $11::date, \(instant("$12")), $13,
            \(instant("$14")), $15::boolean, \(instant("$12")))
        RETURNING id
        """

    /// $1 complaint, $2 at (µs), $3 kind, $4 actor, $5 detail.
    static let insertEvent = """
        INSERT INTO complaint_events (complaint_id, at, kind, actor, detail)
        VALUES ($1::bigint, \(instant("$2")), $3, $4, $5)
        """

    static let eventColumns = "id, complaint_id, \(micros("at")), kind, actor, detail"

    static let insertEventReturning = insertEvent + " RETURNING " + eventColumns

    static let one =
        "SELECT \(columns) FROM complaints c LEFT JOIN meters m ON m.id = c.meter_id WHERE c.id = $1::bigint"

    static let events = """
        SELECT \(eventColumns) FROM complaint_events WHERE complaint_id = $1::bigint ORDER BY id
        """

    static let lock = "SELECT status, category FROM complaints WHERE id = $1::bigint FOR UPDATE"

    /// A step the lifecycle allowed: $1 complaint, $2 new status, $3 now (µs), $4 text, $5 outcome, $6 actor.
    static func advance(_ step: ComplaintStep) -> String {
        let text: String
        switch step {
        case .notAccepted: text = ", not_accepted_reason = $4"
        case .proposed: text = ", proposal = $4"
        case .answered: text = ", answer = $4, outcome = $5"
        case .accepted, .followUpDone, .closed: text = ""
        }
        return """
            WITH c AS (
                UPDATE complaints SET status = $2, \(step.rawValue)_at = \(instant("$3")),
                    updated_at = \(instant("$3"))\(text)
                WHERE id = $1::bigint
                RETURNING id
            )
            INSERT INTO complaint_events (complaint_id, at, kind, actor, detail)
            SELECT id, \(instant("$3")), '\(step.rawValue)', $6, NULLIF(concat_ws(': ', $5::text, $4::text), '') FROM c
            RETURNING \(eventColumns)
            """
    }

    /// Complaints awaiting their answer with a deadline before $1 (µs), locked: id, status, answer_by (µs), and
    /// whether an `escalated` event exists.
    static let overdueCandidates = """
        SELECT c.id, c.status, \(micros("c.answer_by")),
            EXISTS (SELECT 1 FROM complaint_events e WHERE e.complaint_id = c.id AND e.kind = 'escalated')
        FROM complaints c
        WHERE c.status IN ('received', 'accepted', 'proposed') AND c.answer_by < \(instant("$1"))
        ORDER BY c.id
        FOR UPDATE OF c
        """

    /// $1 complaint ids, $2 now (µs): one `escalated` event each (the partial unique index keeps it once).
    static let escalate = """
        WITH ev AS (
            INSERT INTO complaint_events (complaint_id, at, kind, actor, detail)
            SELECT id, \(instant("$2")), 'escalated', 'gateway', 'answer deadline passed'
            FROM unnest($1::bigint[]) AS d (id) ORDER BY id
            ON CONFLICT (complaint_id) WHERE kind = 'escalated' DO NOTHING
            RETURNING \(eventColumns)
        ),
        raised AS (
            UPDATE complaints c SET escalation_level = c.escalation_level + 1, updated_at = \(instant("$2"))
            FROM ev WHERE c.id = ev.complaint_id
        )
        SELECT * FROM ev ORDER BY id
        """

    /// $1 status, $2 category, $3 district, $4 include closed, $5 limit, $6 after id.
    static let list = """
        SELECT \(columns) FROM complaints c LEFT JOIN meters m ON m.id = c.meter_id
        WHERE ($1::text IS NULL OR c.status = $1)
            AND ($2::text IS NULL OR c.category = $2)
            AND ($3::text IS NULL OR c.district = $3)
            AND ($4::boolean OR c.status <> 'closed')
            AND ($6::bigint IS NULL OR c.id > $6::bigint)
        ORDER BY c.id
        LIMIT $5::integer
        """

    /// $1 ticket, $2 complaint, $3 outcome, $4 attempts, $5 remarks, $6 actor, $7 at (µs).
    static let insertReturnCall = """
        INSERT INTO return_calls (ticket_id, complaint_id, outcome, attempts, remarks, actor, at)
        VALUES ($1::bigint, $2::bigint, $3, $4::integer, $5, $6, \(instant("$7")))
        """
}

/// Return calls as stored and shown.
enum ReturnCallSQL {
    private static let columns = "outcome, attempts, remarks, actor, \(WriterSQL.epochMicros("at"))"

    static let ofComplaint = "SELECT \(columns) FROM return_calls WHERE complaint_id = $1::bigint"
    static let ofTicket = "SELECT \(columns) FROM return_calls WHERE ticket_id = $1::bigint"

    /// The event detail of a return call: `satisfied after 1 attempt: remarks`.
    static func detail(_ call: ReturnCall) -> String {
        let base =
            call.outcome == .waived
            ? "return call waived"
            : "\(call.outcome.rawValue) after \(call.attempts) attempt\(call.attempts == 1 ? "" : "s")"
        return base + (call.remarks.map { ": \($0)" } ?? "")
    }
}
