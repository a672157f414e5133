import GatewayCore
import GatewayDomain
import Testing

/// Each leak signature with a series that shows it and one that does not.
@Suite struct LeakSignaturesTests {
    /// 2026-01-01 00:00 UTC.
    private let t0 = Timestamp(secondsSinceEpoch: 1_767_225_600)
    private let g4 = SignatureMeter(
        meterID: 1,
        source: .native,
        sizeMillicubicPerHour: 4000,
        qmaxMillilitresPerHour: 6_000_000,
        hasContinuousAppliance: false
    )

    /// A day of 48 half-hour intervals with these volumes (ml), repeated to 48 values.
    private func day(_ number: Int, _ volumes: [Int64], valve: ValveState = .open) -> DailyDeterminant {
        let start = t0.adding(seconds: Int64(number) * 86_400)
        let intervals = (0..<48).map {
            IntervalValue(
                start: start.adding(seconds: Int64($0) * 1800),
                minutes: 30,
                volumeMillilitres: volumes[$0 % volumes.count],
                isEstimated: false
            )
        }
        return validDay(start: start, intervals: intervals, valve: valve)
    }

    private func find(
        _ days: [DailyDeterminant],
        meter: SignatureMeter? = nil,
        previousRun: Int = 0,
        nights: [Int64] = [],
        reads: [(read: IndexRead, quality: ReadQuality)] = []
    ) -> [String] {
        LeakSignatures.find(
            meter: meter ?? g4,
            days: days,
            previousRun: previousRun,
            previousNightMinimums: nights,
            reads: reads,
            receivedAt: t0,
            settings: SignatureSettings(),
            policy: .serviceCommitments
        ).map { "\($0.condition.rawValue)/\($0.priority.rawValue)" }
    }

    @Test func aDayWithoutAZeroIntervalWarnsSevenDaysEscalateThirtyDaysOpenATicket() {
        // 2 L per half hour all day: a tiny continuous flow (4 L/h, below every flow band).
        let leaking = day(0, [2_000])
        #expect(find([leaking]) == ["continuous_flow_warning/P2"])
        #expect(find([leaking], previousRun: 6) == ["continuous_flow_escalated/P2"])
        #expect(find([leaking], previousRun: 29) == ["continuous_flow_leak/P2"])
        #expect(find([leaking], previousRun: 12).isEmpty)  // between the steps: nothing new
        // One zero interval resets the run; a premises with a pilot burner is never flagged.
        #expect(find([day(0, [2_000, 0])], previousRun: 29).isEmpty)
        // Estimated intervals are no evidence: a gap-filled day neither extends nor breaks the run.
        var estimated = leaking
        estimated.intervals = estimated.intervals.map {
            var interval = $0
            interval.isEstimated = true
            return interval
        }
        #expect(find([estimated], previousRun: 29).isEmpty)
        #expect(find([estimated, leaking], previousRun: 28).isEmpty)
        #expect(find([estimated, leaking], previousRun: 29) == ["continuous_flow_leak/P2"])
        var pilot = g4
        pilot.hasContinuousAppliance = true
        #expect(find([leaking], meter: pilot, previousRun: 29).isEmpty)
        #expect(AlarmCondition.continuousFlowWarning.rawValue == "continuous_flow_warning")
        #expect(!TicketPolicy.serviceCommitments.opensTicket(.continuousFlowWarning, isCleared: false))
        #expect(TicketPolicy.serviceCommitments.opensTicket(.continuousFlowLeak, isCleared: false))
    }

    @Test func flowAboveTheTotalFlowCutoffIsAnOverFlow() {
        // G4: cut-off 1.8 × 4 = 7.2 m³/h but Qmax 6 m³/h is lower: 3.1 m³ in 30 min = 6.2 m³/h trips it.
        let alarms = find([day(0, [0, 3_100_000, 0, 0])])
        #expect(alarms.contains("over_flow/P0"))
        #expect(!find([day(0, [0, 2_900_000, 0, 0])]).contains("over_flow/P0"))
        // The valve confirmed closed: a controlled escape, P1.
        #expect(find([day(0, [0, 3_100_000, 0, 0], valve: .closed)]).contains("over_flow/P1"))
    }

    @Test func aJumpAboveTheIncreaseCutoffIsASuddenIncrease() {
        // Cut-off 1.4 × 4 = 5.6 m³/h: from 0 to 2.9 m³ per half hour (5.8 m³/h).
        #expect(find([day(0, [0, 2_900_000, 0, 0])]).contains("sudden_increase/P1"))
        #expect(!find([day(0, [0, 2_700_000, 0, 0])]).contains("sudden_increase/P1"))
    }

    @Test func useBeyondItsFlowBandsTimeLimitTimesOut() {
        // 1.5 m³/h (band from 1 m³/h, 4 h) for 4.5 h, then nothing.
        let long = Array(repeating: Int64(750_000), count: 9) + Array(repeating: 0, count: 39)
        #expect(find([day(0, long)]).contains("continuous_flow_timeout/P2"))
        let short = Array(repeating: Int64(750_000), count: 8) + Array(repeating: 0, count: 40)
        #expect(!find([day(0, short)]).contains("continuous_flow_timeout/P2"))
        // Six hours of heating at 0.75 m³/h is within the 12 h of the lowest band.
        let heating = Array(repeating: Int64(375_000), count: 12) + Array(repeating: 0, count: 36)
        #expect(!find([day(0, heating)]).contains("continuous_flow_timeout/P2"))
    }

    @Test func aMinimumNightFlowRisingThreeNightsRunningIsFlagged() {
        // Nights (01:00–05:00 UTC) with minima 12, 14, 16 L/h after a 10 L/h night.
        func night(_ number: Int, _ litresPerHour: Int64) -> DailyDeterminant {
            day(number, [litresPerHour * 500])
        }
        let rising = find([night(0, 12), night(1, 14), night(2, 16)], nights: [10_000])
        #expect(rising.contains("night_flow_rising/P2"))
        let falling = find([night(0, 12), night(1, 11), night(2, 16)], nights: [10_000])
        #expect(!falling.contains("night_flow_rising/P2"))
    }

    @Test func flowWhileTheValveReportsClosedIsAnUncontrolledEscape() {
        func read(_ seconds: Int64, _ volume: Int64, _ valve: ValveState) -> (read: IndexRead, quality: ReadQuality) {
            (
                IndexRead(
                    readAt: t0.adding(seconds: seconds),
                    receivedAt: t0.adding(seconds: seconds),
                    kind: .periodic,
                    volumeMillilitres: volume,
                    valve: valve
                ), .valid
            )
        }
        #expect(
            find([], reads: [read(0, 1_000, .closed), read(3600, 1_500, .closed)]) == ["flow_with_valve_closed/P0"]
        )
        #expect(find([], reads: [read(0, 1_000, .closed), read(3600, 1_000, .closed)]).isEmpty)
        #expect(find([], reads: [read(0, 1_000, .open), read(3600, 1_500, .closed)]).isEmpty)
    }
}
