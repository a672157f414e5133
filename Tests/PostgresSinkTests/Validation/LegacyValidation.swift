import GatewayCore
import GatewayDomain

@testable import PostgresSink

/// The per-meter validation path that the set-based batch path (``ValidationStore/validate(batch:settings:signatures:now:)``)
/// replaced: about fifteen statements per meter, one transaction per meter. Kept only in the tests, to compare the two
/// paths row for row (``ValidationPathComparisonTests``).
enum LegacyValidation {
    /// Validates one queued meter the old way, in its own transaction.
    static func validate(
        _ meter: DirtyMeter,
        settings: ValidationSettings,
        signatures: SignatureSettings?,
        rules: TicketRules = TicketRules(),
        now: Timestamp,
        database: any PostgresDatabase
    ) async throws -> MeterValidationSummary {
        try await database.withTransaction { connection in
            try validate(meter, settings: settings, signatures: signatures, rules: rules, now: now, on: connection)
        }
    }

    static func validate(
        _ meter: DirtyMeter,
        settings: ValidationSettings,
        signatures: SignatureSettings?,
        rules: TicketRules,
        now: Timestamp,
        on connection: PostgresConnection
    ) throws -> MeterValidationSummary {
        var summary = MeterValidationSummary()
        let locked = try connection.rows(LegacyValidationSQL.tryLockMeter, [meter.meterID])
        guard try locked.first?.decode(0, as: Bool.self) == true else {
            summary.wasBusy = true
            return summary
        }
        guard
            let row = try connection.rows(LegacyValidationSQL.meterLimits, [meter.meterID]).first.map({
                try MeterRow(row: $0, zone: settings.billingZone)
            })
        else {
            // The meter was deleted: nothing to validate.
            try connection.execute(
                LegacyValidationSQL.dequeue,
                parameters: [String(meter.meterID), String(meter.version)]
            )
            return summary
        }
        let signatureMeter = SignatureMeter(
            meterID: meter.meterID,
            source: row.source ?? .native,
            sizeMillicubicPerHour: row.size?.millicubicPerHour,
            qmaxMillilitresPerHour: row.limits.qmaxMillilitresPerHour,
            hasContinuousAppliance: row.hasContinuousAppliance
        )
        var signatureAlarms: [AlarmRecord] = []
        let firstDay = BillingDay.windowStart(
            dirtyFrom: meter.dirtyFrom,
            zone: settings.billingZone
        )
        let bases = try connection.rows(LegacyValidationSQL.bases, [meter.meterID, firstDay]).map {
            try $0.decode(0, as: Int16.self)
        }
        for basis in bases {
            let found = try validateChannel(
                meter: meter.meterID,
                basis: basis,
                limits: row.limits,
                firstDay: firstDay,
                settings: settings,
                now: now,
                on: connection,
                into: &summary
            )
            // A district supply meter is balanced against its customers, not judged as a household.
            if let signatures, row.role != MeterRole.districtSupply.rawValue {
                signatureAlarms += try findSignatures(
                    signatureMeter,
                    basis: basis,
                    found: found,
                    firstDay: firstDay,
                    settings: signatures,
                    policy: rules.policy,
                    now: now,
                    on: connection
                )
            }
        }
        if !signatureAlarms.isEmpty {
            let commit = try ValidationStore.storeAlarms(signatureAlarms, rules: rules, now: now, on: connection)
            summary.signatureAlarms = commit.alarmsInserted
            summary.ticketEvents = commit.events
        }
        try connection.execute(LegacyValidationSQL.dequeue, parameters: [String(meter.meterID), String(meter.version)])
        return summary
    }

    /// The window's reads with their verdicts and the days determined, for the leak signatures.
    struct ChannelResult {
        var reads: [(read: IndexRead, quality: ReadQuality)]
        var days: [DailyDeterminant]
    }

