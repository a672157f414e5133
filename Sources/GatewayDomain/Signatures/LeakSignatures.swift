public import GatewayCore

/// Thresholds of the leak signatures found in consumption data (domain rules §2), each a setting.
public struct SignatureSettings: Sendable, Equatable {
    /// Days in a row without a zero-flow interval before the warning / escalation / ticket (24 h, 7 d, 30 d).
    public var continuousWarnDays = 1
    public var continuousEscalateDays = 7
    public var continuousTicketDays = 30
    /// Total-flow cut-off as a percentage of the meter size number in m³/h (180: ≈ 1.8 × size, the micom table).
    public var totalFlowCutoffPercent: Int64 = 180
    /// Increased-flow cut-off: a rise between consecutive intervals above this percentage of the size number (140).
    public var increaseCutoffPercent: Int64 = 140
    /// Continuous use per flow band: (lowest flow of the band in ml/h, longest allowed run in minutes), ascending.
    /// Defaults: from 10 L/h 12 h (a fan heater or stove), from 1 m³/h 4 h, from 2.5 m³/h 1 h (hot water left on).
    public var flowBands: [(fromMillilitresPerHour: Int64, limitMinutes: Int)] = [
        (10_000, 720), (1_000_000, 240), (2_500_000, 60),
    ]
    /// Minimum night flow: the lowest interval between these local hours each night.
    public var nightStartHour = 1
    public var nightEndHour = 5
    /// Nights in a row of a rising minimum night flow, the last one at least this flow (ml/h), for a signature.
    public var nightRisingNights = 3
    public var nightFloorMillilitresPerHour: Int64 = 10_000
    /// The zone of the premises' days and nights (the billing zone): the night window is in its local time, and a
    /// day ends at its next local midnight.
    public var zone: TimeZoneRules = .utc

    public init() {}

    public static func == (lhs: SignatureSettings, rhs: SignatureSettings) -> Bool {
        lhs.continuousWarnDays == rhs.continuousWarnDays && lhs.continuousEscalateDays == rhs.continuousEscalateDays
            && lhs.continuousTicketDays == rhs.continuousTicketDays
            && lhs.totalFlowCutoffPercent == rhs.totalFlowCutoffPercent
            && lhs.increaseCutoffPercent == rhs.increaseCutoffPercent
            && lhs.flowBands.map(\.fromMillilitresPerHour) == rhs.flowBands.map(\.fromMillilitresPerHour)
            && lhs.flowBands.map(\.limitMinutes) == rhs.flowBands.map(\.limitMinutes)
            && lhs.nightStartHour == rhs.nightStartHour && lhs.nightEndHour == rhs.nightEndHour
            && lhs.nightRisingNights == rhs.nightRisingNights
            && lhs.nightFloorMillilitresPerHour == rhs.nightFloorMillilitresPerHour
            && lhs.zone == rhs.zone
    }
}

/// What the signatures need to know about the premises and meter.
public struct SignatureMeter: Sendable, Equatable {
    public var meterID: Int64
    public var source: FrameProtocol
    /// The size number in m³/h × 1000 (G4 → 4000), for the cut-offs; `nil` when unknown.
    public var sizeMillicubicPerHour: Int64?
    public var qmaxMillilitresPerHour: Int64?
    /// Pilot burner or always-on heating: continuous flow is expected, so those signatures are suppressed.
    public var hasContinuousAppliance: Bool

    public init(
        meterID: Int64,
        source: FrameProtocol,
        sizeMillicubicPerHour: Int64?,
        qmaxMillilitresPerHour: Int64?,
        hasContinuousAppliance: Bool
    ) {
        self.meterID = meterID
        self.source = source
        self.sizeMillicubicPerHour = sizeMillicubicPerHour
        self.qmaxMillilitresPerHour = qmaxMillilitresPerHour
        self.hasContinuousAppliance = hasContinuousAppliance
    }
}

/// Leak signatures no single frame shows, found in a meter's validated days and readings. Pure: the caller passes
/// the data. Each finding is an ``AlarmRecord`` in the one condition vocabulary (raw codes `0x4701`… mark them as the
/// gateway's own), raised at the instant the evidence completes, so re-analysing the same data finds the same
/// alarm (the alarm's natural key makes it a no-op).
public enum LeakSignatures {
    /// Raw codes of derived alarms.
    public enum Code {
        public static let continuousWarning: Int32 = 0x4701
        public static let continuousEscalation: Int32 = 0x4702
        public static let continuousLeak: Int32 = 0x4703
        public static let totalFlow: Int32 = 0x4704
        public static let suddenIncrease: Int32 = 0x4705
        public static let flowBandTimeout: Int32 = 0x4706
        public static let nightFlowRising: Int32 = 0x4707
        public static let flowWithValveClosed: Int32 = 0x4708
        public static let networkImbalance: Int32 = 0x4709
    }

