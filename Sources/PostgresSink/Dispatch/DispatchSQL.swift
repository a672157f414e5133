import GatewayDomain

/// The statements of ``DispatchStore``, ``DispatchOutbox`` and ``InspectionStore``. Rules (which status a step
/// follows, which deadline is pending) come from GatewayDomain; the status lists below are derived from it.
enum DispatchSQL {
    /// A status list for `IN`, derived from the lifecycle (``TicketStatus``), never written by hand.
    static func statusList(_ statuses: [TicketStatus]) -> String {
        "(" + statuses.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"
    }

    /// The active statuses: `('open', 'acknowledged', 'dispatched', 'on_site', 'made_safe')`.
    static let active = statusList(TicketStatus.active)

    /// Whether deadline's step is still pending for the ticket `t` (``TicketDeadline/isPending(in:)``).
    static func pending(_ deadline: TicketDeadline) -> String {
        "t.status IN \(statusList(deadline.pendingStatuses))"
    }

    private static func micros(_ expression: String) -> String { WriterSQL.epochMicros(expression) }
    private static func instant(_ micros: String) -> String { ValidationSQL.instant(micros) }

    /// The columns ``DispatchTicket/init(row:)`` reads, for `repair_tickets t JOIN meters m`. The last is the weakest
    /// protection of the alarms linked to the ticket through its events (NULL for a ticket without alarms, e.g. a
    /// hotline ticket): one probe of `ticket_events (ticket_id, id)` per ticket.
    static let ticketColumns = """
        t.id, t.meter_id, m.protocol, m.address, m.district, m.is_rural, t.condition, t.priority, t.status, t.origin,
            t.incident_id, t.escalation_level, t.alarm_count, \(micros("t.opened_at")), \(micros("t.acknowledge_by")),
            \(micros("t.arrive_by")), \(micros("t.make_safe_by")), \(micros("t.repair_by")),
            \(micros("t.acknowledged_at")), \(micros("t.dispatched_at")), \(micros("t.on_site_at")),
            \(micros("t.made_safe_at")), \(micros("t.resolved_at")), \(micros("t.follow_up_done_at")),
            \(micros("t.closed_at")), t.reporter, t.note,
            (SELECT min(a.protection) FROM ticket_events e JOIN alarms a ON a.id = e.alarm_id
                WHERE e.ticket_id = t.id)::text
        """

    /// The next pending deadline of a ticket: the deadline of the step it has not reached yet.
    /// The set-based twin of ``TicketDeadlines/next(for:)``.
    static let nextDeadline =
        "least("
        + TicketDeadline.allCases.map { "CASE WHEN \(pending($0)) THEN t.\($0.rawValue) END" }
        .joined(separator: ", ")
        + ")"

    /// Returns the event columns ``DispatchEvent/init(row:)`` reads, in id order. The caller notifies them
    /// (``DispatchOutbox/notify(eventIDs:on:)``, one ``TicketEventMessage`` each) in the same transaction.
    static func eventSelect(events: String, tickets: String) -> String {
        """
        SELECT e.id, e.ticket_id, \(micros("e.at")), e.kind, e.actor, e.alarm_id, e.detail
        FROM \(events) e JOIN \(tickets) t ON t.id = e.ticket_id
        ORDER BY e.id
        """
    }

    /// Serialises with the gateway's ticket step for the ticket's meter and condition (run first).
    static let lockTicket = """
        SELECT pg_advisory_xact_lock(ticket_lock_key(meter_id, condition)) FROM repair_tickets WHERE id = $1::bigint
        """

    /// The status of a ticket, its row locked until the transaction ends: $1 ticket.
    static let ticketStatus = "SELECT status FROM repair_tickets WHERE id = $1::bigint FOR UPDATE"

    /// Writes a step ``TicketLifecycle`` allowed: $1 ticket, $2 actor, $3 note, $4 the new status, $5 now (µs).
    static func advance(_ step: TicketStep) -> String {
        """
        WITH t AS (
            UPDATE repair_tickets SET status = $4, \(step.rawValue)_at = \(instant("$5")), updated_at = \(instant("$5"))
            WHERE id = $1::bigint
            RETURNING id, meter_id, condition, priority
        ),
        ev AS (
            INSERT INTO ticket_events (ticket_id, at, kind, actor, detail)
            SELECT id, \(instant("$5")), '\(step.rawValue)', $2, $3 FROM t
            RETURNING id, ticket_id, at, kind, actor, alarm_id, detail
        )
        \(eventSelect(events: "ev", tickets: "t"))
        """
    }

