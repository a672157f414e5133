import GatewayCore
import GatewayDomain
import Testing

/// Billing days in a zone with summer time: Europe/Berlin's 2026 changes, as the tz database has them.
@Suite struct SummerTimeDaysTests {
    private let berlin = TimeZoneRules(
        identifier: "Europe/Berlin",
        initialOffsetSeconds: 3600,
        transitions: [(1_774_746_000, 7200), (1_792_890_000, 3600)]  // 2026-03-29 01:00Z, 2026-10-25 01:00Z
    )
    private let litre: Int64 = 1000

    private var settings: ValidationSettings {
        var settings = ValidationSettings()
        settings.billingZone = berlin
        return settings
    }

    private func midnight(_ month: Int, _ day: Int) -> Timestamp {
        berlin.startOfDay(CivilDate(year: 2026, month: month, day: day))
    }

    /// Daily frozen reads at the local midnights from `first` to `last` (inclusive), half-hourly intervals of
    /// 100 l in between (except `skipping`), and the validation of those days.
    private func validate(
        from first: Timestamp,
        days: Int,
        skipping: Set<Int> = [],
        qmax: Int64? = nil
    ) -> [DailyDeterminant] {
        var midnights = [first]
        for _ in 0..<days { midnights.append(berlin.startOfNextDay(after: midnights[midnights.count - 1])) }
        let end = midnights[midnights.count - 1]
        let slots = Int((end.secondsSinceEpoch - first.secondsSinceEpoch) / 1800)
        let intervals = (0..<slots).filter { !skipping.contains($0) }.map {
            IntervalValue(
                start: first.adding(seconds: Int64($0) * 1800),
                minutes: 30,
                volumeMillilitres: 100 * litre,
                isEstimated: false
            )
        }
        let reads = midnights.map { instant in
            IndexRead(
                readAt: instant,
                receivedAt: instant.adding(seconds: 5),
                kind: .dailyFrozen,
                volumeMillilitres: 1_000_000 * litre + (instant.secondsSinceEpoch - first.secondsSinceEpoch) / 1800
                    * 100
                    * litre,
                flowMillilitresPerHour: nil,
                valve: .open,
                hasConflict: false,
                review: nil
            )
        }
        return ValidationEngine.validate(
            ValidationInput(
                limits: MeterLimits(qmaxMillilitresPerHour: qmax),
                settings: settings,
                previous: nil,
                reads: reads,
                intervals: intervals,
                history: [],
                firstDay: first,
                now: end.adding(seconds: 3600)
            )
        ).days
    }

    @Test func theSpringDayHas23HoursOfIntervals() throws {
        let days = validate(from: midnight(3, 28), days: 3)
        try #require(days.count == 3)
        #expect(days.map(\.dayStart) == [midnight(3, 28), midnight(3, 29), midnight(3, 30)])
        // 2026-03-29 runs from 23:00Z to 22:00Z: 46 half hours, 4.6 m³.
        let spring = days[1]
        #expect(spring.dayStart.secondsSinceEpoch == 1_774_738_800)
        #expect(spring.intervals.count == 46)
        #expect(spring.volumeMillilitres == 46 * 100 * litre)
        #expect(spring.intervals.reduce(0) { $0 + $1.volumeMillilitres } == spring.volumeMillilitres)
        #expect(spring.quality == .valid && spring.reasons.isEmpty)
        // Its neighbours have 48.
        #expect(days[0].intervals.count == 48 && days[0].volumeMillilitres == 4800 * litre)
        #expect(days[2].intervals.count == 48 && days[2].volumeMillilitres == 4800 * litre)
    }

    @Test func theAutumnDayHas25HoursOfIntervals() throws {
        let days = validate(from: midnight(10, 24), days: 3)
        try #require(days.count == 3)
        let autumn = days[1]
        // 2026-10-25 runs from 22:00Z to 23:00Z the next evening: 50 half hours, 5 m³.
        #expect(autumn.dayStart.secondsSinceEpoch == 1_792_879_200)
        #expect(autumn.intervals.count == 50)
        #expect(autumn.volumeMillilitres == 50 * 100 * litre)
        #expect(autumn.intervals.last?.start == Timestamp(secondsSinceEpoch: 1_792_967_400))
        #expect(autumn.quality == .valid && autumn.reasons.isEmpty)
    }

    @Test func gapsInA25HourDayAreFilledUpTo50Intervals() throws {
        // Slots 48 + 10 and 48 + 11: the 11th and 12th half hour of 2026-10-25.
        let days = validate(from: midnight(10, 24), days: 2, skipping: [58, 59])
        try #require(days.count == 2)
        let autumn = days[1]
        #expect(autumn.reasons.names == ["interval_gap"])
        #expect(autumn.intervals.count == 50)
        #expect(autumn.estimatedIntervals.map(\.volumeMillilitres) == [100 * litre, 100 * litre])
        #expect(autumn.intervals.reduce(0) { $0 + $1.volumeMillilitres } == 5000 * litre)
    }

    @Test func theDailySpikeLimitCountsTheHoursTheDayHas() throws {
        // Qmax 0.17 m³/h × 120 % = 0.204 m³/h: 4.896 m³ in 24 h, 5.1 m³ in 25 h. The 25-hour day's 5 m³ (0.2 m³/h,
        // no read is a spike) is within its limit, though over a 24-hour day's.
        let autumn = validate(from: midnight(10, 24), days: 3, qmax: 170 * litre)
        try #require(autumn.count == 3)
        #expect(autumn.map { $0.reasons.contains(.spike) } == [false, false, false])
        #expect(autumn[1].volumeMillilitres > 4896 * litre)
    }

    @Test func theWindowStartsTheLocalDayBeforeTheNewData() {
        // New data at 2026-03-30 10:00Z: the window starts at the start of 2026-03-29 (23 hours long).
        let dirty = Timestamp(secondsSinceEpoch: 1_774_864_800)
        #expect(BillingDay.windowStart(dirtyFrom: dirty, zone: berlin) == midnight(3, 29))
        #expect(BillingDay.start(of: dirty, zone: berlin) == midnight(3, 30))
        #expect(BillingDay.end(of: midnight(3, 29), zone: berlin) == midnight(3, 30))
    }
}
