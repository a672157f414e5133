public import GatewayCore

/// What a meter's data in a chart's period shows, found with the leak signatures' own rules (``LeakSignatures``):
/// the marks a ``ConsumptionChart`` draws.
public struct ConsumptionFindings: Sendable {
    /// One local day of the period.
    public struct Day: Sendable, Equatable {
        public var start: Timestamp
        /// The lowest measured interval flow of the day (ml/h), `nil` without intervals.
        public var minimumFlow: Int64?
        /// ``LeakSignatures/nightMinimum(_:settings:)`` of the day (ml/h).
        public var nightMinimum: Int64?
        /// ``LeakSignatures/isZeroFree(_:)`` of the day's intervals; a day whose intervals do not cover it is
        /// incomplete (`nil`), as the validator's estimated fill of the gap makes it.
        public var isZeroFree: Bool?
    }

    /// A run of days in a row without a zero interval (the continuous-flow signature), at least
    /// ``SignatureSettings/continuousWarnDays`` long.
    public struct ContinuousBand: Sendable, Equatable {
        /// The first day's start and the last zero-free day's end.
        public var start: Timestamp
        public var end: Timestamp
        /// Zero-free days in the run (incomplete days inside it neither extend nor break it).
        public var days: Int
        /// The lowest measured interval flow of the run's zero-free days (ml/h): the line the flow never went below.
        public var floorMillilitresPerHour: Int64
        /// Whether the run reached ``SignatureSettings/continuousTicketDays`` (a `continuous_flow_leak`).
        public var isLeak: Bool
    }

    /// One night's minimum flow.
    public struct Night: Sendable, Equatable {
        public var dayStart: Timestamp
        public var dayIndex: Int
        public var minimumMillilitresPerHour: Int64
        /// Part of ``SignatureSettings/nightRisingNights`` + 1 nights of a strictly rising minimum ending at or
        /// above ``SignatureSettings/nightFloorMillilitresPerHour`` (a `night_flow_rising`).
        public var isRising: Bool
    }

    /// A least-squares line through the night minima: ml/h at day index 0 and per day.
    public struct Trend: Sendable, Equatable {
        public var intercept: Double
        public var slopePerDay: Double

        public func value(atDay index: Double) -> Double { intercept + slopePerDay * index }
    }

    /// A read whose register advanced while it and the previous read said the valve was closed.
    public struct ValveClosedFlow: Sendable, Equatable {
        public var readAt: Timestamp
        public var volumeMillilitres: Int64
    }

    /// An interval whose flow rose above the one before it by more than the sudden-increase limit: per day the
    /// first, where ``LeakSignatures`` raises `sudden_increase`.
    public struct Increase: Sendable, Equatable {
        public var interval: IntervalValue
        /// Its flow and the flow of the interval before it (ml/h).
        public var flow: Int64
        public var previousFlow: Int64
    }

    /// Continuous use within one flow band for longer than the band allows: per day the first run, ending where
    /// ``LeakSignatures`` raises `continuous_flow_timeout`.
    public struct BandTimeout: Sendable, Equatable {
        /// The run's first interval's start and the end of the interval that passed the limit.
        public var start: Timestamp
        public var end: Timestamp
        /// The run's length and the band's limit.
        public var minutes: Int
        public var limitMinutes: Int
    }

    public var days: [Day]
    public var continuousBand: ContinuousBand?
    /// Sudden increases, at most one per day.
    public var increases: [Increase]
    /// Flow-band time limits passed, at most one per day (none for premises with a continuous appliance).
    public var bandTimeouts: [BandTimeout]
    public var nights: [Night]
    public var nightTrend: Trend?
    /// ``LeakSignatures/totalFlowCutoff(meter:settings:)`` (ml/h).
    public var cutoffMillilitresPerHour: Int64?
    /// The intervals whose flow exceeds the cut-off (`over_flow`), with their flow (ml/h).
    public var spikes: [(interval: IntervalValue, flow: Int64)]
    public var valveClosedFlows: [ValveClosedFlow]
    /// The highest measured interval flow (ml/h), 0 without intervals.
    public var maximumFlow: Int64

