import GatewayCore
import GatewayDomain

/// Everything the rules need for a batch of meters, read with one statement per kind of input (``ValidationBatchSQL``)
/// and grouped by meter or channel.
///
/// Thread rules: a value used inside one transaction on the database's thread.
struct ValidationBatchInput {
    /// Each meter's rule parameters; a meter missing here was deleted.
    var meters: [Int64: MeterRow] = [:]
    /// Each meter's window start (the day before its `dirtyFrom`).
    var firstDays: [Int64: Timestamp] = [:]
    /// Each meter's volume bases with reads in the window (basis 0 also when it has window intervals), ascending.
    var bases: [Int64: [Int16]] = [:]
    /// Each channel's window reads in the order the meter took them, with their stored verdicts.
    var windows: [ChannelKey: [WindowRead]] = [:]
    /// Each meter's window intervals by start.
    var intervals: [Int64: [IntervalValue]] = [:]
    /// Each channel's last valid read before its window.
    var previous: [ChannelKey: IndexRead] = [:]
    /// Each channel's days before its window, newest first.
    var history: [ChannelKey: [DayHistory]] = [:]
    /// Each channel's latest review decision per reviewed window day.
    var dayReviews: [ChannelKey: [Timestamp: ReviewDecision]] = [:]
    /// Each channel's stored window days by day start.
    var existingDays: [ChannelKey: [Timestamp: StoredDay]] = [:]
    /// For the signatures: each channel's run of continuous-flow days just before its window.
    var previousRuns: [ChannelKey: Int] = [:]
    /// For the signatures: each channel's night minimums of the days before its window, oldest first.
    var nightMinimums: [ChannelKey: [Int64]] = [:]

    /// Reads the input of the claimed meters.
    mutating func read(
        _ claimed: [DirtyMeter],
        settings: ValidationSettings,
        signatures: SignatureSettings?,
        on connection: PostgresConnection
    ) throws {
        let ids = claimed.map(\.meterID)
        for row in try connection.rows(ValidationBatchSQL.meterLimits, [ids]) {
            let meter = try row.decode(8, as: Int64.self)
            meters[meter] = try MeterRow(row: row, zone: settings.billingZone)
        }
        let present = claimed.filter { meters[$0.meterID] != nil }
        guard !present.isEmpty else { return }
        for meter in present {
            firstDays[meter.meterID] = BillingDay.windowStart(
                dirtyFrom: meter.dirtyFrom,
                zone: settings.billingZone
            )
        }
        let meterParameters: [(any PostgresEncodable)?] = [
            present.map(\.meterID), present.map { firstDays[$0.meterID] ?? $0.dirtyFrom },
        ]
        for row in try connection.rows(ValidationBatchSQL.windowReads, meterParameters) {
            let key = ChannelKey(meter: try row.decode(12), basis: try row.decode(13))
            windows[key, default: []].append(try WindowRead(row: row, hasVerdict: true))
        }
        try attachStoredState(meterParameters, on: connection)
        for row in try connection.rows(ValidationBatchSQL.windowIntervalDays, meterParameters) {
            let meter = try row.decode(0, as: Int64.self)
            let day = try IntervalDayPoints(row: row)
            let first = firstDays[meter]?.microsecondsSinceEpoch ?? Int64.min
            day.appendPoints(startingAtOrAfter: first, to: &intervals[meter, default: []])
        }
        intervals = intervals.filter { !$0.value.isEmpty }
        var basisSets: [Int64: Set<Int16>] = [:]
        for key in windows.keys { basisSets[key.meter, default: []].insert(key.basis) }
        for meter in intervals.keys { basisSets[meter, default: []].insert(VolumeBasis.unspecified.rawValue) }
        var channels: [ChannelKey] = []
        for meter in present {
            let sorted = basisSets[meter.meterID, default: []].sorted()
            bases[meter.meterID] = sorted
            channels += sorted.map { ChannelKey(meter: meter.meterID, basis: $0) }
        }
        guard !channels.isEmpty else { return }
        try readChannels(channels, settings: settings, on: connection)
        if let signatures {
            let judged = channels.filter { meters[$0.meter]?.role != MeterRole.districtSupply.rawValue }
            if !judged.isEmpty { try readSignatureHistory(judged, settings: signatures, on: connection) }
        }
    }

    /// Gives the window reads what is stored about them apart from `readings` — a recorded conflict, the latest
    /// review decision, the verdict — exactly as the view `readings_validated` shows a reading's verdict: its
    /// `reading_verdicts` row if it has one, else valid without reasons if its month lists it, else none.
    private mutating func attachStoredState(
        _ meterParameters: [(any PostgresEncodable)?],
        on connection: PostgresConnection
    ) throws {
        guard !windows.isEmpty else { return }
        var conflicts = Set<StoredReadKey>()
        for row in try connection.rows(ValidationBatchSQL.windowConflicts, meterParameters) {
            conflicts.insert(try StoredReadKey(row: row))
        }
        var reviews: [StoredReadKey: ReviewDecision] = [:]
        for row in try connection.rows(ValidationBatchSQL.windowReviews, meterParameters) {
            reviews[try StoredReadKey(row: row)] = try row.decode(4, as: ReviewDecision.self)
        }
        var verdicts: [StoredReadKey: (quality: ReadQuality, reasons: [String]?)] = [:]
        for row in try connection.rows(ValidationBatchSQL.windowVerdicts, meterParameters) {
            verdicts[try StoredReadKey(row: row)] = (try row.decode(4), try row.decode(5, as: [String]?.self))
        }
        var listed: [ChannelKey: Set<Int64>] = [:]
        for row in try connection.rows(ValidationBatchSQL.windowValidatedMonths, parameters(Array(windows.keys))) {
            let key = ChannelKey(meter: try row.decode(0), basis: try row.decode(1))
            listed[key, default: []].formUnion(try row.decode(2, as: [Int64].self))
        }
        guard !conflicts.isEmpty || !reviews.isEmpty || !verdicts.isEmpty || !listed.isEmpty else { return }
        for (channel, reads) in windows {
            let codes = listed[channel]
            var attached = reads
            for index in attached.indices {
                let read = attached[index].read
                let key = StoredReadKey(
                    meter: channel.meter,
                    basis: channel.basis,
                    readAtMicros: read.readAt.microsecondsSinceEpoch,
                    kind: read.kind.rawValue
                )
                attached[index].read.hasConflict = conflicts.contains(key)
                attached[index].read.review = reviews[key]
                if let verdict = verdicts[key] {
                    attached[index].quality = verdict.quality
                    attached[index].reasons = verdict.reasons
                } else if let codes, codes.contains(key.readAtMicros * 4 + Int64(key.kind)) {
                    attached[index].quality = .valid
                    attached[index].reasons = []
                }
            }
            windows[channel] = attached
        }
    }