    /// Finds the signatures in the days just determined.
    /// - Parameters:
    ///   - meter: The meter and premises.
    ///   - days: Days in time order, the earlier ones as history (`previousRun` counts days before them).
    ///   - previousRun: Days in a row without a zero interval that ended just before `days[0]`.
    ///   - previousNightMinimums: Minimum night flows (ml/h) of the nights just before `days[0]`, oldest first.
    ///   - reads: Validated register reads (for flow with the valve closed), in time order.
    ///   - receivedAt: Receive time to record on the alarms.
    ///   - settings: Thresholds.
    ///   - policy: Priorities.
    /// - Returns: The alarms.
    public static func find(
        meter: SignatureMeter,
        days: [DailyDeterminant],
        previousRun: Int,
        previousNightMinimums: [Int64],
        reads: [(read: IndexRead, quality: ReadQuality)],
        receivedAt: Timestamp,
        settings: SignatureSettings,
        policy: TicketPolicy
    ) -> [AlarmRecord] {
        var alarms: [AlarmRecord] = []
        func alarm(
            _ condition: AlarmCondition,
            _ code: Int32,
            at: Timestamp,
            detail: Int64,
            valve: ValveState = .unknown
        ) {
            alarms.append(
                AlarmRecord(
                    meterID: meter.meterID,
                    raisedAt: at,
                    receivedAt: receivedAt,
                    source: meter.source,
                    rawCode: code,
                    condition: condition,
                    isCleared: false,
                    priority: policy.priority(for: condition, valve: valve),
                    valve: valve,
                    detail: detail,
                    frameCounter: nil
                )
            )
        }
        var run = previousRun
        var nights = previousNightMinimums
        for day in days where day.quality != .rejected {
            let dayEnd = BillingDay.end(of: day.dayStart, zone: settings.zone)
            let intervals = day.intervals
            // Continuous flow: a full day of measured intervals, none of them zero.
            if let isZeroFree = isZeroFree(intervals), !meter.hasContinuousAppliance {
                if isZeroFree {
                    run += 1
                    if run == settings.continuousWarnDays {
                        alarm(.continuousFlowWarning, Code.continuousWarning, at: dayEnd, detail: Int64(run))
                    }
                    if run == settings.continuousEscalateDays {
                        alarm(.continuousFlowEscalated, Code.continuousEscalation, at: dayEnd, detail: Int64(run))
                    }
                    if run == settings.continuousTicketDays {
                        alarm(.continuousFlowLeak, Code.continuousLeak, at: dayEnd, detail: Int64(run))
                    }
                } else {
                    run = 0
                }
            }
            guard !intervals.isEmpty else { continue }
            // Estimated intervals count as no flow for the flow checks below (never as evidence of one).
            let flows = intervals.map { $0.isEstimated ? 0 : flowPerHour($0) }
            // Total flow above the cut-off (≈ 1.8 × size) or Qmax: the first interval that exceeds it.
            if let cutoff = totalFlowCutoff(meter: meter, settings: settings),
                let index = flows.firstIndex(where: { $0 > cutoff })
            {
                alarm(.overFlow, Code.totalFlow, at: intervals[index].start, detail: flows[index], valve: day.valve)
            }
            // Sudden increase between consecutive intervals.
            if let index = suddenIncrease(intervals, flows: flows, meter: meter, settings: settings) {
                alarm(.suddenIncrease, Code.suddenIncrease, at: intervals[index].start, detail: flows[index])
            }
            // Continuous use beyond its flow band's time limit.
            if !meter.hasContinuousAppliance,
                let finding = bandTimeout(intervals, flows: flows, bands: settings.flowBands)
            {
                alarm(.continuousFlowTimeout, Code.flowBandTimeout, at: finding.at, detail: Int64(finding.minutes))
            }
            // Minimum night flow rising night after night.
            if let minimum = nightMinimum(intervals, flows: flows, settings: settings) {
                nights.append(minimum)
                let last = nights.suffix(settings.nightRisingNights + 1)
                if last.count == settings.nightRisingNights + 1, minimum >= settings.nightFloorMillilitresPerHour,
                    zip(last, last.dropFirst()).allSatisfy({ $0 < $1 })
                {
                    alarm(.nightFlowRising, Code.nightFlowRising, at: dayEnd, detail: minimum)
                }
            }
        }
        for finding in flowsWithValveClosed(reads) {
            alarm(
                .flowWithValveClosed,
                Code.flowWithValveClosed,
                at: finding.read.readAt,
                detail: finding.volumeMillilitres,
                valve: .closed
            )
        }
        return alarms
    }

    /// Whether a day's intervals are evidence of continuous flow: `true` for a full day of measured intervals none
    /// of which is zero, `false` for a full day with a zero interval (it breaks a run), `nil` for a day without
    /// intervals or with an estimated one (an even share of a gap proves nothing, so it neither extends nor breaks
    /// a run).
    /// - Parameter intervals: The day's intervals.
    /// - Returns: The day's evidence.
    public static func isZeroFree(_ intervals: [IntervalValue]) -> Bool? {
        guard !intervals.isEmpty, intervals.allSatisfy({ !$0.isEstimated }) else { return nil }
        return intervals.allSatisfy { $0.volumeMillilitres > 0 }
    }

