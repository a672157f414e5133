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

    /// Microseconds since 1970 of a timestamptz expression, as text Swift parses exactly.
    static func epochMicros(_ expression: String) -> String {
        "(extract(epoch FROM \(expression)) * 1000000)::bigint"
    }

    // MARK: Readings (intervals: IntervalDaysSQL)

    static let insertReadings = """
        INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, flow_ml_per_h,
            valve, battery_mv, temperature_centi_c, signal_dbm, status_bits, frame_counter, source, basis, storage,
            tariff, protection_flags)
        SELECT meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, flow_ml_per_h,
            valve, battery_mv, temperature_centi_c, signal_dbm, status_bits, frame_counter, source, basis, storage,
            tariff, protection_flags
        FROM gw_stage_readings
        ORDER BY meter_id, read_at, kind, basis, storage, tariff, seq
        ON CONFLICT DO NOTHING
        """

    /// At most this many distinct conflicting values are recorded per natural key (plus those of the one batch that
    /// reaches the limit): a source that floods one key with ever new values cannot grow `value_conflicts` without
    /// bound. One recorded conflict already makes the key's reading suspect (validation); the first value stays
    /// stored either way.
    static let maxConflictsPerKey = 16

    /// Whether fewer than ``maxConflictsPerKey`` conflicts are recorded for a key (one probe of the natural-key
    /// index, reading at most the limit's rows).
    static func underConflictLimit(series: String, at: String, kind: String, channels: String) -> String {
        """
        (SELECT count(*) FROM (
            SELECT 1 FROM value_conflicts c
            WHERE c.series = '\(series)' AND c.meter_id = s.meter_id AND c.at = \(at) AND c.kind = \(kind)
                AND \(channels)
            LIMIT \(maxConflictsPerKey)
        ) AS recorded) < \(maxConflictsPerKey)
        """
    }

    /// Staged readings whose key is stored with a different volume (from an earlier batch, or an earlier row of
    /// this one), up to ``maxConflictsPerKey`` per key. Runs only when some staged rows were not inserted.
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
            AND \(underConflictLimit(
                series: "reading",
                at: "s.read_at",
                kind: "s.kind",
                channels: "c.basis = s.basis AND c.storage = s.storage AND c.tariff = s.tariff"
            ))
        ORDER BY s.meter_id, s.read_at, s.kind, s.basis, s.storage, s.tariff, s.seq
        ON CONFLICT DO NOTHING
        """

    // MARK: Frames and quarantine

    /// The batch's uplink frames, binary, straight into the log (no key since v27: the frames' gates keep each
    /// frame's row single).
    static let copyFrames = StageTables.frameLog.copySQL

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
    static let copyIdentities = StageTables.identities.copySQL

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

    // MARK: Alarms and tickets

    /// Inserts the staged alarms and copies the ones that are new into `gw_new_alarms`, with the policy's
    /// `opens_ticket` decision. A replayed alarm is not new, so nothing downstream happens for it.
    static let insertAlarms = """
        WITH inserted AS (
            INSERT INTO alarms (meter_id, raised_at, received_at, source, raw_code, condition, is_cleared, priority,
                valve, detail, frame_counter, protection, key_source)
            SELECT meter_id, raised_at, received_at, source, raw_code, condition, is_cleared, priority,
                valve, detail, frame_counter, protection, key_source
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

    /// Columns every event-returning statement of the ticket step yields, in this order.
    static let eventColumns = """
        event_id, ticket_id, kind, meter_id, condition, priority, alarm_id,
            opened_at_us, acknowledge_by_us, arrive_by_us, make_safe_by_us, repair_by_us
        """

    /// Returns the written events joined with their tickets, in event-id order. The writer then notifies them
    /// (`DispatchOutbox.notify(eventIDs:on:)`, one `TicketEventMessage` each), queued until the transaction commits.
    static func notifyingSelect(events: String, tickets: String) -> String {
        """
        SELECT \(eventColumns)
        FROM (
            SELECT e.id AS event_id, e.ticket_id, e.kind, t.meter_id, t.condition, t.priority, e.alarm_id,
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
}
