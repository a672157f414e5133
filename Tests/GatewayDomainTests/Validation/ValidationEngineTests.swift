import GatewayCore
import GatewayDomain
import Testing

/// Every validation rule with a series that trips it and one that does not, on an injected clock.
@Suite struct ValidationEngineTests {
    /// 2026-01-01 00:00 UTC.
    private let t0 = Timestamp(secondsSinceEpoch: 1_767_225_600)
    private let hour: Int64 = 3600
    private let day: Int64 = 86_400
    /// A G4 meter: Qmin 0.04 m³/h, Qmax 6 m³/h, a 5-digit register (rolls over at 100,000 m³).
    private let g4 = MeterLimits(
        qminMillilitresPerHour: 40_000,
        qmaxMillilitresPerHour: 6_000_000,
        registerModulusMillilitres: 100_000_000_000
    )

    private func at(_ seconds: Int64) -> Timestamp { t0.adding(seconds: seconds) }

    private func read(
        _ seconds: Int64,
        m3 millilitres: Int64,
        kind: ReadingKind = .periodic,
        flow: Int64? = nil,
        valve: ValveState = .open,
        receivedLate: Int64 = 5,
        conflict: Bool = false,
        review: ReviewDecision? = nil
    ) -> IndexRead {
        IndexRead(
            readAt: at(seconds),
            receivedAt: at(seconds + receivedLate),
            kind: kind,
            volumeMillilitres: millilitres,
            flowMillilitresPerHour: flow,
            valve: valve,
            hasConflict: conflict,
            review: review
        )
    }

    private func run(
        _ reads: [IndexRead],
        limits: MeterLimits? = nil,
        previous: IndexRead? = nil,
        intervals: [IntervalValue] = [],
        history: [DayHistory] = [],
        settings: ValidationSettings = ValidationSettings(),
        firstDay: Timestamp? = nil,
        now: Timestamp? = nil
    ) -> ValidationOutput {
        ValidationEngine.validate(
            ValidationInput(
                limits: limits ?? g4,
                settings: settings,
                previous: previous,
                reads: reads,
                intervals: intervals,
                history: history,
                firstDay: firstDay ?? t0,
                now: now ?? t0.adding(seconds: 400 * day)
            )
        )
    }

    private func names(_ verdict: ReadVerdict) -> [String] { verdict.reasons.names }

    // MARK: Per-read rules

    @Test func aRisingIndexIsValidAndItsConsumptionIsKept() {
        let out = run([read(0, m3: 1_000_000_000), read(hour, m3: 1_002_000_000)])
        #expect(out.verdicts.map(\.quality) == [.valid, .valid])
        #expect(out.verdicts.map(\.consumptionMillilitres) == [nil, 2_000_000])
        #expect(out.verdicts.allSatisfy { $0.reasons.isEmpty })
    }

    @Test func aFallingIndexIsRejectedAndTheNextReadIsComparedWithTheLastValidOne() {
        let out = run([read(0, m3: 500_000_000), read(hour, m3: 400_000_000), read(2 * hour, m3: 501_000_000)])
        #expect(out.verdicts.map(\.quality) == [.valid, .rejected, .valid])
        #expect(names(out.verdicts[1]) == ["index_decrease"])
        #expect(out.verdicts[2].consumptionMillilitres == 1_000_000)
    }

    @Test func aWrapAtTheRegisterModulusIsARolloverWhenPhysicallyPossible() {
        // 99,999 m³ → 0.5 m³ in an hour: 1.5 m³ across the wrap, under 1.2 × 6 m³.
        let wrap = run([read(0, m3: 99_999_000_000), read(hour, m3: 500_000)])
        #expect(wrap.verdicts.map(\.quality) == [.valid, .valid])
        #expect(names(wrap.verdicts[1]) == ["rollover"])
        #expect(wrap.verdicts[1].consumptionMillilitres == 1_500_000)
        // 99,000 m³ → 10 m³ would be 1,010 m³ in an hour: not a wrap, a decrease.
        let drop = run([read(0, m3: 99_000_000_000), read(hour, m3: 10_000_000)])
        #expect(names(drop.verdicts[1]) == ["index_decrease"])
        // Without a known modulus (registry nor frame) a decrease is never a wrap.
        let unknown = run(
            [read(0, m3: 99_999_000_000), read(hour, m3: 500_000)],
            limits: MeterLimits(qmaxMillilitresPerHour: 6_000_000)
        )
        #expect(names(unknown.verdicts[1]) == ["index_decrease"])
        // Without Qmax the wrap cannot be judged plausible: a decrease stays a decrease.
        let noQmax = run(
            [read(0, m3: 99_999_000_000), read(hour, m3: 500_000)],
            limits: MeterLimits(registerModulusMillilitres: 100_000_000_000)
        )
        #expect(names(noQmax.verdicts[1]) == ["index_decrease", "no_flow_limits"])
    }