    /// Finds the marks in a chart's data.
    /// - Parameters:
    ///   - intervals: The meter's intervals in the period, in start order.
    ///   - reads: The meter's validated register reads in the period, in time order.
    ///   - meter: The meter and premises.
    ///   - period: The days.
    ///   - settings: The signatures' thresholds and zone.
    public init(
        intervals: [IntervalValue],
        reads: [(read: IndexRead, quality: ReadQuality)],
        meter: SignatureMeter,
        period: ChartPeriod,
        settings: SignatureSettings
    ) {
        var byDay = [[IntervalValue]](repeating: [], count: period.dayStarts.count)
        for interval in intervals {
            if let index = period.dayIndex(of: interval.start) { byDay[index].append(interval) }
        }
        var days: [Day] = []
        for (index, start) in period.dayStarts.enumerated() {
            var dayIntervals = byDay[index]
            let measured = dayIntervals.filter { !$0.isEstimated }
            let covered = dayIntervals.reduce(Int64(0)) { $0 + Int64($1.minutes) * 60 }
            let length = period.dayEnd(start).secondsSinceEpoch - start.secondsSinceEpoch
            if !dayIntervals.isEmpty, covered < length {
                // The validator fills a gap with estimated intervals; so does this, to judge the day the same way.
                dayIntervals.append(
                    IntervalValue(start: start, minutes: 0, volumeMillilitres: 0, isEstimated: true)
                )
            }
            days.append(
                Day(
                    start: start,
                    minimumFlow: measured.map(LeakSignatures.flowPerHour).min(),
                    nightMinimum: LeakSignatures.nightMinimum(measured, settings: settings),
                    isZeroFree: LeakSignatures.isZeroFree(dayIntervals)
                )
            )
        }
        self.days = days
        (self.increases, self.bandTimeouts) = Self.intervalFindings(
            byDay,
            period: period,
            meter: meter,
            settings: settings
        )
        self.continuousBand =
            meter.hasContinuousAppliance ? nil : Self.band(days, byDay: byDay, period: period, settings: settings)
        self.nights = Self.nights(days, settings: settings)
        self.nightTrend = Self.trend(nights)
        let cutoff = LeakSignatures.totalFlowCutoff(meter: meter, settings: settings)
        self.cutoffMillilitresPerHour = cutoff
        var spikes: [(interval: IntervalValue, flow: Int64)] = []
        var maximum: Int64 = 0
        for interval in intervals where !interval.isEstimated {
            let flow = LeakSignatures.flowPerHour(interval)
            maximum = max(maximum, flow)
            if let cutoff, flow > cutoff { spikes.append((interval, flow)) }
        }
        self.spikes = spikes
        self.maximumFlow = maximum
        self.valveClosedFlows = LeakSignatures.flowsWithValveClosed(reads).map {
            ValveClosedFlow(readAt: $0.read.readAt, volumeMillilitres: $0.volumeMillilitres)
        }
    }