    /// $1 ticket, $2 actor, $3 note, $4 now (µs).
    static let note = """
        WITH t AS (SELECT id, meter_id, condition, priority FROM repair_tickets WHERE id = $1::bigint),
        ev AS (
            INSERT INTO ticket_events (ticket_id, at, kind, actor, detail)
            SELECT id, \(instant("$4")), 'note', $2, $3 FROM t
            RETURNING id, ticket_id, at, kind, actor, alarm_id, detail
        )
        \(eventSelect(events: "ev", tickets: "t"))
        """

    /// The active ticket of a meter and condition, locked: $1 meter id, $2 condition.
    static let activeTicket = """
        SELECT id FROM repair_tickets WHERE meter_id = $1::bigint AND condition = $2 AND status IN \(active) FOR UPDATE
        """

    /// Opens a hotline ticket: $1 meter id, $2 condition, $3 priority, $4 now (µs), $5–$8 the deadlines
    /// (``TicketFolding/deadlines(from:priority:isRural:policy:)``, µs), $9 reporter, $10 note. Returns its id.
    static let openHotlineTicket = """
        INSERT INTO repair_tickets (meter_id, condition, priority, status, opened_at, last_alarm_at, alarm_count,
            acknowledge_by, arrive_by, make_safe_by, repair_by, origin, reporter, note, updated_at)
        VALUES ($1::bigint, $2, $3, 'open', \(instant("$4")), \(instant("$4")), 0, \(instant("$5")),
            \(instant("$6")), \(instant("$7")), \(instant("$8")), 'hotline', $9, $10, \(instant("$4")))
        RETURNING id
        """

    /// One event: $1 ticket, $2 at (µs), $3 kind, $4 actor, $5 detail. Returns its id.
    static let insertEvent = """
        INSERT INTO ticket_events (ticket_id, at, kind, actor, detail)
        VALUES ($1::bigint, \(instant("$2")), $3, $4, $5)
        RETURNING id
        """

    /// The active tickets with a deadline before $1 (µs), locked, with their status, deadlines (µs, in
    /// ``TicketDeadline`` order) and the deadlines already escalated (`escalated` events' details are
    /// `<deadline> passed`). ``TicketDeadlines/escalationsDue(status:escalated:now:)`` decides from these.
    static let overdueCandidates = """
        SELECT t.id, t.status,
            \(TicketDeadline.allCases.map { micros("t.\($0.rawValue)") }.joined(separator: ", ")),
            (SELECT coalesce(array_agg(split_part(e.detail, ' ', 1) ORDER BY e.id), '{}')
                FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'escalated')
        FROM repair_tickets t
        WHERE t.status IN \(active)
            AND least(\(TicketDeadline.allCases.map { "t.\($0.rawValue)" }.joined(separator: ", ")))
                < \(ValidationSQL.instant("$1"))
        ORDER BY t.id
        FOR UPDATE OF t
        """

    /// Writes the escalations the rule decided: $1 tickets, $2 deadlines (pairwise, in order). One `escalated` event
    /// each (the unique index on `(ticket_id, detail)` of `escalated` events keeps it once per deadline), the
    /// tickets' escalation level raised by the events written.
    static let escalate = """
        WITH due AS (
            SELECT * FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS d (id, deadline, n)
        ),
        ev AS (
            INSERT INTO ticket_events (ticket_id, at, kind, actor, detail)
            SELECT id, \(instant("$3")), 'escalated', 'gateway', deadline || ' passed' FROM due ORDER BY n
            ON CONFLICT (ticket_id, detail) WHERE kind = 'escalated' DO NOTHING
            RETURNING id, ticket_id, at, kind, actor, alarm_id, detail
        ),
        bumped AS (
            UPDATE repair_tickets t SET escalation_level = t.escalation_level + c.n, updated_at = \(instant("$3"))
            FROM (SELECT ticket_id, count(*)::integer AS n FROM ev GROUP BY ticket_id) AS c
            WHERE t.id = c.ticket_id
            RETURNING t.id, t.meter_id, t.condition, t.priority
        )
        \(eventSelect(events: "ev", tickets: "bumped"))
        """

