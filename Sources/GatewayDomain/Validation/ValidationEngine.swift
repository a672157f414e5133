public import GatewayCore

/// A day already determined before the window, for the average daily use and the zero-consumption run.
public struct DayHistory: Sendable, Equatable {
    public var dayStart: Timestamp
    public var volumeMillilitres: Int64
    public var quality: ReadQuality
    public var valve: ValveState

    public init(dayStart: Timestamp, volumeMillilitres: Int64, quality: ReadQuality, valve: ValveState) {
        self.dayStart = dayStart
        self.volumeMillilitres = volumeMillilitres
        self.quality = quality
        self.valve = valve
    }
}

/// One meter channel's data for a validation run.
public struct ValidationInput: Sendable {
    public var limits: MeterLimits
    public var settings: ValidationSettings
    /// The last valid read before ``reads``: the anchor of the first read's consumption and of the first boundary.
    public var previous: IndexRead?
    /// The reads to validate, sorted by read time.
    public var reads: [IndexRead]
    /// The actual intervals the meter reported in the window, sorted by start.
    public var intervals: [IntervalValue]
    /// Determined days before the window, oldest first (the last ``ValidationSettings/averageDailyUseDays`` or
    /// ``ValidationSettings/zeroConsumptionDays``, whichever is more, are enough).
    public var history: [DayHistory]
    /// Reviewer decisions on held days, by the day's first instant.
    public var dayReviews: [Timestamp: ReviewDecision]
    /// The first day to determine (its first instant in the billing zone).
    public var firstDay: Timestamp
    /// The current time: a day is determined only once it has ended.
    public var now: Timestamp

    public init(
        limits: MeterLimits,
        settings: ValidationSettings,
        previous: IndexRead?,
        reads: [IndexRead],
        intervals: [IntervalValue],
        history: [DayHistory],
        dayReviews: [Timestamp: ReviewDecision] = [:],
        firstDay: Timestamp,
        now: Timestamp
    ) {
        self.limits = limits
        self.settings = settings
        self.previous = previous
        self.reads = reads
        self.intervals = intervals
        self.history = history
        self.dayReviews = dayReviews
        self.firstDay = firstDay
        self.now = now
    }
}

/// The result of a validation run.
public struct ValidationOutput: Sendable, Equatable {
    /// One verdict per input read, in the same order.
    public var verdicts: [ReadVerdict]
    /// The days from ``ValidationInput/firstDay`` that could be determined (both boundaries known, day ended).
    public var days: [DailyDeterminant]
}

/// Validation, estimation and editing of one meter channel (domain rules §3.3). Pure and deterministic: the
/// caller passes the data and "now"; nothing is read from a clock or a database.
///
/// Reads are checked in time order against the previous valid read: index decrease vs rollover, spike, flow range,
/// clock drift, conflicting duplicates, verification expiry; a reviewer's decision overrides the rules. Days are
/// then determined from the valid reads: each boundary index is the nearest valid read within the tolerance
/// (actual), else linearly interpolated between the valid reads around it (estimated); the day's intervals are the
/// actual ones plus, for gaps, the rest of the anchored day volume spread evenly (estimated); then zero
/// consumption, high/low use against the meter's own average, and a day-level spike are checked.
public enum ValidationEngine {
    /// Runs every rule.
    /// - Parameter input: One channel's reads, intervals and history.
    /// - Returns: A verdict per read and the determined days.
    public static func validate(_ input: ValidationInput) -> ValidationOutput {
        let verdicts = validateReads(input)
        var anchors: [IndexRead] = []
        if let previous = input.previous { anchors.append(previous) }
        for (read, verdict) in zip(input.reads, verdicts) where verdict.quality == .valid {
            anchors.append(read)
        }
        let days = determineDays(input, anchors: anchors, verdicts: verdicts)
        return ValidationOutput(verdicts: verdicts, days: days)
    }

    // MARK: Reads