    /// Per day, the signatures' interval checks on the day as the validator hands it to them: in start order (as
    /// ``init(intervals:reads:meter:period:settings:)`` receives them), each gap filled by an estimated interval
    /// (which counts as no flow and breaks a run).
    private static func intervalFindings(
        _ byDay: [[IntervalValue]],
        period: ChartPeriod,
        meter: SignatureMeter,
        settings: SignatureSettings
    ) -> ([Increase], [BandTimeout]) {
        var increases: [Increase] = []
        var timeouts: [BandTimeout] = []
        for intervals in byDay where !intervals.isEmpty {
            var day: [IntervalValue] = []
            for interval in intervals {
                if let last = day.last {
                    let end = last.start.adding(seconds: Int64(last.minutes) * 60)
                    if end < interval.start {
                        let gap = (interval.start.secondsSinceEpoch - end.secondsSinceEpoch) / 60
                        day.append(
                            IntervalValue(
                                start: end,
                                minutes: Int16(clamping: gap),
                                volumeMillilitres: 0,
                                isEstimated: true
                            )
                        )
                    }
                }
                day.append(interval)
            }
            let flows = day.map { $0.isEstimated ? 0 : LeakSignatures.flowPerHour($0) }
            if let index = LeakSignatures.suddenIncrease(day, flows: flows, meter: meter, settings: settings) {
                increases.append(Increase(interval: day[index], flow: flows[index], previousFlow: flows[index - 1]))
            }
            if !meter.hasContinuousAppliance,
                let found = LeakSignatures.bandTimeout(day, flows: flows, bands: settings.flowBands)
            {
                timeouts.append(
                    BandTimeout(
                        start: found.at.adding(seconds: -Int64(found.minutes) * 60),
                        end: found.at,
                        minutes: found.minutes,
                        limitMinutes: found.limitMinutes
                    )
                )
            }
        }
        return (increases, timeouts)
    }

    /// The last run of zero-free days at least the warning length, counted as ``LeakSignatures/find`` counts it.
    private static func band(
        _ days: [Day],
        byDay: [[IntervalValue]],
        period: ChartPeriod,
        settings: SignatureSettings
    ) -> ContinuousBand? {
        var best: ContinuousBand?
        var runStart: Int?
        var runLast = 0
        var run = 0
        func close() {
            guard let first = runStart, run >= settings.continuousWarnDays else { return }
            let floor = (first...runLast).filter { days[$0].isZeroFree == true }
                .compactMap { days[$0].minimumFlow }.min()
            guard let floor else { return }
            best = ContinuousBand(
                start: days[first].start,
                end: period.dayEnd(days[runLast].start),
                days: run,
                floorMillilitresPerHour: floor,
                isLeak: run >= settings.continuousTicketDays
            )
        }
        for (index, day) in days.enumerated() {
            switch day.isZeroFree {
            case true?:
                if runStart == nil { runStart = index }
                run += 1
                runLast = index
            case false?:
                close()
                runStart = nil
                run = 0
            case nil:
                continue
            }
        }
        close()
        return best
    }

    private static func nights(_ days: [Day], settings: SignatureSettings) -> [Night] {
        var nights: [Night] = []
        for (index, day) in days.enumerated() {
            guard let minimum = day.nightMinimum else { continue }
            nights.append(
                Night(dayStart: day.start, dayIndex: index, minimumMillilitresPerHour: minimum, isRising: false)
            )
            let window = settings.nightRisingNights + 1
            guard nights.count >= window, minimum >= settings.nightFloorMillilitresPerHour else { continue }
            let last = nights.suffix(window).map(\.minimumMillilitresPerHour)
            if zip(last, last.dropFirst()).allSatisfy({ $0 < $1 }) {
                for marked in (nights.count - window)..<nights.count { nights[marked].isRising = true }
            }
        }
        return nights
    }

    private static func trend(_ nights: [Night]) -> Trend? {
        guard nights.count >= 2 else { return nil }
        let count = Double(nights.count)
        let meanX = nights.reduce(0.0) { $0 + Double($1.dayIndex) } / count
        let meanY = nights.reduce(0.0) { $0 + Double($1.minimumMillilitresPerHour) } / count
        var covariance = 0.0
        var variance = 0.0
        for night in nights {
            let dx = Double(night.dayIndex) - meanX
            covariance += dx * (Double(night.minimumMillilitresPerHour) - meanY)
            variance += dx * dx
        }
        guard variance > 0 else { return nil }
        let slope = covariance / variance
        return Trend(intercept: meanY - slope * meanX, slopePerDay: slope)
    }
}
