import GatewayCore

/// The statements ``TelemetryStore`` runs inside its write transaction.
///
/// Every `INSERT … SELECT` from a stage table orders by the natural key (then `seq`): the earliest row of a
/// repeated key wins, index inserts are sequential, and concurrent writers take row locks in the same order,
/// which keeps them from deadlocking on each other.
enum WriterSQL {
    /// Session settings for a writer connection, applied right after connecting (before any temporary table
    /// is touched, which `temp_buffers` requires). A 48,000-row stage sorts in ~6 MB, over the default 4 MB
    /// `work_mem`; JIT compilation only adds latency to these short statements.
    static let sessionSettings = [
        "SET work_mem = '64MB'",
        "SET temp_buffers = '32MB'",
        "SET jit = off",
    ]

    static let activeStatuses = "('open', 'acknowledged', 'dispatched', 'on_site', 'made_safe')"

    /// Microseconds since 1970 of a timestamptz expression, as text Swift parses exactly.
    static func epochMicros(_ expression: String) -> String {
        "(extract(epoch FROM \(expression)) * 1000000)::bigint"
    }

    // MARK: Readings and intervals

    static let insertReadings = """
        INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, flow_ml_per_h,
            valve, battery_mv, temperature_centi_c, signal_dbm, status_bits, frame_counter, source, basis, storage,
            tariff)
        SELECT meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, flow_ml_per_h,
            valve, battery_mv, temperature_centi_c, signal_dbm, status_bits, frame_counter, source, basis, storage,
            tariff
        FROM gw_stage_readings
        ORDER BY meter_id, read_at, kind, basis, storage, tariff, seq
        ON CONFLICT DO NOTHING
        """

    /// Staged readings whose key is stored with a different volume (from an earlier batch, or an earlier row of
    /// this one). Runs only when some staged rows were not inserted.
    ///
    /// The `LATERAL … LIMIT 1` form cannot be flattened into a join, so each staged row is one primary-key
    /// probe whatever the table's size. As a plain join the planner (no statistics on temporary tables) chose
    /// a hash join over a sequential scan of the whole table: ~1 s per replayed batch at 2.4 M rows, growing.
    static let readingConflicts = """
        INSERT INTO value_conflicts (series, meter_id, at, kind, basis, storage, tariff, stored_volume_ml,
            conflicting_volume_ml, received_at)
        SELECT 'reading', s.meter_id, s.read_at, s.kind, s.basis, s.storage, s.tariff, r.volume_ml, s.volume_ml,
            s.received_at
        FROM gw_stage_readings s
        CROSS JOIN LATERAL (
            SELECT volume_ml FROM readings
            WHERE meter_id = s.meter_id AND read_at = s.read_at AND kind = s.kind AND basis = s.basis
                AND storage = s.storage AND tariff = s.tariff
            LIMIT 1
        ) AS r
        WHERE r.volume_ml <> s.volume_ml
        ORDER BY s.meter_id, s.read_at, s.kind, s.basis, s.storage, s.tariff, s.seq
        ON CONFLICT DO NOTHING
        """

    static let insertIntervals = """
        INSERT INTO interval_readings (meter_id, interval_start, interval_minutes, volume_ml, end_index_ml, received_at)
        SELECT meter_id, interval_start, interval_minutes, volume_ml, end_index_ml, received_at
        FROM gw_stage_intervals
        ORDER BY meter_id, interval_start, seq
        ON CONFLICT DO NOTHING
        """

    static let intervalConflicts = """
        INSERT INTO value_conflicts (series, meter_id, at, kind, stored_volume_ml, conflicting_volume_ml, received_at)
        SELECT 'interval', s.meter_id, s.interval_start, 0, r.volume_ml, s.volume_ml, s.received_at
        FROM gw_stage_intervals s
        CROSS JOIN LATERAL (
            SELECT volume_ml FROM interval_readings
            WHERE meter_id = s.meter_id AND interval_start = s.interval_start
            LIMIT 1
        ) AS r
        WHERE r.volume_ml <> s.volume_ml
        ORDER BY s.meter_id, s.interval_start, s.seq
        ON CONFLICT DO NOTHING
        """

