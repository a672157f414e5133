public import GatewayCore
public import GatewayDomain

/// A meter waiting in `validation_queue`.
public struct DirtyMeter: Sendable, Equatable {
    public var meterID: Int64
    /// The earliest read time of new data since the meter was last validated.
    public var dirtyFrom: Timestamp
    /// Bumped by every ingest that touches the meter; the validator dequeues only the version it saw.
    public var version: Int64
}

/// What one meter's validation changed.
public struct MeterValidationSummary: Sendable, Equatable {
    /// Another validator holds the meter; it stays queued.
    public var wasBusy = false
    public var readsValidated = 0
    /// Readings whose stored quality or reasons changed.
    public var readsChanged = 0
    public var daysChanged = 0
    /// Rows appended to `billing_feed` (first publications and corrections).
    public var published = 0
    public var corrections = 0
    /// Reads per quality after this run (of the reads in the window).
    public var qualityCounts: [ReadQuality: Int] = [:]
    /// Leak-signature alarms newly stored, and the ticket changes they made.
    public var signatureAlarms = 0
    public var ticketEvents: [TicketEventSummary] = []

    public init() {}
}

extension PostgresWriter {
    /// Marks the meters a batch touched for validation, from the earliest read or interval of each. Runs inside
    /// the ingest transaction, so a committed reading is always either validated or queued.
    func markForValidation(_ batch: SinkBatch, on connection: PostgresConnection) throws {
        var earliest: [Int64: Int64] = [:]
        for reading in batch.readings where reading.storage == 0 && reading.tariff == 0 && reading.kind != .historic {
            let at = reading.readAt.microsecondsSinceEpoch
            if let known = earliest[reading.meterID], known <= at { continue }
            earliest[reading.meterID] = at
        }
        for interval in batch.intervals {
            let at = interval.intervalStart.microsecondsSinceEpoch
            if let known = earliest[interval.meterID], known <= at { continue }
            earliest[interval.meterID] = at
        }
        guard !earliest.isEmpty else { return }
        let meters = earliest.keys.sorted()
        let ids = "{" + meters.map(String.init).joined(separator: ",") + "}"
        let times = "{" + meters.map { String(earliest[$0] ?? 0) }.joined(separator: ",") + "}"
        try connection.execute(ValidationSQL.enqueue, parameters: [ids, times])
    }

    /// The meters waiting for validation, longest-waiting first.
    /// - Parameters:
    ///   - limit: At most this many.
    ///   - settledSeconds: Only meters queued at least this long ago, so that a meter sending several frames in a
    ///     row is validated once for all of them.
    /// - Returns: The queue rows.
    /// - Throws: ``PostgresError``.
    public func dirtyMeters(limit: Int, settledSeconds: Int = 0) throws -> [DirtyMeter] {
        let rows = try withConnection { connection in
            try connection.query(ValidationSQL.dirtyMeters, parameters: [String(limit), String(settledSeconds)])
        }
        return rows.compactMap { row in
            guard row.count == 3, let id = row[0].flatMap({ Int64($0) }), let from = row[1].flatMap({ Int64($0) }),
                let version = row[2].flatMap({ Int64($0) })
            else { return nil }
            return DirtyMeter(meterID: id, dirtyFrom: Timestamp(microsecondsSinceEpoch: from), version: version)
        }
    }

