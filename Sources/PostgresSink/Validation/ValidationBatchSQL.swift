/// The set-based statements of the validator (``ValidationStore/validate(batch:settings:signatures:now:)``): each
/// reads or writes the rows of every meter of a batch at once, keyed by arrays of meter ids (and volume bases).
///
/// Meter statements take `$1` meter ids and `$2` window starts (µs), one per meter. Channel statements take `$1`
/// meter ids, `$2` volume bases and `$3` window starts (µs), one per channel. Every read is a plain `SELECT` by
/// table or view name, except the window intervals, which are read from `interval_days` (``windowIntervalDays``).
enum ValidationBatchSQL {
    private static func instant(_ micros: String) -> String { ValidationSQL.instant(micros) }
    private static func micros(_ expression: String) -> String { ValidationSQL.micros(expression) }

    /// The queued meters of a batch with their window start.
    private static let meters = "unnest($1::bigint[], $2::bigint[]) AS w (meter_id, first_us)"

    /// The channels (meter, basis) of a batch with their window start.
    private static let channels = "unnest($1::bigint[], $2::smallint[], $3::bigint[]) AS c (meter_id, basis, first_us)"

    /// Keeps every statement of the batch on its keys until ``plansByAnyJoin`` (or the end of the transaction):
    /// nested loops that probe the tables by meter id (the leading column of every key the validator reads or
    /// writes) instead of hash or merge joins. Each batch touches a few rows per meter of tables that grow without
    /// bound, but the planner costs one sequential scan of a whole table below a few thousand index probes: with
    /// 112,934 readings stored, each 200-meter batch hashed all of them for its reading update (before v25) and did the same
    /// to `daily_reads` and `interval_days`, so a batch's cost grew with the table instead of with the batch.
    /// Sequential scans are costed out too: `readings` and `interval_days` are partitioned by month (v23), and a
    /// partition that autovacuum has not analysed yet (a new month's, or during a burst of ingest) left the nested
    /// loop scanning it whole once per probe — one `bench.sh 20000 20` validation phase measured 3,844 µs of CPU per
    /// meter instead of ~400. A script (three statements).
    static let plansByKey =
        "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_seqscan = off"

    /// Gives the planner back the join methods the session had (the server's settings) for the rest of the
    /// transaction: the alarm and ticket step that validation shares with ingest joins stage tables that have no
    /// keys. A script (three statements).
    static let plansByAnyJoin =
        "SET LOCAL enable_hashjoin TO DEFAULT; SET LOCAL enable_mergejoin TO DEFAULT; SET LOCAL enable_seqscan TO DEFAULT"

    /// The partitions of `readings` and `interval_days` whose planner statistics are missing or far behind their
    /// rows: more than 1,000 rows changed since the last ANALYZE and more than a fifth of the rows the statistics
    /// knew (none, for a partition never analysed). Columns: the partition's name, quoted for SQL.
    ///
    /// The key-only plans (``plansByKey``) are not enough on such a partition: believing it holds a handful of rows,
    /// the planner reads it whole once and compares every row of it with every meter of the batch. Measured on a
    /// `bench.sh 20000 20` database with autovacuum held off (the state every freshly filled partition is in until
    /// autovacuum's next round, up to `autovacuum_naptime` later): the verdict `UPDATE` of one 500-meter batch took
    /// 72–82 s and its window read 8–12 s; on the same rows analysed, all 20,000 meters took ~8.5 s.
    static let partitionsWithoutStatistics = """
        SELECT format('%I.%I', n.nspname, c.relname)
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_stat_all_tables s ON s.relid = c.oid
        WHERE i.inhparent IN ('readings'::regclass, 'interval_days'::regclass)
            AND s.n_mod_since_analyze > 1000 AND s.n_mod_since_analyze > 0.2 * greatest(c.reltuples, 0)
        ORDER BY 1
        """

    /// $1 meter ids: each with whether this transaction now holds its validation lock (another validator holds it
    /// otherwise). Try-locks never wait, so the order cannot deadlock.
    static let tryLockMeters = """
        SELECT w.meter_id, pg_try_advisory_xact_lock(hashtextextended('validate/' || w.meter_id::text, 7411))
        FROM unnest($1::bigint[]) AS w (meter_id)
        """