    static func validateReads(_ input: ValidationInput) -> [ReadVerdict] {
        let limits = input.limits
        let settings = input.settings
        var previous = input.previous
        var verdicts: [ReadVerdict] = []
        verdicts.reserveCapacity(input.reads.count)
        for read in input.reads {
            var reasons = ValidationReasons()
            var consumption: Int64?
            if read.kind != .dailyFrozen && read.kind != .historic {
                let drift = read.readAt.microsecondsSinceEpoch - read.receivedAt.microsecondsSinceEpoch
                if abs(drift) > settings.clockDriftToleranceSeconds * 1_000_000 { reasons.insert(.clockDrift) }
            }
            if read.hasConflict { reasons.insert(.conflictingDuplicate) }
            if let expiry = limits.verificationExpiresAt, read.readAt >= expiry { reasons.insert(.verificationExpired) }
            if let qmax = limits.qmaxMillilitresPerHour {
                if let flow = read.flowMillilitresPerHour {
                    if mul(flow, 100) > mul(qmax, settings.overloadPercent) { reasons.insert(.flowAboveMax) }
                    if let qmin = limits.qminMillilitresPerHour, flow > 0, flow < qmin { reasons.insert(.flowBelowMin) }
                }
            } else {
                reasons.insert(.noFlowLimits)
            }
            if let before = previous {
                // Meter clocks stamp whole seconds: two reads of the same second may be up to a second apart, so
                // the ceiling allows at least one second's flow (else any consumption between them was a spike).
                let seconds = max(1, read.readAt.secondsSinceEpoch - before.readAt.secondsSinceEpoch)
                let ceiling = limits.qmaxMillilitresPerHour.map {
                    mul(mul($0, settings.overloadPercent), seconds) / 360_000
                }
                var used = read.volumeMillilitres &- before.volumeMillilitres
                if used < 0 {
                    let modulus = limits.registerModulusMillilitres ?? read.registerModulusMillilitres
                    let wrapped = modulus > 0 ? used &+ modulus : -1
                    // A wrap is recognised only when the consumption across it is physically possible, which
                    // needs Qmax: without it a decrease stays a decrease (a reviewer can accept a real wrap).
                    if wrapped >= 0, let ceiling, wrapped <= ceiling {
                        reasons.insert(.rollover)
                        used = wrapped
                    } else {
                        reasons.insert(.indexDecrease)
                    }
                }
                if !reasons.contains(.indexDecrease) {
                    consumption = used
                    if let ceiling, used > ceiling { reasons.insert(.spike) }
                }
            }
            var quality = reasons.severity
            switch read.review {
            case .accept?:
                reasons.insert(.reviewAccepted)
                quality = .valid
            case .reject?:
                reasons.insert(.reviewRejected)
                quality = .rejected
            case nil:
                break
            }
            verdicts.append(ReadVerdict(quality: quality, reasons: reasons, consumptionMillilitres: consumption))
            if quality == .valid { previous = read }
        }
        return verdicts
    }

    // MARK: Days

