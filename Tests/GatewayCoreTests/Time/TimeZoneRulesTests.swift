import GatewayCore
import Testing

/// Europe/Berlin from 2025 to 2027 as the tz database has it: CET (+01:00), CEST (+02:00) from the last Sunday of
/// March 01:00Z to the last Sunday of October 01:00Z.
let berlin2025To2027 = TimeZoneRules(
    identifier: "Europe/Berlin",
    initialOffsetSeconds: 3600,
    transitions: [
        (1_743_296_400, 7200), (1_761_440_400, 3600),  // 2025-03-30, 2025-10-26
        (1_774_746_000, 7200), (1_792_890_000, 3600),  // 2026-03-29, 2026-10-25
        (1_806_195_600, 7200), (1_824_944_400, 3600),  // 2027-03-28, 2027-10-31
    ]
)

@Suite struct TimeZoneRulesTests {
    private let berlin = berlin2025To2027

    private func local(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> Int64 {
        CivilTime(year: year, month: month, day: day, hour: hour, minute: minute).utcSeconds
    }

    @Test func aFixedOffsetIsTheSameAllYear() {
        let china = TimeZoneRules(fixedOffsetSeconds: 28_800)
        #expect(china.identifier == "+08:00")
        #expect(china.isFixed)
        #expect(china.offsetSeconds(at: 0) == 28_800 && china.offsetSeconds(at: 1_792_890_000) == 28_800)
        #expect(china.resolve(localSeconds: local(2026, 10, 25, 2, 30)) == .unique(local(2026, 10, 24, 18, 30)))
        #expect(TimeZoneRules(fixedOffsetSeconds: -19_800).identifier == "-05:30")
        #expect(TimeZoneRules.utc.identifier == "+00:00")
    }

    @Test func offsetsChangeAtTheTransitionInstant() {
        #expect(berlin.offsetSeconds(at: 1_774_746_000 - 1) == 3600)
        #expect(berlin.offsetSeconds(at: 1_774_746_000) == 7200)
        #expect(berlin.offsetSeconds(at: 1_792_890_000 - 1) == 7200)
        #expect(berlin.offsetSeconds(at: 1_792_890_000) == 3600)
        // Outside the table the first and last offsets hold.
        #expect(berlin.offsetSeconds(at: 0) == 3600)
        #expect(berlin.offsetSeconds(at: 4_000_000_000) == 3600)
    }

    @Test func theHourAfterClocksGoBackIsRepeatedAndTheOneTheySkipDoesNotExist() {
        // 2026-10-25: 03:00 CEST becomes 02:00 CET, so 02:30 happens at 00:30Z and again at 01:30Z.
        #expect(
            berlin.resolve(localSeconds: local(2026, 10, 25, 2, 30))
                == .repeated(earlier: local(2026, 10, 25, 0, 30), later: local(2026, 10, 25, 1, 30))
        )
        #expect(berlin.resolve(localSeconds: local(2026, 10, 25, 1, 59)) == .unique(local(2026, 10, 24, 23, 59)))
        #expect(berlin.resolve(localSeconds: local(2026, 10, 25, 3, 0)) == .unique(local(2026, 10, 25, 2, 0)))
        // 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:00…02:59 never happen.
        #expect(berlin.resolve(localSeconds: local(2026, 3, 29, 2, 0)) == .skipped(transition: 1_774_746_000))
        #expect(berlin.resolve(localSeconds: local(2026, 3, 29, 2, 59)) == .skipped(transition: 1_774_746_000))
        #expect(berlin.resolve(localSeconds: local(2026, 3, 29, 1, 59)) == .unique(local(2026, 3, 29, 0, 59)))
        #expect(berlin.resolve(localSeconds: local(2026, 3, 29, 3, 0)) == .unique(local(2026, 3, 29, 1, 0)))
    }

    @Test func daysAcrossSummerTimeChangesLast23And25Hours() {
        let spring = berlin.startOfDay(CivilDate(year: 2026, month: 3, day: 29))
        #expect(spring.secondsSinceEpoch == local(2026, 3, 28, 23))
        #expect(berlin.startOfNextDay(after: spring).secondsSinceEpoch - spring.secondsSinceEpoch == 23 * 3600)
        let autumn = berlin.startOfDay(CivilDate(year: 2026, month: 10, day: 25))
        #expect(autumn.secondsSinceEpoch == local(2026, 10, 24, 22))
        #expect(berlin.startOfNextDay(after: autumn).secondsSinceEpoch - autumn.secondsSinceEpoch == 25 * 3600)
        let ordinary = berlin.startOfDay(CivilDate(year: 2026, month: 7, day: 1))
        #expect(berlin.startOfNextDay(after: ordinary).secondsSinceEpoch - ordinary.secondsSinceEpoch == 24 * 3600)
        // Any instant of the day finds its start, and its date.
        let lastSecond = Timestamp(secondsSinceEpoch: local(2026, 10, 25, 22, 59) + 59)
        #expect(berlin.startOfDay(containing: lastSecond) == autumn)
        #expect(berlin.date(of: lastSecond) == CivilDate(year: 2026, month: 10, day: 25))
        #expect(
            berlin.date(of: Timestamp(secondsSinceEpoch: local(2026, 10, 25, 23)))
                == CivilDate(year: 2026, month: 10, day: 26)
        )
    }

    @Test func aDayWhoseMidnightIsSkippedStartsWhenTheClocksJump() {
        // A zone that moves from −04:00 to −03:00 at local midnight (as America/Santiago does in September).
        let jump: Int64 = local(2026, 9, 6, 4)  // 00:00 at −04:00
        let zone = TimeZoneRules(
            identifier: "Test/MidnightJump",
            initialOffsetSeconds: -14_400,
            transitions: [(jump, -10_800)]
        )
        #expect(zone.resolve(localSeconds: local(2026, 9, 6)) == .skipped(transition: jump))
        #expect(zone.startOfDay(CivilDate(year: 2026, month: 9, day: 6)).secondsSinceEpoch == jump)
        let previous = zone.startOfDay(CivilDate(year: 2026, month: 9, day: 5))
        #expect(zone.startOfNextDay(after: previous).secondsSinceEpoch == jump)
        #expect(jump - previous.secondsSinceEpoch == 24 * 3600)
        #expect(zone.startOfNextDay(after: Timestamp(secondsSinceEpoch: jump)).secondsSinceEpoch - jump == 23 * 3600)
    }

    @Test func postgresReadsNamesAsTheyAreAndFixedOffsetsAsPOSIXZones() {
        #expect(berlin.postgresName == "Europe/Berlin")
        #expect(TimeZoneRules(fixedOffsetSeconds: 28_800).postgresName == "<+0800>-08:00")
        #expect(TimeZoneRules(fixedOffsetSeconds: -19_800).postgresName == "<-0530>+05:30")
    }
}
