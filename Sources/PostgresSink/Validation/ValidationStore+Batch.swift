public import GatewayCore
public import GatewayDomain

/// What one batch validation changed.
public struct ValidationBatchSummary: Sendable, Equatable {
    /// Meters validated and dequeued (a meter deleted from the registry counts: it is dequeued with nothing to do).
    public var metersValidated = 0
    /// Meters another validator holds; they stay queued.
    public var busyMeters: [Int64] = []
    /// The changes of every validated meter added up; `wasBusy` is set when any meter was busy.
    public var totals = MeterValidationSummary()

    /// An empty summary.
    public init() {}
}

extension ValidationStore {
    /// Validates a batch of queued meters in one transaction, exactly as each would be validated alone: every
    /// billing channel (storage 0, tariff 0, per volume basis) of each meter from the day before its `dirtyFrom`
    /// on. The rows of all meters are read with one set-based statement per kind of input, GatewayDomain's rules
    /// (``ValidationEngine``, ``LeakSignatures``, ``BillingDay``) judge each channel, and the verdicts are written
    /// back with one statement per table: reading qualities, changed `daily_reads`, `billing_feed` publications
    /// (in meter, channel and day order), signature alarms with their tickets, and the dequeue of each meter at
    /// the queue version the batch saw (a meter queued again meanwhile stays queued).
    /// - Parameters:
    ///   - meters: Queue rows, each meter at most once.
    ///   - settings: The rule parameters.
    ///   - signatures: The leak-signature thresholds, or `nil` to skip the signatures.
    ///   - now: The current time (days are determined only once they ended).
    /// - Returns: What changed.
    /// - Throws: ``PostgresError`` (`.invalidArgument` when a meter appears twice); nothing is written then, and
    ///   every meter of the batch stays queued.
    public func validate(
        batch meters: [DirtyMeter],
        settings: ValidationSettings,
        signatures: SignatureSettings? = nil,
        now: Timestamp
    ) async throws -> ValidationBatchSummary {
        guard !meters.isEmpty else { return ValidationBatchSummary() }
        guard Set(meters.map(\.meterID)).count == meters.count else {
            throw PostgresError(code: .invalidArgument, message: "a validation batch names a meter twice")
        }
        return try await database.withTransaction { [rules] connection in
            var batch = ValidationBatch(settings: settings, signatures: signatures, rules: rules, now: now)
            return try batch.run(meters, on: connection)
        }
    }
}

/// One (meter, volume basis) channel.
struct ChannelKey: Hashable, Comparable {
    var meter: Int64
    var basis: Int16

    static func < (lhs: ChannelKey, rhs: ChannelKey) -> Bool {
        (lhs.meter, lhs.basis) < (rhs.meter, rhs.basis)
    }
}

/// The work of one batch transaction: reads every input, runs the rules per channel, writes every verdict.
///
/// Thread rules: a value used inside one transaction on the database's thread.
struct ValidationBatch {
    let settings: ValidationSettings
    let signatures: SignatureSettings?
    let rules: TicketRules
    let now: Timestamp

    private var input = ValidationBatchInput()
    private var writes = ValidationBatchWrites()

    init(settings: ValidationSettings, signatures: SignatureSettings?, rules: TicketRules, now: Timestamp) {
        self.settings = settings
        self.signatures = signatures
        self.rules = rules
        self.now = now
    }

    mutating func run(_ meters: [DirtyMeter], on connection: PostgresConnection) throws -> ValidationBatchSummary {
        var summary = ValidationBatchSummary()
        var locked = Set<Int64>()
        for row in try connection.rows(ValidationBatchSQL.tryLockMeters, [meters.map(\.meterID)]) {
            if try row.decode(1, as: Bool.self) { locked.insert(try row.decode(0, as: Int64.self)) }
        }
        let claimed = meters.filter { locked.contains($0.meterID) }
        summary.busyMeters = meters.map(\.meterID).filter { !locked.contains($0) }
        summary.totals.wasBusy = !summary.busyMeters.isEmpty
        guard !claimed.isEmpty else { return summary }

        try connection.executeScript(ValidationBatchSQL.plansByKey)
        try input.read(claimed, settings: settings, signatures: signatures, on: connection)
        for meter in claimed {
            guard let row = input.meters[meter.meterID] else { continue }  // deleted: nothing to validate
            try validate(meter.meterID, row: row, into: &summary.totals)
        }
        try writes.store(on: connection, into: &summary.totals)
        try connection.execute(
            ValidationBatchSQL.dequeue,
            parameters: [claimed.map(\.meterID).postgresText, claimed.map(\.version).postgresText]
        )
        try connection.executeScript(ValidationBatchSQL.plansByAnyJoin)
        try writes.storeAlarms(rules: rules, now: now, on: connection, into: &summary.totals)
        summary.metersValidated = claimed.count
        return summary
    }

    /// Runs the rules over one meter's channels and queues their verdicts for writing.
    private mutating func validate(_ meter: Int64, row: MeterRow, into summary: inout MeterValidationSummary) throws {
        let signatureMeter = SignatureMeter(
            meterID: meter,
            source: row.source ?? .native,
            sizeMillicubicPerHour: row.size?.millicubicPerHour,
            qmaxMillilitresPerHour: row.limits.qmaxMillilitresPerHour,
            hasContinuousAppliance: row.hasContinuousAppliance
        )
        var alarms: [AlarmRecord] = []
        for basis in input.bases[meter, default: []] {
            let key = ChannelKey(meter: meter, basis: basis)
            let window = input.windows[key, default: []]
            let reads = window.map(\.read)
            let output = ValidationEngine.validate(
                ValidationInput(
                    limits: row.limits,
                    settings: settings,
                    previous: input.previous[key],
                    reads: reads,
                    intervals: basis == VolumeBasis.unspecified.rawValue ? input.intervals[meter, default: []] : [],
                    history: Array(input.history[key, default: []].reversed()),
                    dayReviews: input.dayReviews[key, default: [:]],
                    firstDay: input.firstDays[meter] ?? now,
                    now: now
                )
            )
            for (index, verdict) in output.verdicts.enumerated() {
                summary.qualityCounts[verdict.quality, default: 0] += 1
                let names = verdict.reasons.names
                let was = window[index]
                guard was.quality != verdict.quality || was.reasons != names else { continue }
                writes.addVerdict(
                    key,
                    read: reads[index],
                    quality: verdict.quality,
                    reasons: names,
                    was: (was.quality, was.reasons)
                )
            }
            summary.readsValidated += output.verdicts.count
            writes.addDays(output.days, channel: key, stored: input.existingDays[key, default: [:]], settings: settings)
            // A district supply meter is balanced against its customers, not judged as a household.
            if let signatures, row.role != MeterRole.districtSupply.rawValue {
                alarms += LeakSignatures.find(
                    meter: signatureMeter,
                    days: output.days,
                    previousRun: input.previousRuns[key, default: 0],
                    previousNightMinimums: input.nightMinimums[key, default: []],
                    reads: zip(reads, output.verdicts).map { ($0, $1.quality) },
                    receivedAt: now,
                    settings: signatures,
                    policy: rules.policy
                )
            }
        }
        writes.alarms += alarms
    }
}