    static func determineDays(
        _ input: ValidationInput,
        anchors: [IndexRead],
        verdicts: [ReadVerdict]
    ) -> [DailyDeterminant] {
        let settings = input.settings
        let modulus = input.limits.registerModulusMillilitres ?? anchors.last?.registerModulusMillilitres ?? 0
        var history = input.history
        var days: [DailyDeterminant] = []
        var dayStart = input.firstDay
        let reportsIntervals = !input.intervals.isEmpty
        // A day runs from one local midnight of the billing zone to the next: 23 or 25 hours across a clock change.
        var dayEnd = BillingDay.end(of: dayStart, zone: settings.billingZone)
        while dayEnd <= input.now {
            defer {
                dayStart = dayEnd
                dayEnd = BillingDay.end(of: dayStart, zone: settings.billingZone)
            }
            // No valid read before the day's start yet: try the next day. No valid read after its end yet: the
            // day and every later one wait for more data.
            guard let start = boundary(at: dayStart, anchors: anchors, modulus: modulus, settings: settings) else {
                continue
            }
            guard let end = boundary(at: dayEnd, anchors: anchors, modulus: modulus, settings: settings) else { break }
            var reasons = ValidationReasons()
            if start.isEstimated || end.isEstimated { reasons.insert(.estimatedBoundary) }
            var volume = end.value &- start.value
            if volume < 0 {
                if modulus > 0 {
                    volume += modulus
                    reasons.insert(.rollover)
                } else {
                    reasons.insert(.indexDecrease)
                }
            }
            var valve = ValveState.unknown
            for (read, verdict) in zip(input.reads, verdicts) where read.readAt >= dayStart && read.readAt < dayEnd {
                if verdict.quality == .suspect { reasons.insert(.containsSuspectRead) }
                if verdict.quality != .rejected, read.valve != .unknown { valve = read.valve }
            }
            if let expiry = input.limits.verificationExpiresAt, expiry < dayEnd { reasons.insert(.verificationExpired) }
            // The day's whole hours: 24, or 23 and 25 across a clock change.
            let hours = (dayEnd.secondsSinceEpoch - dayStart.secondsSinceEpoch) / 3600
            if let qmax = input.limits.qmaxMillilitresPerHour,
                mul(volume, 100) > mul(mul(qmax, settings.overloadPercent), hours)
            {
                reasons.insert(.spike)
            }
            var intervals: [IntervalValue] = []
            if reportsIntervals {
                intervals = fillIntervals(
                    input.intervals,
                    from: dayStart,
                    to: dayEnd,
                    volume: volume,
                    reasons: &reasons
                )
            }
            checkUsage(volume: volume, valve: valve, history: history, settings: settings, reasons: &reasons)
            var protection = min(start.protection, end.protection)
            for interval in intervals where !interval.isEstimated {
                protection = min(protection, interval.protection)
            }
            var quality = reasons.severity
            // A reviewer's decision on a held day stands (an estimated boundary stays estimated when accepted).
            switch input.dayReviews[dayStart] {
            case .accept?:
                reasons.insert(.reviewAccepted)
                quality = reasons.contains(.estimatedBoundary) ? .estimated : .valid
            case .reject?:
                reasons.insert(.reviewRejected)
                quality = .rejected
            case nil:
                break
            }
            let determinant = DailyDeterminant(
                dayStart: dayStart,
                startIndexMillilitres: start.value,
                endIndexMillilitres: end.value,
                volumeMillilitres: volume,
                quality: quality,
                reasons: reasons,
                intervals: intervals,
                valve: valve,
                protection: protection
            )
            days.append(determinant)
            history.append(
                DayHistory(dayStart: dayStart, volumeMillilitres: volume, quality: determinant.quality, valve: valve)
            )
        }
        return days
    }

    struct Boundary {
        var value: Int64
        var isEstimated: Bool
        /// The weakest protection of the reads the value came from.
        var protection: ProtectionLevel
    }

    /// The index at an instant: the nearest valid read within the tolerance, else linear interpolation between the
    /// valid reads around it, else `nil` (no read after it yet, or none before it).
    static func boundary(
        at instant: Timestamp,
        anchors: [IndexRead],
        modulus: Int64,
        settings: ValidationSettings
    ) -> Boundary? {
        let tolerance = settings.boundaryToleranceSeconds * 1_000_000
        var nearest: IndexRead?
        var nearestDistance = Int64.max
        var before: IndexRead?
        var after: IndexRead?
        for read in anchors {
            let distance = abs(read.readAt.microsecondsSinceEpoch - instant.microsecondsSinceEpoch)
            // Prefer the exact daily frozen total, then the closest read.
            if distance <= tolerance,
                distance < nearestDistance || (distance == nearestDistance && read.kind == .dailyFrozen)
            {
                nearest = read
                nearestDistance = distance
            }
            if read.readAt <= instant { before = read }
            if read.readAt > instant && after == nil { after = read }
        }
        if let nearest {
            return Boundary(value: nearest.volumeMillilitres, isEstimated: false, protection: nearest.protection)
        }
        guard let before, let after else { return nil }
        var next = after.volumeMillilitres
        if next < before.volumeMillilitres && modulus > 0 { next += modulus }
        let span = after.readAt.microsecondsSinceEpoch - before.readAt.microsecondsSinceEpoch
        let part = instant.microsecondsSinceEpoch - before.readAt.microsecondsSinceEpoch
        let protection = min(before.protection, after.protection)
        guard span > 0 else {
            return Boundary(value: before.volumeMillilitres, isEstimated: false, protection: protection)
        }
        // Multiply in a wider type: volumes reach 10^17 and spans 10^13 µs.
        // The quotient fits: part ≤ span, so it is at most the volume difference.
        let step = span.dividingFullWidth((next - before.volumeMillilitres).multipliedFullWidth(by: part)).quotient
        var value = before.volumeMillilitres + step
        if modulus > 0 && value >= modulus { value -= modulus }
        return Boundary(value: value, isEstimated: true, protection: protection)
    }