    /// The rule parameters of the meters $1: Qmin, Qmax (ml/h), register digits, the verification's expiry date (days
    /// since 1970-01-01: it expires at that day's start in the billing zone), protocol, size, continuous appliance,
    /// role, then the id.
    static let meterLimits = """
        SELECT qmin_ml_per_h, qmax_ml_per_h, register_digits, verification_expires_on - date '1970-01-01', protocol,
            size, continuous_appliance, role, id
        FROM meters WHERE id = ANY ($1::bigint[])
        """

    /// Every billing-channel read of each meter's window (all bases), from the table itself, as the columns of
    /// ``WindowRead`` without what is stored apart from it (no conflict, no review, no verdict: ``windowConflicts``,
    /// ``windowReviews``, ``windowVerdicts`` and ``windowValidatedMonths`` read those, one index range per meter or
    /// channel instead of four index probes per read, which the view `readings_validated` made; they were a third of
    /// PostgreSQL's validation time), then meter id and basis. In channel order, each channel in the order the meter
    /// took its reads.
    static let windowReads = """
        SELECT \(ValidationSQL.storedReadColumns), false, NULL, NULL::smallint, NULL::text[], r.meter_id, r.basis
        FROM \(meters)
        JOIN readings r ON r.meter_id = w.meter_id AND r.read_at >= \(instant("w.first_us"))
        WHERE r.storage = 0 AND r.tariff = 0 AND r.kind IN (0, 1, 2)
        ORDER BY r.meter_id, r.basis, \(ValidationSQL.storedTakenOrder)
        """

    /// The billing-channel keys of each meter's window with a recorded value conflict: meter id, basis, read time
    /// (µs), kind.
    static let windowConflicts = """
        SELECT DISTINCT k.meter_id, k.basis, \(micros("k.at")), k.kind
        FROM \(meters)
        JOIN value_conflicts k ON k.series = 'reading' AND k.meter_id = w.meter_id
            AND k.at >= \(instant("w.first_us"))
        WHERE k.storage = 0 AND k.tariff = 0
        """

    /// The latest review decision on each reviewed read of each meter's window: meter id, basis, read time (µs),
    /// kind, decision.
    static let windowReviews = """
        SELECT DISTINCT ON (v.meter_id, v.read_at, v.kind, v.basis)
            v.meter_id, v.basis, \(micros("v.read_at")), v.kind, v.decision
        FROM \(meters)
        JOIN reading_reviews v ON v.meter_id = w.meter_id AND v.read_at >= \(instant("w.first_us"))
        ORDER BY v.meter_id, v.read_at, v.kind, v.basis, v.id DESC
        """

    /// The stored verdicts of each meter's window reads that are not plainly valid (`reading_verdicts`, v25): meter
    /// id, basis, read time (µs), kind, quality, reasons.
    static let windowVerdicts = """
        SELECT v.meter_id, v.basis, \(micros("v.read_at")), v.kind, v.quality, v.reasons
        FROM \(meters)
        JOIN reading_verdicts v ON v.meter_id = w.meter_id AND v.read_at >= \(instant("w.first_us"))
        """

    /// The validated reads of the UTC months of each channel's window (`validated_reading_months`, v30; codes as
    /// ``readCode(_:_:)``): meter id, basis, codes. A month's list can hold reads before the window's start, which no
    /// window read matches.
    static let windowValidatedMonths = """
        SELECT d.meter_id, d.basis, d.reads
        FROM \(channels)
        JOIN validated_reading_months d ON d.meter_id = c.meter_id AND d.basis = c.basis
            AND d.month >= \(month(instant("c.first_us")))
        """

    /// The first day of the UTC month of a `timestamptz` expression, as `validated_reading_months.month` keys it.
    static func month(_ instant: String) -> String {
        "date_trunc('month', \(instant) AT TIME ZONE 'UTC')::date"
    }

    /// The stored interval days (`interval_days`, migrations v17 and v26) that can hold intervals of each meter's
    /// window, as stored: meter id, day (days since 1970-01-01), start offsets (s, or NULL when evenly spaced),
    /// sub-second parts (µs, or NULL), minutes (or NULL), volumes (32-bit, or NULL), flags (or NULL), then the
    /// scalars of the compact form: first offset, offset step, minutes, 64-bit volumes, flag. ``IntervalDayPoints``
    /// turns them into the points the `interval_readings` view shows; reading the stored form instead of the view's
    /// rows sends one row per day instead of one per interval and skips what the view computes for other readers
    /// (end indexes, receipts, key sources).
    static let windowIntervalDays = """
        SELECT d.meter_id, d.day - date '1970-01-01', d.offsets_s, d.offsets_frac_us, d.minutes, d.volumes_ml, d.flags,
            d.first_offset_s, d.offset_step_s, d.interval_minutes, d.volumes_wide_ml, d.flag
        FROM \(meters)
        JOIN interval_days d ON d.meter_id = w.meter_id
            AND d.day >= (\(instant("w.first_us")) AT TIME ZONE 'UTC')::date
        ORDER BY d.meter_id, d.day
        """