    private static func validateChannel(
        meter: Int64,
        basis: Int16,
        limits: MeterLimits,
        firstDay: Timestamp,
        settings: ValidationSettings,
        now: Timestamp,
        on connection: PostgresConnection,
        into summary: inout MeterValidationSummary
    ) throws -> ChannelResult {
        let previous = try connection.query(
            LegacyValidationSQL.previousValidRead,
            [meter, basis, firstDay],
            as: WindowRead.self
        ).first?.read
        let window = try connection.query(
            LegacyValidationSQL.windowReads,
            [meter, basis, firstDay],
            as: WindowRead.self
        )
        let reads = window.map(\.read)
        var intervals: [IntervalValue] = []
        if basis == VolumeBasis.unspecified.rawValue {
            intervals = try connection.rows(LegacyValidationSQL.windowIntervals, [meter, firstDay]).map { row in
                IntervalValue(
                    start: try row.decode(0),
                    minutes: try row.decode(1),
                    volumeMillilitres: try row.decode(2),
                    isEstimated: false,
                    protection: try ProtectionLevel(storedCode: row.decode(3), column: 3)
                )
            }
        }
        let historyDays = max(settings.averageDailyUseDays, settings.zeroConsumptionDays)
        let history = try connection.rows(LegacyValidationSQL.history, [meter, basis, firstDay, historyDays]).map {
            row in
            DayHistory(
                dayStart: try row.decode(0),
                volumeMillilitres: try row.decode(1),
                quality: try row.decode(2),
                valve: ValveState(rawValue: try row.decode(3)) ?? .unknown
            )
        }.reversed()

        var dayReviews: [Timestamp: ReviewDecision] = [:]
        for row in try connection.rows(LegacyValidationSQL.dayReviews, [meter, basis, firstDay]) {
            dayReviews[try row.decode(0)] = try row.decode(1, as: ReviewDecision.self)
        }
        let output = ValidationEngine.validate(
            ValidationInput(
                limits: limits,
                settings: settings,
                previous: previous,
                reads: reads,
                intervals: intervals,
                history: Array(history),
                dayReviews: dayReviews,
                firstDay: firstDay,
                now: now
            )
        )

        // Readings whose verdict changed.
        var times: [Int64] = []
        var kinds: [Int16] = []
        var qualities: [Int16] = []
        var reasons: [String] = []
        for (index, verdict) in output.verdicts.enumerated() {
            summary.qualityCounts[verdict.quality, default: 0] += 1
            let reasonNames = verdict.reasons.names
            let was = window[index]
            if was.quality == verdict.quality && was.reasons == reasonNames {
                continue
            }
            times.append(reads[index].readAt.microsecondsSinceEpoch)
            kinds.append(reads[index].kind.rawValue)
            qualities.append(verdict.quality.rawValue)
            reasons.append("\"" + reasonNames.joined(separator: ",") + "\"")
        }
        summary.readsValidated += output.verdicts.count
        if !times.isEmpty {
            // Since v25 the verdicts are stored apart from the insert-only readings, by the batch path's statement.
            summary.readsChanged += try connection.query(
                ValidationBatchSQL.recordVerdicts,
                parameters: [
                    times.map { _ in meter }.postgresText, times.map { _ in basis }.postgresText, times.postgresText,
                    kinds.postgresText, qualities.postgresText, "{" + reasons.joined(separator: ",") + "}",
                    // Every reading may have a verdict row to remove: the per-meter path probes them all.
                    times.map { _ in true }.postgresText,
                ]
            ).count
        }
        try storeDays(output.days, meter: meter, basis: basis, settings: settings, on: connection, into: &summary)
        return ChannelResult(
            reads: zip(reads, output.verdicts).map { ($0, $1.quality) },
            days: output.days
        )
    }

    /// The leak signatures of one channel's window, with the continuous-flow run and night minima before it.
    private static func findSignatures(
        _ meter: SignatureMeter,
        basis: Int16,
        found: ChannelResult,
        firstDay: Timestamp,
        settings: SignatureSettings,
        policy: TicketPolicy,
        now: Timestamp,
        on connection: PostgresConnection
    ) throws -> [AlarmRecord] {
        var previousRun = 0
        for row in try connection.rows(
            LegacyValidationSQL.previousContinuousDays,
            [meter.meterID, basis, firstDay, settings.continuousTicketDays]
        ) {
            guard try row.decode(0, as: Bool?.self) == true else { break }
            previousRun += 1
        }
        var nights: [Int64] = []
        for row in try connection.rows(
            LegacyValidationSQL.previousIntervals,
            [meter.meterID, basis, firstDay, settings.nightRisingNights]
        ).reversed() {
            let start = try row.decode(0, as: Timestamp.self)
            guard let minutes = try row.decode(1, as: Int16?.self), minutes > 0 else { continue }
            let volumes = try row.decode(2, as: [Int64].self)
            let intervals = volumes.enumerated().map { slot, volume in
                IntervalValue(
                    start: start.adding(seconds: Int64(slot) * Int64(minutes) * 60),
                    minutes: minutes,
                    volumeMillilitres: volume,
                    isEstimated: false
                )
            }
            if let minimum = LeakSignatures.nightMinimum(intervals, settings: settings) { nights.append(minimum) }
        }
        return LeakSignatures.find(
            meter: meter,
            days: found.days,
            previousRun: previousRun,
            previousNightMinimums: nights,
            reads: found.reads,
            receivedAt: now,
            settings: settings,
            policy: policy
        )
    }