    @Test func consumptionAboveTheOverloadCeilingIsASpike() {
        // Ceiling for one hour: 1.2 × 6 m³ = 7.2 m³.
        let over = run([read(0, m3: 0), read(hour, m3: 7_200_001)])
        #expect(over.verdicts[1].quality == .rejected && names(over.verdicts[1]) == ["spike"])
        let at = run([read(0, m3: 0), read(hour, m3: 7_200_000)])
        #expect(at.verdicts[1].quality == .valid)
    }

    @Test func reportedFlowOutsideQminToTheOverloadIsFlagged() {
        let out = run([
            read(0, m3: 0, flow: 7_200_001), read(hour, m3: 100_000, flow: 39_999),
            read(2 * hour, m3: 200_000, flow: 0),
            read(3 * hour, m3: 300_000, flow: 7_200_000),
        ])
        #expect(out.verdicts.map(\.quality) == [.suspect, .valid, .valid, .valid])
        #expect(out.verdicts.map(names) == [["flow_above_max"], ["flow_below_min"], [], []])
    }

    @Test func aMeterClockBeyondTheToleranceIsSuspectButFrozenTotalsAreExempt() {
        let out = run([
            read(0, m3: 0, receivedLate: 301), read(hour, m3: 10, receivedLate: -301),
            read(2 * hour, m3: 20, receivedLate: 300), read(3 * hour, m3: 30, kind: .dailyFrozen, receivedLate: 7200),
        ])
        #expect(out.verdicts.map(names) == [["clock_drift"], ["clock_drift"], [], []])
        #expect(out.verdicts.map(\.quality) == [.suspect, .suspect, .valid, .valid])
    }

    @Test func aConflictingDuplicateIsHeldForReview() {
        let out = run([read(0, m3: 0), read(hour, m3: 10, conflict: true)])
        #expect(out.verdicts[1].quality == .suspect && names(out.verdicts[1]) == ["conflicting_duplicate"])
    }

    @Test func aReviewerDecisionOverridesTheRules() {
        let accepted = run([read(0, m3: 0), read(hour, m3: 9_000_000, review: .accept)])
        #expect(accepted.verdicts[1].quality == .valid)
        #expect(names(accepted.verdicts[1]) == ["spike", "review_accepted"])
        let rejected = run([read(0, m3: 0), read(hour, m3: 10, review: .reject)])
        #expect(rejected.verdicts[1].quality == .rejected && names(rejected.verdicts[1]) == ["review_rejected"])
    }

    @Test func readsAfterVerificationExpiryStayBillableButFlagged() {
        var limits = g4
        limits.verificationExpiresAt = at(hour)
        let out = run([read(0, m3: 0), read(hour, m3: 10)], limits: limits)
        #expect(out.verdicts.map(\.quality) == [.valid, .valid])
        #expect(out.verdicts.map(names) == [[], ["verification_expired"]])
    }

    @Test func withoutQmaxTheFlowChecksCannotRunAndSaySo() {
        let out = run([read(0, m3: 0), read(hour, m3: 900_000_000)], limits: MeterLimits())
        #expect(out.verdicts.map(\.quality) == [.valid, .valid])
        #expect(names(out.verdicts[1]) == ["no_flow_limits"])
    }

    // MARK: Days

