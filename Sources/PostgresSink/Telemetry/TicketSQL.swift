import GatewayDomain

/// The statements of the writer's ticket step. They read what the rules need and write what the rules decided
/// (``TicketFolding``, ``MajorIncidentRule``): no rule lives here, only storage. Plans cross as JSON record sets
/// (`jsonb_to_recordset`, one parameter) with times as microseconds since 1970.
enum TicketSQL {
    private static func micros(_ expression: String) -> String { WriterSQL.epochMicros(expression) }
    private static func instant(_ micros: String) -> String { ValidationSQL.instant(micros) }

    /// The active statuses, from ``TicketStatus/active``.
    static let active = DispatchSQL.active

    /// Serialises the ticket step per (meter, condition) across all writers, in key order (no deadlocks between
    /// writers). Every writer of `repair_tickets` takes this lock before reading the active ticket it changes; the
    /// partial unique index `repair_tickets_one_active_idx` is the hard guarantee.
    static let lockKeys = """
        SELECT pg_advisory_xact_lock(k)
        FROM (SELECT DISTINCT ticket_lock_key(meter_id, condition) AS k FROM gw_new_alarms ORDER BY 1) AS keys
        """

    /// The alarms this transaction stored (`gw_new_alarms`) as ``StoredAlarm`` columns: the meter's rural flag and
    /// district, and the first planned outage of that district covering the receive time that is not cancelled (a
    /// cancelled outage explains nothing from its cancellation on, whatever the alarm's receive time). Each meter is
    /// probed by its key (`LATERAL … OFFSET 0`): without statistics on the stage table the planner would hash the
    /// whole registry for a few alarms (about 8 ms at 20,000 meters).
    static let newAlarms = """
        SELECT n.id, n.meter_id, n.condition, n.priority, \(micros("n.raised_at")), \(micros("n.received_at")),
            n.is_cleared, n.opens_ticket, coalesce(m.is_rural, false), m.district,
            (SELECT o.id FROM planned_outages o
                WHERE o.district = m.district AND n.received_at >= o.starts_at AND n.received_at < o.ends_at
                    AND o.cancelled_at IS NULL
                ORDER BY o.id LIMIT 1)
        FROM gw_new_alarms n
        LEFT JOIN LATERAL (SELECT is_rural, district FROM meters WHERE id = n.meter_id OFFSET 0) AS m ON true
        ORDER BY n.id
        """

    /// The active tickets of the new alarms' keys, locked, as ``ActiveTicket`` columns.
    static let activeTickets = """
        SELECT t.id, t.meter_id, t.condition, t.priority, t.status, \(micros("t.opened_at")),
            \(micros("t.last_alarm_at")), t.alarm_count,
            \(TicketDeadline.allCases.map { micros("t.\($0.rawValue)") }.joined(separator: ", "))
        FROM repair_tickets t
        WHERE (t.meter_id, t.condition) IN (SELECT meter_id, condition FROM gw_new_alarms)
            AND t.status IN \(active)
        ORDER BY t.id
        FOR UPDATE
        """

    /// Ids for the tickets a plan opens: $1 how many.
    static let allocateTicketIDs = """
        SELECT nextval(pg_get_serial_sequence('repair_tickets', 'id')) FROM generate_series(1, $1::integer)
        """

    /// The record set of planned tickets (``TicketRow``).
    private static let ticketRows = """
        jsonb_to_recordset($1::jsonb) AS w (id bigint, meter_id bigint, condition text, priority text, status text,
            opened_at bigint, first_alarm_id bigint, last_alarm_at bigint, alarm_count integer,
            acknowledge_by bigint, arrive_by bigint, make_safe_by bigint, repair_by bigint, resolved_at bigint)
        """