    /// Upserts changed days and publishes them.
    private static func storeDays(
        _ days: [DailyDeterminant],
        meter: Int64,
        basis: Int16,
        settings: ValidationSettings,
        on connection: PostgresConnection,
        into summary: inout MeterValidationSummary
    ) throws {
        guard let first = days.first else { return }
        let id = String(meter)
        let basisText = String(basis)
        var existing: [Timestamp: StoredDay] = [:]
        for day in try connection.query(
            LegacyValidationSQL.existingDays,
            [meter, basis, first.dayStart],
            as: StoredDay.self
        ) {
            existing[day.dayStart] = day
        }
        var feedLocked = false
        for day in days {
            let fields = ValidationStore.dayFields(day, settings: settings)
            let known = existing[day.dayStart]
            if let known, known.fingerprint == fields.fingerprint { continue }
            let version = (known?.version ?? 0) + 1
            let wasPublished = (known?.published ?? 0) > 0
            let publish = BillingDay.isPublished(day.quality, wasPublished: wasPublished)
            summary.daysChanged += 1
            var parameters: [String?] = [id, basisText] + fields.values + [String(version)]
            parameters.append(publish ? String(version) : String(known?.published ?? 0))
            parameters.append(day.protection.code)
            try connection.execute(LegacyValidationSQL.upsertDay, parameters: parameters)
            guard publish else { continue }
            if !feedLocked {
                // Held until commit: feed rows commit in `seq` order, so paging by seq never skips one.
                try connection.execute(ValidationSQL.lockFeed)
                feedLocked = true
            }
            try connection.execute(
                LegacyValidationSQL.publishDay,
                parameters: [id, basisText, fields.values[0], String(version), wasPublished ? "true" : "false"]
            )
            summary.published += 1
            if wasPublished { summary.corrections += 1 }
        }
    }
}

/// The per-meter statements of ``LegacyValidation``.
enum LegacyValidationSQL {
    private static func instant(_ micros: String) -> String { ValidationSQL.instant(micros) }
    private static func micros(_ expression: String) -> String { ValidationSQL.micros(expression) }

    static let dequeue = "DELETE FROM validation_queue WHERE meter_id = $1::bigint AND version = $2::bigint"

    static let tryLockMeter = "SELECT pg_try_advisory_xact_lock(hashtextextended('validate/' || $1, 7411))"

    /// Qmin, Qmax, register digits, verification expiry (start of that date, UTC) in µs; protocol, size and the
    /// continuous-appliance flag for the leak signatures.
    static let meterLimits = """
        SELECT qmin_ml_per_h, qmax_ml_per_h, register_digits, verification_expires_on - date '1970-01-01', protocol,
            size, continuous_appliance, role
        FROM meters WHERE id = $1::bigint
        """

    /// Whether each earlier day (newest first) had a full set of intervals none of which was zero.
    static let previousContinuousDays = """
        SELECT intervals_ml IS NOT NULL AND cardinality(intervals_ml) > 0 AND NOT (0 = ANY (intervals_ml))
        FROM daily_reads
        WHERE meter_id = $1::bigint AND basis = $2::smallint AND day_start < \(instant("$3"))
        ORDER BY day_start DESC LIMIT $4::integer
        """

    /// The interval data of the days just before the window (newest first), for the night-flow signature.
    static let previousIntervals = """
        SELECT \(micros("day_start")), interval_minutes, intervals_ml FROM daily_reads
        WHERE meter_id = $1::bigint AND basis = $2::smallint AND day_start < \(instant("$3"))
            AND intervals_ml IS NOT NULL
        ORDER BY day_start DESC LIMIT $4::integer
        """

    /// The volume bases with billing-channel reads (or, for basis 0, intervals) since $2.
    static let bases = """
        SELECT basis FROM readings
        WHERE meter_id = $1::bigint AND storage = 0 AND tariff = 0 AND kind IN (0, 1, 2) AND read_at >= \(instant("$2"))
        UNION
        SELECT 0 WHERE EXISTS (
            SELECT 1 FROM interval_readings WHERE meter_id = $1::bigint AND interval_start >= \(instant("$2")))
        ORDER BY 1
        """

    /// The last read before the window that was valid (or never validated).
    static let previousValidRead = """
        SELECT \(ValidationSQL.readColumns), false, NULL
        FROM readings_validated r
        WHERE r.meter_id = $1::bigint AND r.basis = $2::smallint AND r.storage = 0 AND r.tariff = 0
            AND r.kind IN (0, 1, 2) AND r.read_at < \(instant("$3")) AND (r.quality IS NULL OR r.quality = 0)
        ORDER BY \(ValidationSQL.takenOrderDescending)
        LIMIT 1
        """