    // MARK: Frames and quarantine

    static let insertFrames = """
        INSERT INTO uplink_frames (meter_id, frame_counter, frame_type, meter_time, received_at)
        SELECT meter_id, frame_counter, frame_type, meter_time, received_at
        FROM gw_stage_frames
        ORDER BY meter_id, frame_counter, seq
        ON CONFLICT DO NOTHING
        """

    /// One row per reason and `payload_hash` (topic + bytes): a repeat adds to `repeat_count` (repeats inside the batch are folded
    /// first). Only deliveries received after the row's `last_received_at` count, so a spool replay of a
    /// committed batch counts nothing twice.
    static let insertQuarantine = """
        INSERT INTO quarantine AS q (received_at, last_received_at, topic, payload, payload_hash, reason, detail,
            source, meter_address, repeat_count)
        SELECT DISTINCT ON (payload_hash, reason) received_at, max(received_at) OVER w, topic, payload,
            payload_hash, reason, detail, source, meter_address, count(*) OVER w
        FROM gw_stage_quarantine
        WINDOW w AS (PARTITION BY payload_hash, reason)
        ORDER BY payload_hash, reason, seq
        ON CONFLICT (payload_hash, reason) DO UPDATE SET
            repeat_count = q.repeat_count + excluded.repeat_count,
            last_received_at = excluded.last_received_at
        WHERE excluded.last_received_at > q.last_received_at
        """

    // MARK: Frame identities

    /// Every gate of a batch straight into the table: succeeds only when every identity is new.
    static let copyIdentities = """
        COPY frame_identities (meter_id, kind, identity, fingerprint, source, first_received_at)
        FROM STDIN (FORMAT binary)
        """

    /// The staged gates whose identity was stored before this statement: (gate index, stored fingerprint).
    static let storedIdentities = """
        SELECT s.idx, f.fingerprint
        FROM gw_stage_gates s
        JOIN frame_identities f ON f.meter_id = s.meter_id AND f.kind = s.kind AND f.identity = s.identity
        """

    /// Stores the identities that are new; the first gate of a repeated identity wins.
    static let insertIdentities = """
        INSERT INTO frame_identities (meter_id, kind, identity, fingerprint, source, first_received_at)
        SELECT DISTINCT ON (meter_id, kind, identity) meter_id, kind, identity, fingerprint, source, received_at
        FROM gw_stage_gates
        ORDER BY meter_id, kind, identity, idx
        ON CONFLICT DO NOTHING
        """

    /// Forgets identities stored longer ago than the horizon (seconds), a bounded number at a time.
    static let pruneIdentities = """
        DELETE FROM frame_identities
        WHERE ctid IN (
            SELECT ctid FROM frame_identities
            WHERE stored_at < now() - $1::bigint * interval '1 second'
            LIMIT $2::integer
        )
        """

    // MARK: Alarms and tickets

    /// Inserts the staged alarms and copies the ones that are new into `gw_new_alarms`, with the policy's
    /// `opens_ticket` decision. A replayed alarm is not new, so nothing downstream happens for it.
    static let insertAlarms = """
        WITH inserted AS (
            INSERT INTO alarms (meter_id, raised_at, received_at, source, raw_code, condition, is_cleared, priority,
                valve, detail, frame_counter)
            SELECT meter_id, raised_at, received_at, source, raw_code, condition, is_cleared, priority,
                valve, detail, frame_counter
            FROM gw_stage_alarms
            ORDER BY meter_id, raised_at, raw_code, is_cleared, seq
            ON CONFLICT DO NOTHING
            RETURNING id, meter_id, raised_at, received_at, raw_code, condition, is_cleared, priority
        )
        INSERT INTO gw_new_alarms (id, meter_id, raised_at, received_at, condition, is_cleared, priority, opens_ticket)
        SELECT DISTINCT ON (i.id) i.id, i.meter_id, i.raised_at, i.received_at, i.condition, i.is_cleared, i.priority,
            s.opens_ticket
        FROM inserted i
        JOIN gw_stage_alarms s ON s.meter_id = i.meter_id AND s.raised_at = i.raised_at AND s.raw_code = i.raw_code
            AND s.is_cleared = i.is_cleared
        ORDER BY i.id, s.seq
        """