    /// Validates one queued meter in one transaction: every billing channel (storage 0, tariff 0, per volume
    /// basis) from the day before `dirtyFrom` on. Stores each reading's quality and reasons on its row, upserts
    /// the changed `daily_reads`, publishes new billable days and every change to a published day to
    /// `billing_feed`, and dequeues the meter if no newer data arrived meanwhile.
    /// - Parameters:
    ///   - meter: The queue row.
    ///   - settings: The rule parameters.
    ///   - signatures: The leak-signature thresholds, or `nil` to skip the signatures. Their alarms are stored in
    ///     the same transaction and open or join tickets like any alarm.
    ///   - now: The current time (days are determined only once they ended).
    /// - Returns: What changed.
    /// - Throws: ``PostgresError``; nothing is written then.
    public func validate(
        _ meter: DirtyMeter,
        settings: ValidationSettings,
        signatures: SignatureSettings? = nil,
        now: Timestamp
    ) throws -> MeterValidationSummary {
        try withConnection { connection in try prepareSessionStageTables(on: connection) }
        return try withTransaction { connection in
            var summary = MeterValidationSummary()
            let id = String(meter.meterID)
            let locked = try connection.query(ValidationSQL.tryLockMeter, parameters: [id])
            guard locked.first?.first == "t" else {
                summary.wasBusy = true
                return summary
            }
            let meterRows = try connection.query(ValidationSQL.meterLimits, parameters: [id])
            guard let row = meterRows.first else {
                // The meter was deleted: nothing to validate.
                try connection.execute(ValidationSQL.dequeue, parameters: [id, String(meter.version)])
                return summary
            }
            let limits = Self.limits(from: row)
            let signatureMeter = SignatureMeter(
                meterID: meter.meterID,
                source: row[4].flatMap { FrameProtocol(rawValue: $0) } ?? .native,
                sizeMillicubicPerHour: row[5].flatMap { GasMeterSize(rawValue: $0) }?.millicubicPerHour,
                qmaxMillilitresPerHour: limits.qmaxMillilitresPerHour,
                hasContinuousAppliance: row[6] == "t"
            )
            var signatureAlarms: [AlarmRecord] = []
            let firstDay = Self.dayStart(of: meter.dirtyFrom, settings: settings).adding(seconds: -86_400)
            let windowStart = String(firstDay.microsecondsSinceEpoch)
            let bases = try connection.query(ValidationSQL.bases, parameters: [id, windowStart]).compactMap {
                $0.first.flatMap { $0 }.flatMap { Int16($0) }
            }
            for basis in bases {
                let found = try validateChannel(
                    meter: meter.meterID,
                    basis: basis,
                    limits: limits,
                    firstDay: firstDay,
                    settings: settings,
                    now: now,
                    on: connection,
                    into: &summary
                )
                // A district supply meter is balanced against its customers, not judged as a household.
                if let signatures, row.count > 7, row[7] != MeterRole.districtSupply.rawValue {
                    signatureAlarms += try findSignatures(
                        signatureMeter,
                        basis: basis,
                        found: found,
                        firstDay: firstDay,
                        settings: signatures,
                        now: now,
                        on: connection
                    )
                }
            }
            if !signatureAlarms.isEmpty {
                try prepareTransactionStageTables([StageTables.alarms, StageTables.newAlarms], on: connection)
                var commit = CommitSummary()
                try writeAlarms(signatureAlarms, into: &commit, on: connection)
                summary.signatureAlarms = commit.alarmsInserted
                summary.ticketEvents = commit.events
            }
            try connection.execute(ValidationSQL.dequeue, parameters: [id, String(meter.version)])
            return summary
        }
    }

    /// The window's reads with their verdicts and the days determined, for the leak signatures.
    struct ChannelResult {
        var reads: [(read: IndexRead, quality: ReadQuality)]
        var days: [DailyDeterminant]
    }