    /// The day's intervals: the actual ones, and for each missing slot an equal share of what the anchored day
    /// volume leaves (the last slot takes the remainder). Sets ``ValidationReasons/intervalGap`` when slots miss.
    /// The day has as many slots as fit between its start and end: 48 half hours, 46 or 50 across a clock change.
    static func fillIntervals(
        _ all: [IntervalValue],
        from dayStart: Timestamp,
        to dayEnd: Timestamp,
        volume: Int64,
        reasons: inout ValidationReasons
    ) -> [IntervalValue] {
        let actual = all.filter { $0.start >= dayStart && $0.start < dayEnd }
        let minutes = actual.first?.minutes ?? all.first?.minutes ?? 30
        let dayMinutes = (dayEnd.secondsSinceEpoch - dayStart.secondsSinceEpoch) / 60
        guard minutes > 0, dayMinutes % Int64(minutes) == 0 else { return actual }
        let slots = Int(dayMinutes / Int64(minutes))
        var bySlot: [Int: IntervalValue] = [:]
        for interval in actual {
            let offset = interval.start.secondsSinceEpoch - dayStart.secondsSinceEpoch
            if offset % (Int64(minutes) * 60) == 0 { bySlot[Int(offset / (Int64(minutes) * 60))] = interval }
        }
        let missing = (0..<slots).filter { bySlot[$0] == nil }
        guard !missing.isEmpty else { return (0..<slots).compactMap { bySlot[$0] } }
        reasons.insert(.intervalGap)
        let left = max(0, volume - bySlot.values.reduce(0) { $0 + $1.volumeMillilitres })
        let share = left / Int64(missing.count)
        for (index, slot) in missing.enumerated() {
            let amount = index == missing.count - 1 ? left - share * Int64(missing.count - 1) : share
            bySlot[slot] = IntervalValue(
                start: dayStart.adding(seconds: Int64(slot) * Int64(minutes) * 60),
                minutes: minutes,
                volumeMillilitres: amount,
                isEstimated: true
            )
        }
        return (0..<slots).compactMap { bySlot[$0] }
    }

    /// Zero consumption with the valve open for N days; high, extreme and low use against the average daily use of
    /// the previous days (valid and estimated days only).
    static func checkUsage(
        volume: Int64,
        valve: ValveState,
        history: [DayHistory],
        settings: ValidationSettings,
        reasons: inout ValidationReasons
    ) {
        if volume == 0 && valve != .closed {
            var run = 1
            for past in history.reversed() {
                guard past.volumeMillilitres == 0, past.valve != .closed else { break }
                run += 1
            }
            if run >= settings.zeroConsumptionDays { reasons.insert(.zeroConsumption) }
        }
        let usable = history.suffix(settings.averageDailyUseDays).filter { $0.quality <= .estimated }
        guard usable.count >= settings.minimumHistoryDays else { return }
        let total = usable.reduce(Int64(0)) {
            $0.addingReportingOverflow($1.volumeMillilitres).overflow ? .max : $0 + $1.volumeMillilitres
        }
        let count = Int64(usable.count)
        // volume > f × (total / count)  ⟺  volume × count × 100 > f_percent × total
        let scaled = mul(mul(volume, count), 100)
        if scaled > mul(settings.extremeUsagePercent, total) && total > 0 {
            reasons.insert(.extremeUsage)
        } else if scaled > mul(settings.highUsagePercent, total) && total > 0 {
            reasons.insert(.highUsage)
        } else if total >= mul(settings.lowUsageFloorMillilitres, count)
            && scaled < mul(settings.lowUsagePercent, total)
        {
            reasons.insert(.lowUsage)
        }
    }
}

/// `a × b`, saturating at the Int64 limits instead of trapping (rule arithmetic on hostile stored values).
private func mul(_ a: Int64, _ b: Int64) -> Int64 {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    guard overflow else { return product }
    return (a < 0) != (b < 0) ? .min : .max
}