    /// Writes the planned state of stored tickets: $1 ticket rows, $2 now. Runs before ``insertTickets`` so a ticket
    /// resolved by the plan no longer blocks the new one of its key.
    static let updateTickets = """
        UPDATE repair_tickets t SET priority = w.priority, status = w.status,
            last_alarm_at = \(instant("w.last_alarm_at")), alarm_count = w.alarm_count,
            acknowledge_by = \(instant("w.acknowledge_by")), arrive_by = \(instant("w.arrive_by")),
            make_safe_by = \(instant("w.make_safe_by")), repair_by = \(instant("w.repair_by")),
            resolved_at = coalesce(\(instant("w.resolved_at")), t.resolved_at), updated_at = \(instant("$2"))
        FROM \(ticketRows)
        WHERE t.id = w.id
        """

    /// Inserts the tickets a plan opens, with the ids ``allocateTicketIDs`` gave: $1 ticket rows, $2 now.
    static let insertTickets = """
        INSERT INTO repair_tickets (id, meter_id, condition, priority, status, opened_at, first_alarm_id,
            last_alarm_at, alarm_count, acknowledge_by, arrive_by, make_safe_by, repair_by, resolved_at, updated_at)
        SELECT w.id, w.meter_id, w.condition, w.priority, w.status, \(instant("w.opened_at")), w.first_alarm_id,
            \(instant("w.last_alarm_at")), w.alarm_count, \(instant("w.acknowledge_by")), \(instant("w.arrive_by")),
            \(instant("w.make_safe_by")), \(instant("w.repair_by")), \(instant("w.resolved_at")), \(instant("$2"))
        FROM \(ticketRows)
        ORDER BY w.id
        """

    /// Writes a plan's events by the actor `gateway` ($1 event rows, ``EventRow``) and returns them with their tickets
    /// as they now stand (``WriterSQL/notifyingSelect(events:tickets:)``).
    static let insertEvents = """
        WITH ev AS (
            INSERT INTO ticket_events (ticket_id, at, kind, actor, alarm_id, detail)
            SELECT e.ticket_id, \(instant("e.at")), e.kind, 'gateway', e.alarm_id, e.detail
            FROM jsonb_to_recordset($1::jsonb) AS e (ord integer, ticket_id bigint, at bigint, kind text,
                alarm_id bigint, detail text)
            ORDER BY e.ord
            ON CONFLICT DO NOTHING
            RETURNING id, ticket_id, kind, alarm_id
        ),
        tickets AS (
            SELECT id, meter_id, condition, priority, opened_at, acknowledge_by, arrive_by, make_safe_by, repair_by
            FROM repair_tickets WHERE id IN (SELECT ticket_id FROM ev)
        )
        \(WriterSQL.notifyingSelect(events: "ev", tickets: "tickets"))
        """

    /// Records the planned outage that explains an alarm: $1 rows `{alarm_id, outage_id}`.
    static let recordOutages = """
        UPDATE alarms a SET outage_id = r.outage_id
        FROM jsonb_to_recordset($1::jsonb) AS r (alarm_id bigint, outage_id bigint)
        WHERE a.id = r.alarm_id
        """

    // MARK: Major incidents

    /// Closes open incidents whose last alarm is before $2, at $1 (``MajorIncidentRule/staleBefore(_:)``).
    static let closeStaleIncidents = """
        UPDATE major_incidents SET status = 'closed', closed_at = \(instant("$1"))
        WHERE status = 'open' AND last_alarm_at < \(instant("$2"))
        """

    /// Per district and condition ($1 rows `{district, condition}`): the distinct meters of the district that raised
    /// the condition since $2, and the first and last such alarm (``MajorIncidentRule/Count``).
    static let incidentCounts = """
        SELECT k.district, k.condition, count(DISTINCT a.meter_id)::integer,
            \(micros("min(a.received_at)")), \(micros("max(a.received_at)"))
        FROM jsonb_to_recordset($1::jsonb) AS k (district text, condition text)
        JOIN meters m ON m.district = k.district
        JOIN alarms a ON a.meter_id = m.id AND a.condition = k.condition AND NOT a.is_cleared
            AND a.received_at >= \(instant("$2"))
        GROUP BY k.district, k.condition
        ORDER BY k.district, k.condition
        """