    /// Frozen totals at each midnight and a reading every 6 h.
    private func days(_ count: Int, dailyM3: [Int64]) -> [IndexRead] {
        var reads: [IndexRead] = []
        var index: Int64 = 1_000_000_000
        for dayNumber in 0..<count {
            let base = Int64(dayNumber) * day
            reads.append(read(base, m3: index, kind: .dailyFrozen, receivedLate: 3600))
            let used = dailyM3[dayNumber % dailyM3.count]
            for quarter in 1..<4 {
                reads.append(read(base + Int64(quarter) * 6 * hour, m3: index + used * Int64(quarter) / 4))
            }
            index += used
        }
        reads.append(read(Int64(count) * day, m3: index, kind: .dailyFrozen, receivedLate: 3600))
        return reads
    }

    @Test func daysAnchoredOnActualReadsAreValidWithExactVolumes() {
        let out = run(days(3, dailyM3: [2_000_000, 3_000_000]))
        #expect(out.days.map(\.volumeMillilitres) == [2_000_000, 3_000_000, 2_000_000])
        #expect(out.days.map(\.quality) == [.valid, .valid, .valid])
        #expect(out.days.map(\.startIndexMillilitres) == [1_000_000_000, 1_002_000_000, 1_005_000_000])
        #expect(out.days[0].dayStart == t0 && out.days[2].dayStart == at(2 * day))
    }

    @Test func aDayCarriesTheWeakestProtectionOfWhatItWasDerivedFrom() {
        func with(_ read: IndexRead, _ level: ProtectionLevel) -> IndexRead {
            var read = read
            read.protection = level
            return read
        }
        // Day 0 from two authenticated frozen totals; day 1 ends on an encrypted one; day 2 starts on it.
        let reads = [
            with(read(0, m3: 1_000_000, kind: .dailyFrozen), .authenticated),
            with(read(day, m3: 2_000_000, kind: .dailyFrozen), .authenticated),
            with(read(2 * day, m3: 3_000_000, kind: .dailyFrozen), .encrypted),
            with(read(3 * day, m3: 4_000_000, kind: .dailyFrozen), .authenticated),
        ]
        #expect(run(reads).days.map(\.protection) == [.authenticated, .encrypted, .encrypted])
        // An interpolated boundary takes the weaker of the reads around it (here a plain one after the gap).
        let gap = [
            with(read(0, m3: 1_000_000, kind: .dailyFrozen), .authenticated),
            with(read(day + 12 * hour, m3: 2_000_000), .authenticated),
            with(read(3 * day, m3: 4_000_000, kind: .dailyFrozen), .plain),
        ]
        let out = run(gap)
        #expect(out.days.map(\.protection) == [.authenticated, .plain, .plain])
        // Reported intervals count too: one plain interval makes its day plain.
        let intervals = (0..<48).map {
            IntervalValue(
                start: at(Int64($0) * 1800),
                minutes: 30,
                volumeMillilitres: $0 == 0 ? 1_000_000 : 0,
                isEstimated: false,
                protection: $0 == 7 ? .plain : .authenticated
            )
        }
        #expect(run(Array(reads.prefix(2)), intervals: intervals).days.map(\.protection) == [.plain])
    }

    @Test func daysBeforeTheFirstReadAreSkipped() {
        let out = run(days(2, dailyM3: [1_000_000]), firstDay: at(-3 * day))
        #expect(out.days.map(\.dayStart) == [t0, at(day)])
    }

    @Test func aDayIsDeterminedOnlyOnceItEndedAndItsEndIsAnchored() {
        // Ended but no read after midnight yet: pending.
        let open = run([read(0, m3: 0, kind: .dailyFrozen), read(12 * hour, m3: 1_000_000)])
        #expect(open.days.isEmpty)
        // Anchored on both sides but "now" is still inside the day: pending.
        let early = run(days(1, dailyM3: [1_000_000]), now: at(23 * hour))
        #expect(early.days.isEmpty)
    }