    /// Each channel's last read before its window that was valid (or never validated), as
    /// ``ValidationSQL/storedReadColumns``, no conflict, no review, then meter id and basis. Valid or never validated is
    /// exactly "no `reading_verdicts` row of another quality than valid" (v25), one probe of that small table per
    /// read instead of the day list's too.
    static let previousValidReads = """
        SELECT \(ValidationSQL.storedReadColumns), false, NULL, c.meter_id, c.basis
        FROM \(channels)
        CROSS JOIN LATERAL (
            SELECT * FROM readings r
            WHERE r.meter_id = c.meter_id AND r.basis = c.basis AND r.storage = 0 AND r.tariff = 0
                AND r.kind IN (0, 1, 2) AND r.read_at < \(instant("c.first_us"))
                AND NOT EXISTS (
                    SELECT 1 FROM reading_verdicts v
                    WHERE v.meter_id = r.meter_id AND v.read_at = r.read_at AND v.kind = r.kind AND v.basis = r.basis
                        AND v.quality <> 0)
            ORDER BY \(ValidationSQL.storedTakenOrderDescending)
            LIMIT 1
        ) r
        """

    /// Each channel's $4 days before its window, newest first: meter id, basis, day start µs, volume, quality,
    /// valve.
    static let history = """
        SELECT c.meter_id, c.basis, \(micros("d.day_start")), d.volume_ml, d.quality, d.valve
        FROM \(channels)
        CROSS JOIN LATERAL (
            SELECT day_start, volume_ml, quality, valve FROM daily_reads
            WHERE meter_id = c.meter_id AND basis = c.basis AND day_start < \(instant("c.first_us"))
            ORDER BY day_start DESC LIMIT $4::integer
        ) d
        ORDER BY c.meter_id, c.basis, d.day_start DESC
        """

    /// The latest decision per reviewed day of each channel's window: meter id, basis, day start µs, decision.
    static let dayReviews = """
        SELECT DISTINCT ON (c.meter_id, c.basis, v.day) c.meter_id, c.basis, \(micros("d.day_start")), v.decision
        FROM \(channels)
        JOIN day_reviews v ON v.meter_id = c.meter_id AND v.basis = c.basis
        JOIN daily_reads d ON d.meter_id = v.meter_id AND d.basis = v.basis AND d.day = v.day
        WHERE d.day_start >= \(instant("c.first_us"))
        ORDER BY c.meter_id, c.basis, v.day, v.id DESC
        """

    /// The stored days of each channel's window with the fingerprint ``ValidationStore/dayFields(_:settings:)``
    /// builds: day start µs, fingerprint, version, published version, meter id, basis.
    static let existingDays = """
        SELECT \(micros("d.day_start")),
            concat_ws('|', d.start_index_ml, d.end_index_ml, d.volume_ml, d.quality, array_to_string(d.reasons, ','),
                d.valve, coalesce(d.interval_minutes::text, ''), coalesce(d.intervals_ml::text, ''),
                coalesce(d.intervals_estimated::text, ''), d.protection::text),
            d.version, d.published_version, c.meter_id, c.basis
        FROM \(channels)
        JOIN daily_reads d ON d.meter_id = c.meter_id AND d.basis = c.basis AND d.day_start >= \(instant("c.first_us"))
        """

    /// For the continuous-flow signature: whether each of a channel's $4 days before its window (newest first) had
    /// a full set of intervals none of which was zero. Columns: meter id, basis, flag.
    static let previousContinuousDays = """
        SELECT c.meter_id, c.basis, d.flag
        FROM \(channels)
        CROSS JOIN LATERAL (
            SELECT day_start,
                intervals_ml IS NOT NULL AND cardinality(intervals_ml) > 0 AND NOT (0 = ANY (intervals_ml)) AS flag
            FROM daily_reads
            WHERE meter_id = c.meter_id AND basis = c.basis AND day_start < \(instant("c.first_us"))
            ORDER BY day_start DESC LIMIT $4::integer
        ) d
        ORDER BY c.meter_id, c.basis, d.day_start DESC
        """