    /// Opens the incidents the rule decided ($1 rows `{district, condition, first_at, last_at, meters}`) or extends
    /// the open one of a district and condition (its last alarm and meter count only grow), links the district's
    /// active tickets of that condition not linked yet with an `incident_linked` event each at $2, and returns the
    /// events with their tickets.
    static let linkIncidents = """
        WITH incident AS (
            INSERT INTO major_incidents AS i (district, condition, opened_at, last_alarm_at, meter_count)
            SELECT c.district, c.condition, \(instant("c.first_at")), \(instant("c.last_at")), c.meters
            FROM jsonb_to_recordset($1::jsonb) AS c (district text, condition text, first_at bigint, last_at bigint,
                meters integer)
            ORDER BY c.district, c.condition
            ON CONFLICT (district, condition) WHERE status = 'open' DO UPDATE SET
                last_alarm_at = greatest(i.last_alarm_at, excluded.last_alarm_at),
                meter_count = greatest(i.meter_count, excluded.meter_count)
            RETURNING i.id, i.district, i.condition
        ),
        linked AS (
            UPDATE repair_tickets t SET incident_id = incident.id, updated_at = \(instant("$2"))
            FROM incident JOIN meters m ON m.district = incident.district
            WHERE t.meter_id = m.id AND t.condition = incident.condition AND t.status IN \(active)
                AND t.incident_id IS NULL
            RETURNING t.id, t.meter_id, t.condition, t.priority, t.opened_at, t.acknowledge_by,
                t.arrive_by, t.make_safe_by, t.repair_by, incident.id AS incident_id
        ),
        ev AS (
            INSERT INTO ticket_events (ticket_id, at, kind, actor, detail)
            SELECT id, \(instant("$2")), 'incident_linked', 'gateway', 'major incident ' || incident_id
            FROM linked ORDER BY id
            RETURNING id, ticket_id, kind, alarm_id
        )
        \(WriterSQL.notifyingSelect(events: "ev", tickets: "linked"))
        """
}

/// A planned ticket as ``TicketSQL`` reads it from JSON (keys in snake case, times in µs since 1970).
struct TicketRow: Encodable {
    var id: Int64
    var meterID: Int64
    var condition: String
    var priority: String
    var status: String
    var openedAt: Int64
    var firstAlarmID: Int64?
    var lastAlarmAt: Int64
    var alarmCount: Int32
    var acknowledgeBy: Int64?
    var arriveBy: Int64?
    var makeSafeBy: Int64?
    var repairBy: Int64?
    var resolvedAt: Int64?

    enum CodingKeys: String, CodingKey {
        case id, condition, priority, status
        case meterID = "meter_id"
        case openedAt = "opened_at"
        case firstAlarmID = "first_alarm_id"
        case lastAlarmAt = "last_alarm_at"
        case alarmCount = "alarm_count"
        case acknowledgeBy = "acknowledge_by"
        case arriveBy = "arrive_by"
        case makeSafeBy = "make_safe_by"
        case repairBy = "repair_by"
        case resolvedAt = "resolved_at"
    }
}

/// A planned event as ``TicketSQL/insertEvents`` reads it from JSON.
struct EventRow: Encodable {
    var order: Int
    var ticketID: Int64
    var at: Int64
    var kind: String
    var alarmID: Int64?
    var detail: String?

    enum CodingKeys: String, CodingKey {
        case at, kind, detail
        case order = "ord"
        case ticketID = "ticket_id"
        case alarmID = "alarm_id"
    }
}

/// A district and condition to count, or an incident to open (``TicketSQL/incidentCounts``, ``TicketSQL/linkIncidents``).
struct IncidentRow: Encodable {
    var district: String
    var condition: String
    var firstAt: Int64?
    var lastAt: Int64?
    var meters: Int?

    enum CodingKeys: String, CodingKey {
        case district, condition, meters
        case firstAt = "first_at"
        case lastAt = "last_at"
    }
}

/// An alarm a planned outage explains (``TicketSQL/recordOutages``).
struct OutageRow: Encodable {
    var alarmID: Int64
    var outageID: Int64

    enum CodingKeys: String, CodingKey {
        case alarmID = "alarm_id"
        case outageID = "outage_id"
    }
}