    /// Serialises the ticket step per (meter, condition) across all writers, in key order (no deadlocks
    /// between writers). The partial unique index is the hard guarantee; the lock makes the audit events exact.
    static let lockTicketKeys = """
        SELECT pg_advisory_xact_lock(k)
        FROM (SELECT DISTINCT ticket_lock_key(meter_id, condition) AS k FROM gw_new_alarms ORDER BY 1) AS keys
        """

    /// Columns every event-returning statement yields, in this order.
    static let eventColumns = """
        event_id, ticket_id, kind, meter_id, condition, priority, alarm_id, opened,
            opened_at_us, acknowledge_by_us, arrive_by_us, make_safe_by_us, repair_by_us
        """

    /// Opens or joins tickets for the new alarms whose policy says they open one, writes the events and
    /// notifies them.
    ///
    /// Per (meter, condition) the alarms are ordered by arrival; the first opens a ticket (or joins the active
    /// one), the rest become `alarm` events (one `INSERT … ON CONFLICT DO UPDATE` cannot touch a row twice, so
    /// the group is folded into one row first). The ticket's priority is the most urgent of its alarms
    /// ('P0' < 'P1'), deadlines are the earliest that any of its alarms implies (settings joined with
    /// `meters.is_rural`, counted from each alarm's `received_at`; missing settings mean "due at once"),
    /// and a `priority_raised` event names the alarm that raised it.
    static let upsertTickets = """
        WITH cand AS (
            SELECT n.id, n.meter_id, n.condition, n.priority, n.received_at,
                row_number() OVER (PARTITION BY n.meter_id, n.condition ORDER BY n.received_at, n.raised_at, n.id) AS rn,
                n.received_at + coalesce(s.acknowledge_s, 0) * interval '1 second' AS acknowledge_by,
                n.received_at + coalesce(s.arrive_s, 0) * interval '1 second' AS arrive_by,
                n.received_at + coalesce(s.make_safe_s, 0) * interval '1 second' AS make_safe_by,
                n.received_at + coalesce(s.repair_s, 0) * interval '1 second' AS repair_by
            FROM gw_new_alarms n
            LEFT JOIN meters m ON m.id = n.meter_id
            LEFT JOIN ticket_deadline_settings s ON s.priority = n.priority AND s.is_rural = coalesce(m.is_rural, false)
            WHERE n.opens_ticket
        ),
        grp AS (
            SELECT meter_id, condition,
                min(id) FILTER (WHERE rn = 1) AS first_alarm_id,
                min(received_at) FILTER (WHERE rn = 1) AS opened_at,
                min(priority) FILTER (WHERE rn = 1) AS first_priority,
                min(priority) AS priority,
                max(received_at) AS last_alarm_at,
                count(*)::integer AS alarm_count,
                min(acknowledge_by) AS acknowledge_by, min(arrive_by) AS arrive_by,
                min(make_safe_by) AS make_safe_by, min(repair_by) AS repair_by
            FROM cand
            GROUP BY meter_id, condition
        ),
        prior AS (
            SELECT t.id, t.priority
            FROM repair_tickets t
            JOIN grp g ON g.meter_id = t.meter_id AND g.condition = t.condition
            WHERE t.status IN \(activeStatuses)
        ),
        up AS (
            INSERT INTO repair_tickets AS t (meter_id, condition, priority, status, opened_at, first_alarm_id,
                last_alarm_at, alarm_count, acknowledge_by, arrive_by, make_safe_by, repair_by)
            SELECT meter_id, condition, priority, 'open', opened_at, first_alarm_id,
                last_alarm_at, alarm_count, acknowledge_by, arrive_by, make_safe_by, repair_by
            FROM grp
            ORDER BY meter_id, condition
            ON CONFLICT (meter_id, condition) WHERE status IN \(activeStatuses) DO UPDATE SET
                priority = least(t.priority, excluded.priority),
                last_alarm_at = greatest(t.last_alarm_at, excluded.last_alarm_at),
                alarm_count = t.alarm_count + excluded.alarm_count,
                acknowledge_by = least(t.acknowledge_by, excluded.acknowledge_by),
                arrive_by = least(t.arrive_by, excluded.arrive_by),
                make_safe_by = least(t.make_safe_by, excluded.make_safe_by),
                repair_by = least(t.repair_by, excluded.repair_by),
                updated_at = now()
            RETURNING t.id, t.meter_id, t.condition, t.priority, (t.xmax = 0) AS opened, t.opened_at,
                t.acknowledge_by, t.arrive_by, t.make_safe_by, t.repair_by
        ),
        base AS (
            SELECT up.*, CASE WHEN up.opened THEN g.first_priority ELSE p.priority END AS base_priority
            FROM up
            JOIN grp g ON g.meter_id = up.meter_id AND g.condition = up.condition
            LEFT JOIN prior p ON p.id = up.id
        ),
        raise AS (
            SELECT DISTINCT ON (b.id) b.id AS ticket_id, c.id AS alarm_id, c.received_at, c.rn,
                b.base_priority || ' -> ' || b.priority AS detail
            FROM base b
            JOIN cand c ON c.meter_id = b.meter_id AND c.condition = b.condition AND c.priority = b.priority
            WHERE b.priority < b.base_priority
            ORDER BY b.id, c.rn
        ),
        src AS (
            SELECT b.id AS ticket_id, c.received_at AS at,
                CASE WHEN b.opened AND c.rn = 1 THEN 'opened' ELSE 'alarm' END AS kind,
                c.id AS alarm_id, 'priority ' || c.priority AS detail, c.rn, 0 AS sub
            FROM base b
            JOIN cand c ON c.meter_id = b.meter_id AND c.condition = b.condition
            UNION ALL
            SELECT ticket_id, received_at, 'priority_raised', alarm_id, detail, rn, 1 FROM raise
        ),
        ev AS (
            INSERT INTO ticket_events (ticket_id, at, kind, actor, alarm_id, detail)
            SELECT ticket_id, at, kind, 'gateway', alarm_id, detail FROM src ORDER BY ticket_id, rn, sub
            ON CONFLICT DO NOTHING
            RETURNING id, ticket_id, kind, alarm_id
        )
        \(notifyingSelect(events: "ev", tickets: "base"))
        """