    /// The window's reads with: a recorded conflict, the latest review decision, the stored quality and reasons.
    static let windowReads = """
        SELECT \(ValidationSQL.readColumns),
            EXISTS (
                SELECT 1 FROM value_conflicts c
                WHERE c.series = 'reading' AND c.meter_id = r.meter_id AND c.at = r.read_at AND c.kind = r.kind
                    AND c.basis = r.basis AND c.storage = 0 AND c.tariff = 0),
            (SELECT v.decision FROM reading_reviews v
                WHERE v.meter_id = r.meter_id AND v.read_at = r.read_at AND v.kind = r.kind AND v.basis = r.basis
                ORDER BY v.id DESC LIMIT 1),
            r.quality, r.reasons
        FROM readings_validated r
        WHERE r.meter_id = $1::bigint AND r.basis = $2::smallint AND r.storage = 0 AND r.tariff = 0
            AND r.kind IN (0, 1, 2) AND r.read_at >= \(instant("$3"))
        ORDER BY \(ValidationSQL.takenOrder)
        """

    static let windowIntervals = """
        SELECT \(micros("interval_start")), interval_minutes, volume_ml, protection::text FROM interval_readings
        WHERE meter_id = $1::bigint AND interval_start >= \(instant("$2"))
        ORDER BY interval_start
        """

    /// The latest decision per reviewed day from $3 on.
    static let dayReviews = """
        SELECT DISTINCT ON (v.day) \(micros("d.day_start")), v.decision
        FROM day_reviews v
        JOIN daily_reads d ON d.meter_id = v.meter_id AND d.basis = v.basis AND d.day = v.day
        WHERE v.meter_id = $1::bigint AND v.basis = $2::smallint AND d.day_start >= \(instant("$3"))
        ORDER BY v.day, v.id DESC
        """

    static let history = """
        SELECT \(micros("day_start")), volume_ml, quality, valve FROM daily_reads
        WHERE meter_id = $1::bigint AND basis = $2::smallint AND day_start < \(instant("$3"))
        ORDER BY day_start DESC LIMIT $4::integer
        """

    /// The stored days from $3 on, with the fingerprint ``ValidationStore/dayFields(_:settings:)`` builds.
    static let existingDays = """
        SELECT \(micros("day_start")),
            concat_ws('|', start_index_ml, end_index_ml, volume_ml, quality, array_to_string(reasons, ','), valve,
                coalesce(interval_minutes::text, ''), coalesce(intervals_ml::text, ''),
                coalesce(intervals_estimated::text, ''), protection::text),
            version, published_version
        FROM daily_reads
        WHERE meter_id = $1::bigint AND basis = $2::smallint AND day_start >= \(instant("$3"))
        """

    static let upsertDay = """
        INSERT INTO daily_reads (meter_id, basis, day, day_start, start_index_ml, end_index_ml, volume_ml, quality,
            reasons, valve, interval_minutes, intervals_ml, intervals_estimated, version, published_version, protection)
        VALUES ($1::bigint, $2::smallint, $3::date, \(instant("$4")), $5::bigint, $6::bigint, $7::bigint, $8::smallint,
            $9::text[], $10::smallint, $11::smallint, $12::bigint[], $13::boolean[], $14::integer, $15::integer,
            $16::protection_level)
        ON CONFLICT (meter_id, basis, day) DO UPDATE SET
            day_start = excluded.day_start, start_index_ml = excluded.start_index_ml,
            end_index_ml = excluded.end_index_ml, volume_ml = excluded.volume_ml, quality = excluded.quality,
            reasons = excluded.reasons, valve = excluded.valve, interval_minutes = excluded.interval_minutes,
            intervals_ml = excluded.intervals_ml, intervals_estimated = excluded.intervals_estimated,
            version = excluded.version, published_version = excluded.published_version,
            protection = excluded.protection, updated_at = now()
        """

    /// Appends the stored day ($1 meter, $2 basis, $3 date, $4 version) to the feed; $5 whether it corrects an
    /// earlier publication.
    static let publishDay = """
        INSERT INTO billing_feed (meter_id, basis, day, day_start, version, is_correction, start_index_ml,
            end_index_ml, volume_ml, quality, reasons, interval_minutes, intervals_ml, intervals_estimated, protection)
        SELECT meter_id, basis, day, day_start, version, $5::boolean, start_index_ml, end_index_ml, volume_ml,
            quality, reasons, interval_minutes, intervals_ml, intervals_estimated, protection
        FROM daily_reads
        WHERE meter_id = $1::bigint AND basis = $2::smallint AND day = $3::date AND version = $4::integer
        """
}