    private func validateChannel(
        meter: Int64,
        basis: Int16,
        limits: MeterLimits,
        firstDay: Timestamp,
        settings: ValidationSettings,
        now: Timestamp,
        on connection: PostgresConnection,
        into summary: inout MeterValidationSummary
    ) throws -> ChannelResult {
        let id = String(meter)
        let basisText = String(basis)
        let windowStart = String(firstDay.microsecondsSinceEpoch)
        let previous = try connection.query(ValidationSQL.previousValidRead, parameters: [id, basisText, windowStart])
            .first.flatMap { Self.indexRead(from: $0) }
        let readRows = try connection.query(ValidationSQL.windowReads, parameters: [id, basisText, windowStart])
        var reads: [IndexRead] = []
        var stored: [(quality: String?, reasons: String?)] = []
        reads.reserveCapacity(readRows.count)
        for row in readRows {
            guard let read = Self.indexRead(from: row) else { continue }
            reads.append(read)
            stored.append((row[9], row[10]))
        }
        var intervals: [IntervalValue] = []
        if basis == VolumeBasis.unspecified.rawValue {
            intervals = try connection.query(ValidationSQL.windowIntervals, parameters: [id, windowStart]).compactMap {
                row in
                guard row.count == 3, let start = row[0].flatMap({ Int64($0) }),
                    let minutes = row[1].flatMap({ Int16($0) }), let volume = row[2].flatMap({ Int64($0) })
                else { return nil }
                return IntervalValue(
                    start: Timestamp(microsecondsSinceEpoch: start),
                    minutes: minutes,
                    volumeMillilitres: volume,
                    isEstimated: false
                )
            }
        }
        let historyDays = max(settings.averageDailyUseDays, settings.zeroConsumptionDays)
        let history = try connection.query(
            ValidationSQL.history,
            parameters: [id, basisText, windowStart, String(historyDays)]
        ).compactMap { row -> DayHistory? in
            guard row.count == 4, let start = row[0].flatMap({ Int64($0) }), let volume = row[1].flatMap({ Int64($0) }),
                let quality = row[2].flatMap({ ReadQuality(name: $0) }), let valve = row[3].flatMap({ Int16($0) })
            else { return nil }
            return DayHistory(
                dayStart: Timestamp(microsecondsSinceEpoch: start),
                volumeMillilitres: volume,
                quality: quality,
                valve: ValveState(rawValue: valve) ?? .unknown
            )
        }.reversed()

        var dayReviews: [Timestamp: ReviewDecision] = [:]
        for row in try connection.query(ValidationSQL.dayReviews, parameters: [id, basisText, windowStart]) {
            guard row.count == 2, let start = row[0].flatMap({ Int64($0) }),
                let decision = row[1].flatMap({ ReviewDecision(rawValue: $0) })
            else { continue }
            dayReviews[Timestamp(microsecondsSinceEpoch: start)] = decision
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
        var times: [String] = []
        var kinds: [String] = []
        var qualities: [String] = []
        var reasons: [String] = []
        for (index, verdict) in output.verdicts.enumerated() {
            summary.qualityCounts[verdict.quality, default: 0] += 1
            let reasonText = verdict.reasons.names.joined(separator: ",")
            let was = stored[index]
            if was.quality == String(verdict.quality.rawValue) && Self.reasonsText(was.reasons) == reasonText {
                continue
            }
            times.append(String(reads[index].readAt.microsecondsSinceEpoch))
            kinds.append(String(reads[index].kind.rawValue))
            qualities.append(String(verdict.quality.rawValue))
            reasons.append("\"" + reasonText + "\"")
        }
        summary.readsValidated += output.verdicts.count
        if !times.isEmpty {
            summary.readsChanged += try connection.execute(
                ValidationSQL.updateReadings,
                parameters: [
                    id, basisText, "{" + times.joined(separator: ",") + "}", "{" + kinds.joined(separator: ",") + "}",
                    "{" + qualities.joined(separator: ",") + "}", "{" + reasons.joined(separator: ",") + "}",
                ]
            )
        }
        try storeDays(output.days, meter: meter, basis: basis, settings: settings, on: connection, into: &summary)
        return ChannelResult(
            reads: zip(reads, output.verdicts).map { ($0, $1.quality) },
            days: output.days
        )
    }

    /// The leak signatures of one channel's window, with the continuous-flow run and night minima before it.
    private func findSignatures(
        _ meter: SignatureMeter,
        basis: Int16,
        found: ChannelResult,
        firstDay: Timestamp,
        settings: SignatureSettings,
        now: Timestamp,
        on connection: PostgresConnection
    ) throws -> [AlarmRecord] {
        let id = String(meter.meterID)
        let basisText = String(basis)
        let windowStart = String(firstDay.microsecondsSinceEpoch)
        var previousRun = 0
        for row in try connection.query(
            ValidationSQL.previousContinuousDays,
            parameters: [id, basisText, windowStart, String(settings.continuousTicketDays)]
        ) {
            guard row.first == "t" else { break }
            previousRun += 1
        }
        var nights: [Int64] = []
        for row in try connection.query(
            ValidationSQL.previousIntervals,
            parameters: [id, basisText, windowStart, String(settings.nightRisingNights)]
        ).reversed() {
            guard row.count == 3, let start = row[0].flatMap({ Int64($0) }),
                let minutes = row[1].flatMap({ Int16($0) }),
                minutes > 0
            else { continue }
            let volumes = Self.arrayElements(row[2]).compactMap { Int64($0) }
            let intervals = volumes.enumerated().map { slot, volume in
                IntervalValue(
                    start: Timestamp(microsecondsSinceEpoch: start).adding(seconds: Int64(slot) * Int64(minutes) * 60),
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
            policy: .serviceCommitments
        )
    }

    /// Upserts changed days and publishes them.
    private func storeDays(
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
        var existing: [Int64: (fingerprint: String, version: Int, published: Int)] = [:]
        for row in try connection.query(
            ValidationSQL.existingDays,
            parameters: [id, basisText, String(first.dayStart.microsecondsSinceEpoch)]
        ) {
            guard row.count == 4, let start = row[0].flatMap({ Int64($0) }), let fingerprint = row[1],
                let version = row[2].flatMap({ Int($0) }), let published = row[3].flatMap({ Int($0) })
            else { continue }
            existing[start] = (fingerprint, version, published)
        }
        var feedLocked = false
        for day in days {
            let fields = Self.dayFields(day, settings: settings)
            let known = existing[day.dayStart.microsecondsSinceEpoch]
            if let known, known.fingerprint == fields.fingerprint { continue }
            let version = (known?.version ?? 0) + 1
            let wasPublished = (known?.published ?? 0) > 0
            let billable = day.quality <= .estimated
            let publish = billable || wasPublished
            summary.daysChanged += 1
            var parameters: [String?] = [id, basisText] + fields.values + [String(version)]
            parameters.append(publish ? String(version) : String(known?.published ?? 0))
            try connection.execute(ValidationSQL.upsertDay, parameters: parameters)
            guard publish else { continue }
            if !feedLocked {
                // Held until commit: feed rows commit in `seq` order, so paging by seq never skips one.
                try connection.execute(ValidationSQL.lockFeed)
                feedLocked = true
            }
            try connection.execute(
                ValidationSQL.publishDay,
                parameters: [id, basisText, fields.values[0], String(version), wasPublished ? "true" : "false"]
            )
            summary.published += 1
            if wasPublished { summary.corrections += 1 }
        }
    }

    // MARK: Row mapping

    static func limits(from row: [String?]) -> MeterLimits {
        var limits = MeterLimits()
        limits.qminMillilitresPerHour = row[0].flatMap { Int64($0) }
        limits.qmaxMillilitresPerHour = row[1].flatMap { Int64($0) }
        limits.registerModulusMillilitres = row[2].flatMap { Int($0) }.flatMap(MeterProfile.registerModulus(digits:))
        limits.verificationExpiresAt = row[3].flatMap { Int64($0) }.map { Timestamp(microsecondsSinceEpoch: $0) }
        return limits
    }

    /// Columns: read_at µs, received_at µs, kind, volume, modulus, flow, valve, has conflict, review decision.
    static func indexRead(from row: [String?]) -> IndexRead? {
        guard row.count >= 9, let readAt = row[0].flatMap({ Int64($0) }),
            let receivedAt = row[1].flatMap({ Int64($0) }),
            let kind = row[2].flatMap({ Int16($0) }).flatMap({ ReadingKind(rawValue: $0) }),
            let volume = row[3].flatMap({ Int64($0) }), let modulus = row[4].flatMap({ Int64($0) })
        else { return nil }
        return IndexRead(
            readAt: Timestamp(microsecondsSinceEpoch: readAt),
            receivedAt: Timestamp(microsecondsSinceEpoch: receivedAt),
            kind: kind,
            volumeMillilitres: volume,
            registerModulusMillilitres: modulus,
            flowMillilitresPerHour: row[5].flatMap { Int64($0) },
            valve: row[6].flatMap { Int16($0) }.flatMap { ValveState(rawValue: $0) } ?? .unknown,
            hasConflict: row[7] == "t",
            review: row[8].flatMap { ReviewDecision(rawValue: $0) }
        )
    }

    /// `{a,b}` as PostgreSQL prints a text array → `a,b`.
    static func reasonsText(_ array: String?) -> String? {
        guard let array, array.hasPrefix("{"), array.hasSuffix("}") else { return nil }
        return String(array.dropFirst().dropLast())
    }

    /// The first instant of the billing day holding `instant`.
    public static func dayStart(of instant: Timestamp, settings: ValidationSettings) -> Timestamp {
        let local = instant.secondsSinceEpoch + settings.dayUTCOffsetSeconds
        let day = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        return Timestamp(secondsSinceEpoch: day * 86_400 - settings.dayUTCOffsetSeconds)
    }

    /// The parameter values of a day row ($3…$13 of ``ValidationSQL/upsertDay``) and a fingerprint to compare with
    /// the stored row.
    static func dayFields(
        _ day: DailyDeterminant,
        settings: ValidationSettings
    ) -> (values: [String?], fingerprint: String) {
        let date = CivilDate(day.dayStart, utcOffsetSeconds: settings.dayUTCOffsetSeconds).description
        let reasons = day.reasons.names.joined(separator: ",")
        let hasIntervals = !day.intervals.isEmpty
        let volumes =
            hasIntervals ? "{" + day.intervals.map { String($0.volumeMillilitres) }.joined(separator: ",") + "}" : nil
        let estimated =
            hasIntervals ? "{" + day.intervals.map { $0.isEstimated ? "t" : "f" }.joined(separator: ",") + "}" : nil
        let minutes = day.intervals.first.map { String($0.minutes) }
        let values: [String?] = [
            date, String(day.dayStart.microsecondsSinceEpoch), String(day.startIndexMillilitres),
            String(day.endIndexMillilitres), String(day.volumeMillilitres), day.quality.name, "{\(reasons)}",
            String(day.valve.rawValue), minutes, volumes, estimated,
        ]
        let fingerprint = [
            String(day.startIndexMillilitres), String(day.endIndexMillilitres), String(day.volumeMillilitres),
            day.quality.name, reasons, String(day.valve.rawValue), minutes ?? "", volumes ?? "", estimated ?? "",
        ].joined(separator: "|")
        return (values, fingerprint)
    }
}

extension PostgresWriter {
    /// The district balance: for each district supply meter and billing day since `since`, the supply's volume minus
    /// the sum of its district's customer meters (metering conditions: basis 0 or 1), once every customer meter has
    /// a billable day. When the difference exceeds the meters' combined tolerance (each meter's volume × its class
    /// MPE below Qt: 3 % for class 1.5, 2 % for 1.0, 1 % for 0.5; class 1.5 when unknown), a
    /// `network_leak_suspected` alarm is stored on the supply meter (raised at the day's end, detail = the
    /// difference in ml), which opens a P1 ticket. Stored alarms are not repeated.
    /// - Parameters:
    ///   - since: The earliest day start to check.
    ///   - now: Recorded as the alarms' receive time.
    /// - Returns: The alarms newly stored.
    /// - Throws: ``PostgresError``.
    public func checkDistrictBalance(since: Timestamp, now: Timestamp) throws -> Int {
        try withConnection { connection in try prepareSessionStageTables(on: connection) }
        return try withTransaction { connection in
            let rows = try connection.query(
                ValidationSQL.districtImbalance,
                parameters: [String(since.microsecondsSinceEpoch)]
            )
            let alarms = rows.compactMap { row -> AlarmRecord? in
                guard row.count == 4, let meter = row[0].flatMap({ Int64($0) }),
                    let source = row[1].flatMap({ FrameProtocol(rawValue: $0) }),
                    let at = row[2].flatMap({ Int64($0) }),
                    let imbalance = row[3].flatMap({ Int64($0) })
                else { return nil }
                return AlarmRecord(
                    meterID: meter,
                    raisedAt: Timestamp(microsecondsSinceEpoch: at),
                    receivedAt: now,
                    source: source,
                    rawCode: LeakSignatures.Code.networkImbalance,
                    condition: .networkLeakSuspected,
                    isCleared: false,
                    priority: TicketPolicy.serviceCommitments.priority(for: .networkLeakSuspected, valve: .unknown),
                    valve: .unknown,
                    detail: imbalance,
                    frameCounter: nil
                )
            }
            guard !alarms.isEmpty else { return 0 }
            try prepareTransactionStageTables([StageTables.alarms, StageTables.newAlarms], on: connection)
            var commit = CommitSummary()
            try writeAlarms(alarms, into: &commit, on: connection)
            return commit.alarmsInserted
        }
    }
}