    /// Events not yet on the dispatch topic, oldest first, as ``TicketEventMessage`` columns: $1 limit.
    static let undispatched = """
        SELECT \(messageColumns)
        FROM ticket_events e
        JOIN repair_tickets t ON t.id = e.ticket_id
        JOIN meters m ON m.id = t.meter_id
        WHERE e.dispatched_at IS NULL
        ORDER BY e.id
        LIMIT $1::integer
        """

    /// Active and overdue (next pending deadline before $1, µs) tickets per priority.
    static let activeTicketCounts = """
        SELECT t.priority, count(*)::bigint,
            count(*) FILTER (WHERE \(nextDeadline) < \(ValidationSQL.instant("$1")))::bigint
        FROM repair_tickets t
        WHERE t.status IN \(active)
        GROUP BY t.priority
        ORDER BY t.priority
        """

    /// $1 priority, $2 district, $3 due before (µs), $4 include closed, $5 limit; then where the page starts in the
    /// list's order (priority, next pending deadline with none last, id): after $6 ticket id, $7 priority and
    /// $8 next deadline (µs, NULL for none) as they were on the previous page; with $7 NULL after ticket $6 as it
    /// stands now (a cursor from before the position was kept); with $6 NULL from the start.
    static let list = """
        WITH after AS (
            SELECT t.priority, coalesce(\(nextDeadline), 'infinity'::timestamptz) AS due, t.id
            FROM repair_tickets t WHERE t.id = $6::bigint AND $7::text IS NULL
            UNION ALL
            SELECT $7::text, coalesce(\(instant("$8")), 'infinity'::timestamptz), $6::bigint WHERE $7::text IS NOT NULL
        )
        SELECT \(ticketColumns)
        FROM repair_tickets t JOIN meters m ON m.id = t.meter_id
        WHERE ($4::boolean OR t.status IN \(active))
            AND ($1::text IS NULL OR t.priority = $1)
            AND ($2::text IS NULL OR m.district = $2)
            AND ($3::bigint IS NULL OR \(nextDeadline) < \(ValidationSQL.instant("$3")))
            AND ($6::bigint IS NULL
                OR (t.priority, coalesce(\(nextDeadline), 'infinity'::timestamptz), t.id)
                    > (SELECT priority, due, id FROM after))
        ORDER BY t.priority, coalesce(\(nextDeadline), 'infinity'::timestamptz), t.id
        LIMIT $5::integer
        """

    static let one = """
        SELECT \(ticketColumns) FROM repair_tickets t JOIN meters m ON m.id = t.meter_id WHERE t.id = $1::bigint
        """

    /// $1, $2: opened in [from, to) (µs); $3 now (µs): a deadline passed by then without its step is decided (missed).
    /// Per deadline: met and decided counts; arrival minutes p50, p90, max.
    static let slaReport = """
        SELECT t.priority, coalesce(m.district, '-'), count(*),
            count(*) FILTER (WHERE t.acknowledged_at <= t.acknowledge_by),
            count(*) FILTER (WHERE t.acknowledged_at IS NOT NULL OR t.acknowledge_by < \(instant("$3"))),
            count(*) FILTER (WHERE t.on_site_at <= t.arrive_by),
            count(*) FILTER (WHERE t.on_site_at IS NOT NULL OR t.arrive_by < \(instant("$3"))),
            count(*) FILTER (WHERE coalesce(t.made_safe_at, t.resolved_at) <= t.make_safe_by),
            count(*) FILTER (WHERE coalesce(t.made_safe_at, t.resolved_at) IS NOT NULL OR t.make_safe_by < \(instant("$3"))),
            count(*) FILTER (WHERE t.resolved_at <= t.repair_by),
            count(*) FILTER (WHERE t.resolved_at IS NOT NULL OR t.repair_by < \(instant("$3"))),
            round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.on_site_at - t.opened_at) / 60))
                ::numeric, 1),
            round((percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM t.on_site_at - t.opened_at) / 60))
                ::numeric, 1),
            round((max(extract(epoch FROM t.on_site_at - t.opened_at)) / 60)::numeric, 1)
        FROM repair_tickets t JOIN meters m ON m.id = t.meter_id
        WHERE t.opened_at >= \(ValidationSQL.instant("$1")) AND t.opened_at < \(ValidationSQL.instant("$2"))
        GROUP BY 1, 2
        ORDER BY 1, 2
        """