    /// Conditions a planned outage explains: alarms of these from a district inside an announced outage window are
    /// recorded (with `outage_id`) but open no ticket.
    static let outageConditions = "('pressure_low')"

    /// Conditions that, from many meters of one district within minutes, make a major incident.
    static let incidentConditions = "('pressure_low', 'seismic_shut_off')"

    /// Marks the new alarms a planned outage explains and keeps them from opening tickets.
    static let markOutageAlarms = """
        WITH hit AS (
            SELECT DISTINCT ON (n.id) n.id, o.id AS outage_id
            FROM gw_new_alarms n
            JOIN meters m ON m.id = n.meter_id
            JOIN planned_outages o ON o.district = m.district AND n.received_at >= o.starts_at
                AND n.received_at < o.ends_at
            WHERE n.condition IN \(outageConditions) AND n.opens_ticket
            ORDER BY n.id, o.id
        ),
        recorded AS (
            UPDATE alarms a SET outage_id = hit.outage_id FROM hit WHERE a.id = hit.id RETURNING a.id
        )
        UPDATE gw_new_alarms n SET opens_ticket = false FROM hit WHERE n.id = hit.id
        """

    /// Closes incidents without a new alarm for a day: the next wave opens a new one (runs before ``linkIncidents``).
    static let closeStaleIncidents = """
        UPDATE major_incidents SET status = 'closed', closed_at = now()
        WHERE status = 'open' AND last_alarm_at < now() - interval '1 day'
        """