    /// The total-flow cut-off of a meter in ml/h: the lower of ``SignatureSettings/totalFlowCutoffPercent`` of its
    /// size number and its Qmax; an interval whose flow exceeds it raises `over_flow`.
    /// - Parameters:
    ///   - meter: The meter.
    ///   - settings: Thresholds.
    /// - Returns: The cut-off, `nil` when neither the size nor Qmax is known.
    public static func totalFlowCutoff(meter: SignatureMeter, settings: SignatureSettings) -> Int64? {
        [
            meter.sizeMillicubicPerHour.map { $0 * 1000 * settings.totalFlowCutoffPercent / 100 },
            meter.qmaxMillilitresPerHour,
        ].compactMap { $0 }.min()
    }

    /// Flow while the valve reports closed: each read whose register advanced since the previous usable read
    /// (quality valid or estimated), both saying closed.
    /// - Parameter reads: Validated register reads in time order.
    /// - Returns: The later read of each such pair and how far the register advanced (ml).
    public static func flowsWithValveClosed(
        _ reads: [(read: IndexRead, quality: ReadQuality)]
    ) -> [(read: IndexRead, volumeMillilitres: Int64)] {
        var findings: [(read: IndexRead, volumeMillilitres: Int64)] = []
        var previous: IndexRead?
        for (read, quality) in reads where quality <= .estimated {
            if let before = previous, before.valve == .closed, read.valve == .closed,
                read.volumeMillilitres > before.volumeMillilitres
            {
                findings.append((read, read.volumeMillilitres - before.volumeMillilitres))
            }
            previous = read
        }
        return findings
    }

    /// An interval's average flow in ml/h (0 for an interval of no minutes).
    /// - Parameter interval: The interval.
    /// - Returns: Its volume over its length, per hour.
    public static func flowPerHour(_ interval: IntervalValue) -> Int64 {
        guard interval.minutes > 0 else { return 0 }
        return interval.volumeMillilitres * 60 / Int64(interval.minutes)
    }

    /// The first interval of a day whose flow rose above the interval before it by more than
    /// ``SignatureSettings/increaseCutoffPercent`` of the meter's size, neither of the two estimated (the
    /// `sudden_increase` signature); nil for a meter of unknown size.
    /// - Parameters:
    ///   - intervals: The day's intervals in start order (estimated ones fill its gaps).
    ///   - flows: Their flows (ml/h), 0 for an estimated one.
    ///   - meter: The meter (its size).
    ///   - settings: The threshold.
    /// - Returns: The index of the interval that rose.
    static func suddenIncrease(
        _ intervals: [IntervalValue],
        flows: [Int64],
        meter: SignatureMeter,
        settings: SignatureSettings
    ) -> Int? {
        guard let size = meter.sizeMillicubicPerHour, flows.count > 1 else { return nil }
        let limit = size * 1000 * settings.increaseCutoffPercent / 100
        return (1..<flows.count).first {
            !intervals[$0].isEstimated && !intervals[$0 - 1].isEstimated && flows[$0] - flows[$0 - 1] > limit
        }
    }

    /// The first run of consecutive intervals whose flow stays within one band longer than the band allows: where
    /// it passed the limit, its length and the band's limit.
    static func bandTimeout(
        _ intervals: [IntervalValue],
        flows: [Int64],
        bands: [(fromMillilitresPerHour: Int64, limitMinutes: Int)]
    ) -> (at: Timestamp, minutes: Int, limitMinutes: Int)? {
        func band(_ flow: Int64) -> Int? { bands.lastIndex { flow >= $0.fromMillilitresPerHour } }
        var runBand: Int?
        var runMinutes = 0
        for (index, interval) in intervals.enumerated() {
            let current = interval.isEstimated ? nil : band(flows[index])
            if current != nil, current == runBand {
                runMinutes += Int(interval.minutes)
            } else {
                runBand = current
                runMinutes = current == nil ? 0 : Int(interval.minutes)
            }
            if let runBand, runMinutes > bands[runBand].limitMinutes {
                return (
                    interval.start.adding(seconds: Int64(interval.minutes) * 60), runMinutes,
                    bands[runBand].limitMinutes
                )
            }
        }
        return nil
    }

    /// The lowest interval flow (ml/h) in the night window of a day, or `nil` when the day has none there.
    public static func nightMinimum(_ intervals: [IntervalValue], settings: SignatureSettings) -> Int64? {
        nightMinimum(intervals, flows: intervals.map(flowPerHour), settings: settings)
    }

    static func nightMinimum(_ intervals: [IntervalValue], flows: [Int64], settings: SignatureSettings) -> Int64? {
        var minimum: Int64?
        for (index, interval) in intervals.enumerated() where !interval.isEstimated {
            let local = settings.zone.localSeconds(of: interval.start)
            let hour = Int(((local % 86_400) + 86_400) % 86_400 / 3600)
            guard hour >= settings.nightStartHour && hour < settings.nightEndHour else { continue }
            minimum = min(minimum ?? flows[index], flows[index])
        }
        return minimum
    }
}