    @Test func aBoundaryWithoutANearbyReadIsInterpolatedAndTheDayEstimated() {
        // Reads at 22:00 and 02:00 around the first midnight (outside the 15 min tolerance): 4 m³ over 4 h.
        let out = run([
            read(-2 * hour, m3: 10_000_000), read(2 * hour, m3: 14_000_000), read(day - 10 * 60, m3: 20_000_000),
            read(day + hour, m3: 21_000_000),
        ])
        #expect(out.days.count == 1)
        #expect(out.days[0].startIndexMillilitres == 12_000_000)  // interpolated at midnight
        #expect(out.days[0].endIndexMillilitres == 20_000_000)  // the 23:50 read, within the tolerance
        #expect(out.days[0].quality == .estimated && out.days[0].reasons.names == ["estimated_boundary"])
        // When an actual read at midnight arrives later, the same day becomes valid: a correction for billing.
        let corrected = run([
            read(-2 * hour, m3: 10_000_000), read(0, m3: 12_500_000), read(2 * hour, m3: 14_000_000),
            read(day - 10 * 60, m3: 20_000_000), read(day + hour, m3: 21_000_000),
        ])
        #expect(corrected.days[0].startIndexMillilitres == 12_500_000)
        #expect(corrected.days[0].volumeMillilitres == 7_500_000)
        #expect(corrected.days[0].quality == .valid)
    }

    @Test func intervalGapsAreFilledFromTheAnchoredDayVolumeAndMarkedEstimated() {
        let reads = days(1, dailyM3: [4_800_000])
        func intervals(skipping skipped: Set<Int>) -> [IntervalValue] {
            (0..<48).filter { !skipped.contains($0) }.map {
                IntervalValue(start: at(Int64($0) * 1800), minutes: 30, volumeMillilitres: 100_000, isEstimated: false)
            }
        }
        let gap = run(reads, intervals: intervals(skipping: [10, 11]))
        let day0 = gap.days[0]
        #expect(day0.quality == .valid)  // the day total is anchored on actual reads: never estimated
        #expect(day0.reasons.names == ["interval_gap"])
        #expect(day0.intervals.count == 48)
        #expect(day0.estimatedIntervals.map(\.start) == [at(10 * 1800), at(11 * 1800)])
        #expect(day0.estimatedIntervals.map(\.volumeMillilitres) == [100_000, 100_000])
        #expect(day0.intervals.reduce(0) { $0 + $1.volumeMillilitres } == 4_800_000)
        // The actual intervals arrive: nothing estimated any more.
        let full = run(reads, intervals: intervals(skipping: []))
        #expect(full.days[0].estimatedIntervals.isEmpty && full.days[0].reasons.isEmpty)
        // Meters without interval data get no intervals and no gap.
        #expect(run(reads).days[0].intervals.isEmpty)
    }

    @Test func zeroConsumptionForThirtyDaysWithTheValveOpenIsHeld() {
        let zeroHistory = (1...29).map {
            DayHistory(dayStart: at(-Int64($0) * day), volumeMillilitres: 0, quality: .valid, valve: .open)
        }
        let flat = [read(0, m3: 5_000_000, kind: .dailyFrozen), read(day, m3: 5_000_000, kind: .dailyFrozen)]
        let held = run(flat, history: zeroHistory)
        #expect(held.days[0].reasons.contains(.zeroConsumption) && held.days[0].quality == .suspect)
        let shorter = run(flat, history: Array(zeroHistory.prefix(28)))
        #expect(!shorter.days[0].reasons.contains(.zeroConsumption))
        let closed = run(
            [
                read(0, m3: 5_000_000, kind: .dailyFrozen, valve: .closed),
                read(day, m3: 5_000_000, kind: .dailyFrozen, valve: .closed),
            ],
            history: zeroHistory
        )
        #expect(!closed.days[0].reasons.contains(.zeroConsumption))
    }