    /// Opens (or extends) a major incident per district and condition when at least `incident_min_meters` meters
    /// raised an incident condition within `incident_window_s`, links the district's active tickets of that condition
    /// to it with an `incident_linked` event each, and notifies them. Incidents without a new alarm for a day close.
    static let linkIncidents = """
        WITH settings AS (
            SELECT coalesce((SELECT value FROM dispatch_settings WHERE name = 'incident_window_s'), 600) AS window_s,
                coalesce((SELECT value FROM dispatch_settings WHERE name = 'incident_min_meters'), 5) AS min_meters
        ),
        touched AS (
            SELECT DISTINCT m.district, n.condition
            FROM gw_new_alarms n JOIN meters m ON m.id = n.meter_id
            WHERE n.condition IN \(incidentConditions) AND NOT n.is_cleared AND m.district IS NOT NULL
        ),
        counts AS (
            SELECT t.district, t.condition, count(DISTINCT a.meter_id)::integer AS meters,
                min(a.received_at) AS first_at, max(a.received_at) AS last_at
            FROM touched t
            JOIN meters m ON m.district = t.district
            JOIN alarms a ON a.meter_id = m.id AND a.condition = t.condition AND NOT a.is_cleared
                AND a.received_at >= now() - (SELECT window_s FROM settings) * interval '1 second'
            GROUP BY t.district, t.condition
            HAVING count(DISTINCT a.meter_id) >= (SELECT min_meters FROM settings)
        ),
        incident AS (
            INSERT INTO major_incidents AS i (district, condition, opened_at, last_alarm_at, meter_count)
            SELECT district, condition, first_at, last_at, meters FROM counts ORDER BY district, condition
            ON CONFLICT (district, condition) WHERE status = 'open' DO UPDATE SET
                last_alarm_at = greatest(i.last_alarm_at, excluded.last_alarm_at),
                meter_count = greatest(i.meter_count, excluded.meter_count)
            RETURNING i.id, i.district, i.condition
        ),
        linked AS (
            UPDATE repair_tickets t SET incident_id = incident.id, updated_at = now()
            FROM incident JOIN meters m ON m.district = incident.district
            WHERE t.meter_id = m.id AND t.condition = incident.condition AND t.status IN \(activeStatuses)
                AND t.incident_id IS NULL
            RETURNING t.id, t.meter_id, t.condition, t.priority, false AS opened, t.opened_at, t.acknowledge_by,
                t.arrive_by, t.make_safe_by, t.repair_by, incident.id AS incident_id
        ),
        ev AS (
            INSERT INTO ticket_events (ticket_id, at, kind, actor, detail)
            SELECT id, now(), 'incident_linked', 'gateway', 'major incident ' || incident_id FROM linked ORDER BY id
            RETURNING id, ticket_id, kind, alarm_id
        )
        \(notifyingSelect(events: "ev", tickets: "linked"))
        """

    /// `alarm_cleared` events for new cleared alarms whose meter and condition has an active ticket. Clearing
    /// never changes a ticket's status: a person closes a gas ticket.
    static let clearedAlarmEvents = """
        WITH src AS (
            SELECT t.id AS ticket_id, n.received_at AS at, n.id AS alarm_id
            FROM gw_new_alarms n
            JOIN repair_tickets t ON t.meter_id = n.meter_id AND t.condition = n.condition
                AND t.status IN \(activeStatuses)
            WHERE n.is_cleared
        ),
        ev AS (
            INSERT INTO ticket_events (ticket_id, at, kind, actor, alarm_id, detail)
            SELECT ticket_id, at, 'alarm_cleared', 'gateway', alarm_id, NULL FROM src ORDER BY ticket_id, at, alarm_id
            ON CONFLICT DO NOTHING
            RETURNING id, ticket_id, kind, alarm_id
        ),
        tickets AS (
            SELECT t.id, t.meter_id, t.condition, t.priority, false AS opened, t.opened_at, t.acknowledge_by,
                t.arrive_by, t.make_safe_by, t.repair_by
            FROM repair_tickets t
            WHERE t.id IN (SELECT ticket_id FROM ev)
        )
        \(notifyingSelect(events: "ev", tickets: "tickets"))
        """

