import GatewayCore

/// The per-batch view of the authenticated counters a batch carries, for the replay check: for each (meter, counter
/// kind) the lowest and highest counter. Reused from batch to batch (``reset()``), so a batch allocates nothing once
/// the table has grown to the batch size.
///
/// Thread rules: owned by one ``TelemetryStore`` and used only on its thread.
struct CounterMarkScratch {
    struct Key: Hashable {
        var meterID: Int64
        var kind: ReplayCounterKind
    }

    private(set) var ranges: [Key: (low: UInt32, high: UInt32)] = [:]

    init(reservingCapacity capacity: Int = 4_096) {
        ranges.reserveCapacity(capacity)
    }

    var isEmpty: Bool { ranges.isEmpty }

    /// Collects the authenticated counters of `gates`.
    mutating func collect(_ gates: [FrameGate]) {
        ranges.removeAll(keepingCapacity: true)
        for gate in gates {
            guard let counter = gate.counter else { continue }
            let key = Key(meterID: gate.meterID, kind: counter.kind)
            if let range = ranges[key] {
                ranges[key] = (min(range.low, counter.value), max(range.high, counter.value))
            } else {
                ranges[key] = (counter.value, counter.value)
            }
        }
    }
}

extension RowFieldWriter {
    /// Appends one (meter, kind, lowest, highest) tuple of the `gw_stage_marks` COPY stream.
    mutating func appendCounterRange(_ key: CounterMarkScratch.Key, low: UInt32, high: UInt32) {
        beginTuple(fieldCount: 4)
        writeInt64(key.meterID)
        writeInt16(key.kind.rawValue)
        writeInt64(Int64(low))
        writeInt64(Int64(high))
    }
}

/// The statements of the replay check (``ReplayRule``) on `counter_marks`.
enum CounterMarkSQL {
    /// The slow path's lock: creates the batch's missing mark rows (high water -1) and locks every mark row of the
    /// batch, in (meter_id, kind) order and in one statement, so that two writers of the same meters wait for each
    /// other instead of deadlocking (the fast path's only lock, ``raiseMarks``, takes them in the same order).
    /// `DO UPDATE … WHERE false` locks an existing row without writing a new version of it.
    static let lockMarks = """
        INSERT INTO counter_marks AS m (meter_id, kind, high_water)
        SELECT meter_id, kind, -1 FROM gw_stage_marks ORDER BY meter_id, kind
        ON CONFLICT (meter_id, kind) DO UPDATE SET high_water = m.high_water WHERE false
        """

    /// The marks of the meters with a counter at or below their high-water mark in this batch; no rows in the normal
    /// case. Read once without locks to choose the path, and again after ``lockMarks`` on the slow path.
    /// Probed by key for each staged row (`LATERAL … OFFSET 0`): the stage table has no statistics, so the planner
    /// guesses it holds about a thousand rows and would hash all of `counter_marks` instead (2–4 ms a batch at
    /// 20,000 meters, and growing with the fleet).
    static let marksReached = """
        SELECT m.meter_id, m.kind, m.high_water, m.forgotten_through
        FROM gw_stage_marks s
        CROSS JOIN LATERAL (
            SELECT c.meter_id, c.kind, c.high_water, c.forgotten_through
            FROM counter_marks c
            WHERE c.meter_id = s.meter_id AND c.kind = s.kind AND s.low <= c.high_water
            OFFSET 0
        ) AS m
        """

    /// Raises each mark to the batch's highest counter (`greatest()`: a mark never goes down), creating missing
    /// rows, in (meter_id, kind) order and in one statement: the fast path's only lock, and a no-op re-lock of the
    /// rows ``lockMarks`` locked on the slow path. A replayed or duplicate frame's counter is at or below the mark,
    /// so only fresh frames move it. `DO UPDATE … WHERE` re-reads the latest committed mark under the row lock, so a
    /// concurrent raise is never lost.
    static let raiseMarks = """
        INSERT INTO counter_marks AS m (meter_id, kind, high_water)
        SELECT meter_id, kind, high FROM gw_stage_marks ORDER BY meter_id, kind
        ON CONFLICT (meter_id, kind) DO UPDATE SET high_water = excluded.high_water, updated_at = now()
        WHERE excluded.high_water > m.high_water
        """

    /// Drops the staged identities of replayed frames, so that they are not stored.
    static let forgetReplayedGates = "DELETE FROM gw_stage_gates WHERE idx = ANY($1::integer[])"

    /// Forgets identities stored longer ago than the horizon (seconds), a bounded number at a time, and raises the
    /// meters' `forgotten_through` to the highest counter forgotten, in the same statement; returns how many
    /// identities were forgotten. Mark rows are locked in (meter_id, kind) order, as the writers lock them.
    static let pruneIdentities = """
        WITH gone AS (
            DELETE FROM frame_identities
            WHERE ctid IN (
                SELECT ctid FROM frame_identities
                WHERE stored_at < now() - $1::bigint * interval '1 second'
                LIMIT $2::integer
            )
            RETURNING meter_id, kind, identity
        ), forgotten AS (
            SELECT meter_id, max(identity) AS through FROM gone WHERE kind = 1 GROUP BY meter_id
        ), locked AS (
            SELECT m.meter_id, m.kind
            FROM counter_marks m JOIN forgotten f ON f.meter_id = m.meter_id
            ORDER BY m.meter_id, m.kind
            FOR UPDATE OF m
        ), raised AS (
            UPDATE counter_marks m
            SET forgotten_through = greatest(m.forgotten_through, f.through), updated_at = now()
            FROM locked l JOIN forgotten f ON f.meter_id = l.meter_id
            WHERE m.meter_id = l.meter_id AND m.kind = l.kind
        )
        SELECT count(*) FROM gone
        """

    /// Forgets one meter's marks and its counter identities (`meters reset-counter`): for a meter given a new key,
    /// whose counter restarts.
    static let resetMeter = """
        WITH marks AS (DELETE FROM counter_marks WHERE meter_id = $1::bigint RETURNING 1),
        identities AS (DELETE FROM frame_identities WHERE meter_id = $1::bigint AND kind = 1 RETURNING 1)
        SELECT (SELECT count(*) FROM marks), (SELECT count(*) FROM identities)
        """
}