    /// $1 as of, $2 residential months, $3 non-residential months, $4 limit; $5, $6, $7: continue after this due
    /// date, protocol and address (all NULL: from the start).
    static let inspectionsDue = """
        SELECT * FROM (
            SELECT m.protocol, m.address, m.district, coalesce(m.customer_class, 'residential') AS customer,
                last.inspected_on::text,
                (coalesce(last.inspected_on, m.registered_at::date)
                    + CASE WHEN coalesce(m.customer_class, 'residential') = 'residential' THEN $2::integer
                        ELSE $3::integer END * interval '1 month')::date AS due
            FROM meters m
            LEFT JOIN LATERAL (SELECT max(inspected_on) AS inspected_on FROM inspections i WHERE i.meter_id = m.id)
                AS last ON true
        ) AS d
        WHERE due <= $1::date
            AND ($5::date IS NULL OR (due, protocol, address) > ($5::date, $6::text, $7::text))
        ORDER BY due, protocol, address
        LIMIT $4::integer
        """
}

extension DispatchSQL {
    /// Records meters' answers to valve commands: $1 meters, $2 command counters, $3 outcomes, $4 valves, $5 receive
    /// times (µs). Each first answer becomes a `valve_answer` event on the command's ticket, by `meter`.
    static let recordCommandResults = """
        WITH answer AS (
            SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::smallint[], $5::bigint[])
                AS a (meter_id, counter, outcome, valve, at_us)
        ),
        up AS (
            UPDATE valve_commands v SET answered_at = \(ValidationSQL.instant("a.at_us")), outcome = a.outcome,
                valve = a.valve
            FROM answer a
            WHERE v.meter_id = a.meter_id AND v.frame_counter = a.counter AND v.answered_at IS NULL
            RETURNING v.ticket_id, v.answered_at, v.outcome, v.valve
        ),
        t AS (
            SELECT tk.id, tk.meter_id, tk.condition, tk.priority FROM repair_tickets tk JOIN up ON up.ticket_id = tk.id
        ),
        ev AS (
            INSERT INTO ticket_events (ticket_id, at, kind, actor, detail)
            SELECT up.ticket_id, up.answered_at, 'valve_answer', 'meter', up.outcome || ', valve '
                || CASE up.valve WHEN 0 THEN 'open' WHEN 1 THEN 'closed' WHEN 2 THEN 'moving' WHEN 3 THEN 'fault'
                    ELSE 'unknown' END
            FROM up ORDER BY up.ticket_id
            RETURNING id, ticket_id, at, kind, actor, alarm_id, detail
        )
        \(eventSelect(events: "ev", tickets: "t"))
        """

    /// Active P0 tickets of native meters whose valve-close command is not sent yet, with the meter's key in
    /// plaintext or sealed (both NULL when the database holds none: the key may come from a key file).
    static let pendingValveCloses = """
        SELECT t.id, m.id, m.address, encode(m.aes_key, 'hex'), t.condition, encode(m.aes_key_sealed, 'hex')
        FROM repair_tickets t JOIN meters m ON m.id = t.meter_id
        WHERE t.priority = 'P0' AND t.status IN \(active) AND m.protocol = 'native'
            AND NOT EXISTS (SELECT 1 FROM valve_commands v WHERE v.ticket_id = t.id AND v.sent_at IS NOT NULL)
        ORDER BY t.id
        LIMIT $1::integer
        """