    /// For the night-flow signature: the interval data of a channel's $4 days with intervals before its window
    /// (newest first). Columns: meter id, basis, day start µs, minutes, volumes.
    static let previousIntervals = """
        SELECT c.meter_id, c.basis, \(micros("d.day_start")), d.interval_minutes, d.intervals_ml
        FROM \(channels)
        CROSS JOIN LATERAL (
            SELECT day_start, interval_minutes, intervals_ml FROM daily_reads
            WHERE meter_id = c.meter_id AND basis = c.basis AND day_start < \(instant("c.first_us"))
                AND intervals_ml IS NOT NULL
            ORDER BY day_start DESC LIMIT $4::integer
        ) d
        ORDER BY c.meter_id, c.basis, d.day_start DESC
        """

    /// Stores changed verdicts (migration v25: `readings` is insert-only): $1 meter ids, $2 bases, $3 read times
    /// (µs), $4 kinds, $5 qualities, $6 reasons as comma-joined names, $7 whether the reading's stored verdict was
    /// one that `reading_verdicts` keeps (validated, and not plainly valid). Each reading is added to its channel's
    /// `validated_reading_months` row (the month's row is written only when it gains a reading); a verdict other than
    /// valid without reasons is upserted into `reading_verdicts`, a plainly valid one removes the reading's row
    /// there — probed only for the readings flagged by $7: on a first validation no reading has a row, and probing
    /// the table for each of them cost about a quarter of the statement.
    /// Returns the meter of each verdict stored.
    static let recordVerdicts = """
        WITH u AS (
            SELECT u.meter_id, u.basis, \(instant("u.at_us")) AS read_at, u.kind, \(readCode("u.at_us", "u.kind")) AS code,
                u.quality, string_to_array(u.reasons, ',') AS reasons, u.had_verdict
            FROM unnest($1::bigint[], $2::smallint[], $3::bigint[], $4::smallint[], $5::smallint[], $6::text[],
                $7::boolean[]) AS u (meter_id, basis, at_us, kind, quality, reasons, had_verdict)
        ),
        listed AS (
            INSERT INTO validated_reading_months AS d (meter_id, basis, month, reads, validated_at)
            SELECT meter_id, basis, \(month("read_at")), array_agg(code ORDER BY code), now()
            FROM u GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (meter_id, basis, month) DO UPDATE
                SET reads = ARRAY(SELECT DISTINCT c FROM unnest(d.reads || excluded.reads) AS c ORDER BY c),
                    validated_at = excluded.validated_at
                WHERE NOT d.reads @> excluded.reads
        ),
        cleared AS (
            DELETE FROM reading_verdicts v USING u
            WHERE v.meter_id = u.meter_id AND v.read_at = u.read_at AND v.kind = u.kind AND v.basis = u.basis
                AND u.quality = 0 AND u.reasons = '{}' AND u.had_verdict
        ),
        judged AS (
            INSERT INTO reading_verdicts AS v (meter_id, read_at, kind, basis, quality, reasons, validated_at)
            SELECT meter_id, read_at, kind, basis, quality, reasons, now() FROM u
            WHERE u.quality <> 0 OR u.reasons <> '{}'
            ORDER BY meter_id, read_at, kind, basis
            ON CONFLICT (meter_id, read_at, kind, basis) DO UPDATE
                SET quality = excluded.quality, reasons = excluded.reasons, validated_at = excluded.validated_at
        )
        SELECT u.meter_id FROM u
        """

    /// Lists plainly valid readings that have no `reading_verdicts` row in their months' `validated_reading_months`
    /// rows, one array element per channel and UTC month: $1 meter, $2 basis, $3 the month's first day (days since
    /// 1970-01-01), $4 and $5 the first and last position of the month's codes (``readCode(_:_:)``, ascending) in $6.
    /// The same upsert as ``recordVerdicts``' `listed`, without the per-reading verdict work that a first
    /// validation's valid readings do not need. A channel and month appear once (an upsert cannot touch a row twice).
    static let listValidReads = """
        INSERT INTO validated_reading_months AS d (meter_id, basis, month, reads, validated_at)
        SELECT g.meter_id, g.basis, date '1970-01-01' + g.month::integer, ($6::bigint[])[g.first:g.last], now()
        FROM unnest($1::bigint[], $2::smallint[], $3::bigint[], $4::integer[], $5::integer[])
            AS g (meter_id, basis, month, first, last)
        ORDER BY 1, 2, 3
        ON CONFLICT (meter_id, basis, month) DO UPDATE
            SET reads = ARRAY(SELECT DISTINCT c FROM unnest(d.reads || excluded.reads) AS c ORDER BY c),
                validated_at = excluded.validated_at
            WHERE NOT d.reads @> excluded.reads
        """