    /// Auto-resolves tickets of non-emergency conditions (P3: device faults) the meter reports cleared, while no crew
    /// was dispatched yet (status open or acknowledged), with a `resolved` event by `gateway`. Emergency and leak
    /// tickets (P0–P2) are never auto-resolved: a person closes them.
    static let autoResolveCleared = """
        WITH cleared AS (
            SELECT DISTINCT ON (t.id) t.id, n.id AS alarm_id, n.received_at
            FROM gw_new_alarms n
            JOIN repair_tickets t ON t.meter_id = n.meter_id AND t.condition = n.condition
                AND t.status IN ('open', 'acknowledged')
            WHERE n.is_cleared AND t.priority = 'P3'
            ORDER BY t.id, n.received_at, n.id
        ),
        up AS (
            UPDATE repair_tickets t SET status = 'resolved', resolved_at = now(), updated_at = now()
            FROM cleared c
            WHERE t.id = c.id
            RETURNING t.id, t.meter_id, t.condition, t.priority, false AS opened, t.opened_at, t.acknowledge_by,
                t.arrive_by, t.make_safe_by, t.repair_by, c.alarm_id, c.received_at
        ),
        ev AS (
            INSERT INTO ticket_events (ticket_id, at, kind, actor, alarm_id, detail)
            SELECT id, received_at, 'resolved', 'gateway', alarm_id,
                'auto-resolved: the meter reported the condition cleared'
            FROM up ORDER BY id
            ON CONFLICT DO NOTHING
            RETURNING id, ticket_id, kind, alarm_id
        )
        \(notifyingSelect(events: "ev", tickets: "up"))
        """

    /// Returns the written events joined with their tickets and calls `pg_notify` once per event, in event-id
    /// order (the `OFFSET 0` subquery keeps the planner from evaluating `pg_notify` before the sort).
    /// Notifications are queued and delivered only when the transaction commits.
    static func notifyingSelect(events: String, tickets: String) -> String {
        """
        SELECT \(eventColumns),
            pg_notify('ticket_events', json_build_object(
                'ticket_id', ticket_id, 'event_id', event_id, 'event', kind, 'meter_id', meter_id,
                'condition', condition, 'priority', priority, 'alarm_id', alarm_id)::text)
        FROM (
            SELECT e.id AS event_id, e.ticket_id, e.kind, t.meter_id, t.condition, t.priority, e.alarm_id, t.opened,
                \(epochMicros("t.opened_at")) AS opened_at_us,
                \(epochMicros("t.acknowledge_by")) AS acknowledge_by_us,
                \(epochMicros("t.arrive_by")) AS arrive_by_us,
                \(epochMicros("t.make_safe_by")) AS make_safe_by_us,
                \(epochMicros("t.repair_by")) AS repair_by_us
            FROM \(events) e
            JOIN \(tickets) t ON t.id = e.ticket_id
            ORDER BY e.id
            OFFSET 0
        ) AS ordered
        """
    }

    // MARK: Settings

    static let upsertDeadlineSetting = """
        INSERT INTO ticket_deadline_settings (priority, is_rural, acknowledge_s, arrive_s, make_safe_s, repair_s)
        VALUES ($1, $2::boolean, $3::bigint, $4::bigint, $5::bigint, $6::bigint)
        ON CONFLICT (priority, is_rural) DO UPDATE SET
            acknowledge_s = excluded.acknowledge_s, arrive_s = excluded.arrive_s,
            make_safe_s = excluded.make_safe_s, repair_s = excluded.repair_s, updated_at = now()
        WHERE (ticket_deadline_settings.acknowledge_s, ticket_deadline_settings.arrive_s,
            ticket_deadline_settings.make_safe_s, ticket_deadline_settings.repair_s)
            IS DISTINCT FROM (excluded.acknowledge_s, excluded.arrive_s, excluded.make_safe_s, excluded.repair_s)
        """
}