    /// Reserves (or finds) the command row of a ticket and returns its frame counter (2^30 + a sequence number,
    /// so downlink counters never collide with a meter's own and only grow).
    static let reserveValveCommand = """
        WITH inserted AS (
            INSERT INTO valve_commands (ticket_id, meter_id, action, frame_counter)
            VALUES ($1::bigint, $2::bigint, 'close', 1073741824 + nextval('valve_commands_id_seq'))
            ON CONFLICT (ticket_id) DO NOTHING
            RETURNING frame_counter
        )
        SELECT frame_counter, true FROM inserted
        UNION ALL
        SELECT frame_counter, false FROM valve_commands
        WHERE ticket_id = $1::bigint AND NOT EXISTS (SELECT 1 FROM inserted)
        """

    /// Writes the `valve_command` event of a newly reserved command: $1 ticket, $2 detail.
    static let valveCommandEvent = """
        WITH t AS (SELECT id, meter_id, condition, priority FROM repair_tickets WHERE id = $1::bigint),
        ev AS (
            INSERT INTO ticket_events (ticket_id, at, kind, actor, detail)
            SELECT id, now(), 'valve_command', 'gateway', $2 FROM t
            RETURNING id, ticket_id, at, kind, actor, alarm_id, detail
        )
        \(eventSelect(events: "ev", tickets: "t"))
        """
}

extension DispatchSQL {
    /// The meter of a premises: $1 protocol, $2 address.
    /// A meter's id and whether it is rural: $1 protocol, $2 address.
    static let meterID = "SELECT id, is_rural FROM meters WHERE protocol = $1 AND address = $2"

    /// Serialises with the gateway's ticket step for a meter and condition: $1 meter id, $2 condition.
    static let lockMeterCondition = "SELECT pg_advisory_xact_lock(ticket_lock_key($1::bigint, $2))"

    /// $1 district, $2 start (µs), $3 end (µs), $4 reason, $5 announced by, $6 now (µs). Returns the id.
    static let announceOutage = """
        INSERT INTO planned_outages (district, starts_at, ends_at, reason, announced_by, created_at)
        VALUES ($1, \(ValidationSQL.instant("$2")), \(ValidationSQL.instant("$3")), $4, $5,
            \(ValidationSQL.instant("$6")))
        RETURNING id
        """

    /// The columns of ``PlannedOutage``.
    private static let outageColumns = """
        id, district, \(WriterSQL.epochMicros("starts_at")), \(WriterSQL.epochMicros("ends_at")), reason, announced_by,
            \(WriterSQL.epochMicros("created_at")), \(WriterSQL.epochMicros("cancelled_at")), cancelled_by, cancel_reason
        """

    /// One outage, locked for its cancellation: $1 id.
    static let lockOutage = "SELECT \(outageColumns) FROM planned_outages WHERE id = $1::bigint FOR UPDATE"

    /// Cancels an outage: $1 id, $2 cancelled by, $3 reason, $4 now (µs). Returns the outage.
    static let cancelOutage = """
        UPDATE planned_outages
        SET cancelled_at = \(ValidationSQL.instant("$4")), cancelled_by = $2, cancel_reason = $3
        WHERE id = $1::bigint AND cancelled_at IS NULL
        RETURNING \(outageColumns)
        """

    /// Outages whose window ends after $1 (µs), cancelled ones included, by start: $2 district or NULL for all; $3
    /// continue after this outage in (start, id) order (NULL: from the start); $4 limit.
    static let outages = """
        SELECT \(outageColumns) FROM planned_outages
        WHERE ends_at > \(ValidationSQL.instant("$1")) AND ($2::text IS NULL OR district = $2)
            AND ($3::bigint IS NULL
                OR (starts_at, id) > (SELECT o.starts_at, o.id FROM planned_outages o WHERE o.id = $3::bigint))
        ORDER BY starts_at, id
        LIMIT $4::integer
        """

    /// $1 name, $2 value.

    /// The messages of a ticket's events, in id order: $1 ticket.
    static let messagesOfTicket = """
        SELECT \(messageColumns)
        FROM ticket_events e
        JOIN repair_tickets t ON t.id = e.ticket_id
        JOIN meters m ON m.id = t.meter_id
        WHERE e.ticket_id = $1::bigint
        ORDER BY e.id
        """