    /// The code a reading has in `validated_reading_months.reads` (v25 in `validated_reading_days`): its read time in µs since 1970 × 4 + its
    /// kind (0…3), from two `bigint`/`smallint` expressions. Exact and unique per (read time, kind) for any read
    /// time before the year 70,000.
    static func readCode(_ micros: String, _ kind: String) -> String { "(\(micros))::bigint * 4 + \(kind)" }

    /// Upserts changed days, one array element per day: $1 meter, $2 basis, $3 date, $4 day start µs, $5 start
    /// index, $6 end index, $7 volume, $8 quality, $9 reasons (array text), $10 valve, $11 interval minutes,
    /// $12 interval volumes (array text), $13 interval estimate flags (array text), $14 version, $15 published
    /// version, $16 protection.
    static let upsertDays = """
        INSERT INTO daily_reads (meter_id, basis, day, day_start, start_index_ml, end_index_ml, volume_ml, quality,
            reasons, valve, interval_minutes, intervals_ml, intervals_estimated, version, published_version, protection)
        SELECT u.meter_id, u.basis, u.day, \(instant("u.start_us")), u.start_index, u.end_index, u.volume, u.quality,
            u.reasons::text[], u.valve, u.minutes, u.volumes::bigint[], u.estimated::boolean[],
            u.version, u.published, u.protection::protection_level
        FROM unnest($1::bigint[], $2::smallint[], $3::date[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
            $8::smallint[], $9::text[], $10::smallint[], $11::smallint[], $12::text[], $13::text[], $14::integer[],
            $15::integer[], $16::text[])
            AS u (meter_id, basis, day, start_us, start_index, end_index, volume, quality, reasons, valve, minutes,
                volumes, estimated, version, published, protection)
        ON CONFLICT (meter_id, basis, day) DO UPDATE SET
            day_start = excluded.day_start, start_index_ml = excluded.start_index_ml,
            end_index_ml = excluded.end_index_ml, volume_ml = excluded.volume_ml, quality = excluded.quality,
            reasons = excluded.reasons, valve = excluded.valve, interval_minutes = excluded.interval_minutes,
            intervals_ml = excluded.intervals_ml, intervals_estimated = excluded.intervals_estimated,
            version = excluded.version, published_version = excluded.published_version,
            protection = excluded.protection, updated_at = now()
        """

    /// Appends stored days to the feed in the order given: $1 meter, $2 basis, $3 date, $4 version, $5 whether it
    /// corrects an earlier publication.
    static let publishDays = """
        INSERT INTO billing_feed (meter_id, basis, day, day_start, version, is_correction, start_index_ml,
            end_index_ml, volume_ml, quality, reasons, interval_minutes, intervals_ml, intervals_estimated, protection)
        SELECT d.meter_id, d.basis, d.day, d.day_start, d.version, u.is_correction, d.start_index_ml, d.end_index_ml,
            d.volume_ml, d.quality, d.reasons, d.interval_minutes, d.intervals_ml, d.intervals_estimated, d.protection
        FROM unnest($1::bigint[], $2::smallint[], $3::date[], $4::integer[], $5::boolean[])
            WITH ORDINALITY AS u (meter_id, basis, day, version, is_correction, position)
        JOIN daily_reads d ON d.meter_id = u.meter_id AND d.basis = u.basis AND d.day = u.day
            AND d.version = u.version
        ORDER BY u.position
        """

    /// Dequeues the validated meters ($1) at the queue version the batch saw ($2): a meter queued again meanwhile
    /// has a newer version and stays queued.
    static let dequeue = """
        DELETE FROM validation_queue q
        USING unnest($1::bigint[], $2::bigint[]) AS u (meter_id, version)
        WHERE q.meter_id = u.meter_id AND q.version = u.version
        """
}