    @Test func dailyUseIsJudgedAgainstTheMetersOwnAverage() {
        let history = (1...10).map {
            DayHistory(dayStart: at(-Int64($0) * day), volumeMillilitres: 1_000_000, quality: .valid, valve: .open)
        }
        func dayOf(_ used: Int64, history: [DayHistory]) -> DailyDeterminant? {
            run(
                [
                    read(0, m3: 1_000_000_000, kind: .dailyFrozen),
                    read(day, m3: 1_000_000_000 + used, kind: .dailyFrozen),
                ],
                limits: MeterLimits(qmaxMillilitresPerHour: 6_000_000),
                history: history
            ).days.first
        }
        #expect(dayOf(6_000_000, history: history)?.reasons.names == ["high_usage"])
        #expect(dayOf(6_000_000, history: history)?.quality == .suspect)
        #expect(dayOf(11_000_000, history: history)?.reasons.names == ["extreme_usage"])
        #expect(dayOf(11_000_000, history: history)?.quality == .rejected)
        #expect(dayOf(100_000, history: history)?.reasons.names == ["low_usage"])
        #expect(dayOf(1_500_000, history: history)?.reasons.isEmpty == true)
        #expect(dayOf(5_000_000, history: history)?.reasons.isEmpty == true)  // exactly 5 × is not above
        // Too little history (fewer than 7 days): no judgement.
        #expect(dayOf(11_000_000, history: Array(history.prefix(6)))?.reasons.isEmpty == true)
        // Low use is judged only for a meter averaging at least 100 L a day: a holiday flat's 90 L average makes
        // a 10 L day (a ninth of it) no finding, while at exactly 100 L a day a 10 L day is low.
        let quiet = history.map {
            DayHistory(dayStart: $0.dayStart, volumeMillilitres: 90_000, quality: .valid, valve: .open)
        }
        #expect(dayOf(10_000, history: quiet)?.reasons.isEmpty == true)
        let floor = history.map {
            DayHistory(dayStart: $0.dayStart, volumeMillilitres: 100_000, quality: .valid, valve: .open)
        }
        #expect(dayOf(10_000, history: floor)?.reasons.names == ["low_usage"])
    }

    @Test func aReviewerDecisionOnAHeldDayStands() {
        let history = (1...10).map {
            DayHistory(dayStart: at(-Int64($0) * day), volumeMillilitres: 1_000_000, quality: .valid, valve: .open)
        }
        let reads = [read(0, m3: 0, kind: .dailyFrozen), read(day, m3: 6_000_000, kind: .dailyFrozen)]
        func judged(_ review: ReviewDecision?) -> DailyDeterminant? {
            ValidationEngine.validate(
                ValidationInput(
                    limits: MeterLimits(),
                    settings: ValidationSettings(),
                    previous: nil,
                    reads: reads,
                    intervals: [],
                    history: history,
                    dayReviews: review.map { [t0: $0] } ?? [:],
                    firstDay: t0,
                    now: at(2 * day)
                )
            ).days.first
        }
        #expect(judged(nil)?.quality == .suspect)
        #expect(judged(.accept)?.quality == .valid)
        #expect(judged(.accept)?.reasons.names == ["high_usage", "review_accepted"])
        #expect(judged(.reject)?.quality == .rejected)
    }

    @Test func aDayAboveTheOverloadForTwentyFourHoursIsASpike() {
        // 1.2 × 6 m³/h × 24 h = 172.8 m³.
        let out = run([read(0, m3: 0, kind: .dailyFrozen), read(day, m3: 172_800_001, kind: .dailyFrozen)])
        #expect(out.verdicts[1].reasons.contains(.spike))
        // The spiking read is rejected, so the day's end is not anchored by it: the day stays pending.
        #expect(out.days.isEmpty)
    }

    @Test func aSuspectReadInsideADayHoldsTheDay() {
        var reads = days(1, dailyM3: [2_000_000])
        reads[2].receivedAt = reads[2].readAt.adding(seconds: 3600)  // clock drift on the 12:00 read
        let out = run(reads)
        #expect(out.verdicts[2].quality == .suspect)
        #expect(out.days[0].quality == .suspect && out.days[0].reasons.names == ["contains_suspect_read"])
    }

    @Test func theCatalogueNamesEveryReasonOnceWithItsSeverity() {
        let names = ValidationReasons.catalogue.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(ValidationReasons(names: names)?.names == names)
        #expect(ValidationReasons(names: ["no_such_rule"]) == nil)
        #expect(ValidationReasons([.rollover, .clockDrift, .spike]).severity == .rejected)
        #expect(ValidationReasons([.rollover, .verificationExpired]).severity == .valid)
    }
}