    /// Household file, premises facts: $1 meter id.
    static let premises = """
        SELECT continuous_appliance, methane_detector_linked, customer_class FROM meters WHERE id = $1::bigint
        """

    /// Household file, the latest main-register readings: $1 meter id.
    static let householdReadings = """
        SELECT \(WriterSQL.epochMicros("read_at")), volume_ml, valve, quality FROM readings_validated
        WHERE meter_id = $1::bigint AND storage = 0 AND tariff = 0 ORDER BY read_at DESC LIMIT 10
        """

    /// Household file, the latest alarms: $1 meter id.
    static let householdAlarms = """
        SELECT \(WriterSQL.epochMicros("raised_at")), condition, priority, is_cleared, protection::text FROM alarms
        WHERE meter_id = $1::bigint ORDER BY raised_at DESC LIMIT 20
        """

    /// Household file, the latest tickets: $1 meter id.
    static let householdTickets = """
        SELECT id, condition, priority, status, \(WriterSQL.epochMicros("opened_at")) FROM repair_tickets
        WHERE meter_id = $1::bigint ORDER BY opened_at DESC LIMIT 10
        """

    /// Household file, the latest inspections: $1 meter id.
    static let householdInspections = """
        SELECT inspected_on::text, inspector, result FROM inspections
        WHERE meter_id = $1::bigint ORDER BY inspected_on DESC LIMIT 10
        """

    /// $1 the event ids the broker acknowledged.
    static let markDispatched = """
        UPDATE ticket_events SET dispatched_at = now() WHERE id = ANY($1::bigint[]) AND dispatched_at IS NULL
        """

    /// Complaint events not yet published (v29's outbox), oldest first: id, the complaint's category, the message as
    /// written with the event.
    static let undispatchedComplaintEvents = """
        SELECT event_id, category, message
        FROM complaint_event_outbox
        ORDER BY event_id
        LIMIT $1::integer
        """

    /// $1 complaint event ids the broker acknowledged.
    static let markComplaintEventsDispatched = """
        DELETE FROM complaint_event_outbox WHERE event_id = ANY($1::bigint[])
        """

    /// $1 ticket.
    static let markValveCommandSent = """
        UPDATE valve_commands SET sent_at = now() WHERE ticket_id = $1::bigint AND sent_at IS NULL
        """

    /// $1 protocol, $2 address, $3 date, $4 inspector, $5 result, $6 note, $7 recorded by. Returns one row when the
    /// meter exists.
    static let recordInspection = """
        INSERT INTO inspections (meter_id, inspected_on, inspector, result, note, recorded_by)
        SELECT id, $3::date, $4, $5, $6, $7 FROM meters WHERE protocol = $1 AND address = $2
        RETURNING id
        """
}

extension DispatchSQL {
    /// The columns ``TicketEventMessage/init(row:)`` reads, for `ticket_events e JOIN repair_tickets t JOIN meters m`.
    static let messageColumns = """
        e.id, e.kind, \(WriterSQL.epochMicros("e.at")), e.actor, e.detail, e.alarm_id,
            t.id, t.meter_id, t.condition, t.priority, t.status, t.origin, t.incident_id, t.escalation_level,
            \(WriterSQL.epochMicros("t.opened_at")), \(WriterSQL.epochMicros("t.acknowledge_by")),
            \(WriterSQL.epochMicros("t.arrive_by")), \(WriterSQL.epochMicros("t.make_safe_by")),
            \(WriterSQL.epochMicros("t.repair_by")),
            m.protocol, m.address, m.district, m.is_rural,
            (SELECT a.protection::text FROM alarms a WHERE a.id = e.alarm_id)
        """

    /// The messages of the given events ($1, ids), in id order.
    static let messagesByID = """
        SELECT \(messageColumns)
        FROM ticket_events e
        JOIN repair_tickets t ON t.id = e.ticket_id
        JOIN meters m ON m.id = t.meter_id
        WHERE e.id = ANY($1::bigint[])
        ORDER BY e.id
        """

    /// Queues one notification on `ticket_events` (delivered when the transaction commits): $1 the payload.
    static let notify = "SELECT pg_notify('ticket_events', $1)"
}