    /// The channel parameters $1 meter ids, $2 bases, $3 window starts.
    private func parameters(_ channels: [ChannelKey]) -> [(any PostgresEncodable)?] {
        [
            channels.map(\.meter), channels.map(\.basis),
            channels.map { firstDays[$0.meter]?.microsecondsSinceEpoch ?? 0 },
        ]
    }

    private mutating func readChannels(
        _ channels: [ChannelKey],
        settings: ValidationSettings,
        on connection: PostgresConnection
    ) throws {
        let keys = parameters(channels)
        for row in try connection.rows(ValidationBatchSQL.previousValidReads, keys) {
            let key = ChannelKey(meter: try row.decode(10), basis: try row.decode(11))
            previous[key] = try WindowRead(row: row, hasVerdict: false).read
        }
        let historyDays = max(settings.averageDailyUseDays, settings.zeroConsumptionDays)
        for row in try connection.rows(ValidationBatchSQL.history, keys + [historyDays]) {
            let key = ChannelKey(meter: try row.decode(0), basis: try row.decode(1))
            history[key, default: []].append(
                DayHistory(
                    dayStart: try row.decode(2),
                    volumeMillilitres: try row.decode(3),
                    quality: try row.decode(4),
                    valve: ValveState(rawValue: try row.decode(5)) ?? .unknown
                )
            )
        }
        for row in try connection.rows(ValidationBatchSQL.dayReviews, keys) {
            let key = ChannelKey(meter: try row.decode(0), basis: try row.decode(1))
            let dayStart = try row.decode(2, as: Timestamp.self)
            dayReviews[key, default: [:]][dayStart] = try row.decode(3, as: ReviewDecision.self)
        }
        for row in try connection.rows(ValidationBatchSQL.existingDays, keys) {
            let key = ChannelKey(meter: try row.decode(4), basis: try row.decode(5))
            let day = try StoredDay(row: row)
            existingDays[key, default: [:]][day.dayStart] = day
        }
    }

    /// The continuous-flow runs and night minimums before each channel's window.
    private mutating func readSignatureHistory(
        _ channels: [ChannelKey],
        settings: SignatureSettings,
        on connection: PostgresConnection
    ) throws {
        let keys = parameters(channels)
        // Newest first: a channel's run ends at its first day that was not continuous.
        var runEnded = Set<ChannelKey>()
        for row in try connection.rows(
            ValidationBatchSQL.previousContinuousDays,
            keys + [settings.continuousTicketDays]
        ) {
            let key = ChannelKey(meter: try row.decode(0), basis: try row.decode(1))
            guard !runEnded.contains(key) else { continue }
            if try row.decode(2, as: Bool?.self) == true {
                previousRuns[key, default: 0] += 1
            } else {
                runEnded.insert(key)
            }
        }
        var newestFirst: [ChannelKey: [Int64]] = [:]
        for row in try connection.rows(ValidationBatchSQL.previousIntervals, keys + [settings.nightRisingNights]) {
            let key = ChannelKey(meter: try row.decode(0), basis: try row.decode(1))
            let start = try row.decode(2, as: Timestamp.self)
            guard let minutes = try row.decode(3, as: Int16?.self), minutes > 0 else { continue }
            let volumes = try row.decode(4, as: [Int64].self)
            let intervals = volumes.enumerated().map { slot, volume in
                IntervalValue(
                    start: start.adding(seconds: Int64(slot) * Int64(minutes) * 60),
                    minutes: minutes,
                    volumeMillilitres: volume,
                    isEstimated: false
                )
            }
            if let minimum = LeakSignatures.nightMinimum(intervals, settings: settings) {
                newestFirst[key, default: []].append(minimum)
            }
        }
        for (key, minimums) in newestFirst { nightMinimums[key] = Array(minimums.reversed()) }
    }
}

/// A billing-channel reading's key in the validator's side reads (``ValidationBatchSQL/windowConflicts`` and the
/// like): columns meter id, basis, read time (µs), kind.
private struct StoredReadKey: Hashable {
    var meter: Int64
    var basis: Int16
    var readAtMicros: Int64
    var kind: Int16

    init(meter: Int64, basis: Int16, readAtMicros: Int64, kind: Int16) {
        self.meter = meter
        self.basis = basis
        self.readAtMicros = readAtMicros
        self.kind = kind
    }

    init(row: PostgresRow) throws {
        self.init(
            meter: try row.decode(0),
            basis: try row.decode(1),
            readAtMicros: try row.decode(2),
            kind: try row.decode(3)
        )
    }
}
