import GatewayCore
import GatewayDomain
import Testing

@Suite struct BillingDayTests {
    /// 2026-01-01T00:00:00Z.
    private let newYear = Timestamp(secondsSinceEpoch: 1_767_225_600)

    @Test(
        arguments: [
            // (seconds after 2026-01-01T00:00Z, UTC offset, expected day start relative to the same instant)
            (0, 0, 0),
            (1, 0, 0),
            (86_399, 0, 0),
            (86_400, 0, 86_400),
            (-1, 0, -86_400),
            // UTC+8: the day starts at 16:00Z the evening before.
            (0, 28_800, -28_800),
            (57_599, 28_800, -28_800),
            (57_600, 28_800, 57_600),
            // UTC−5: the day starts at 05:00Z.
            (0, -18_000, -86_400 + 18_000),
            (18_000, -18_000, 18_000),
        ] as [(Int64, Int64, Int64)]
    )
    func dayStartIsTheLocalMidnightAtOrBeforeTheInstant(example: (Int64, Int64, Int64)) {
        let (seconds, utcOffset, expected) = example
        #expect(
            BillingDay.start(of: newYear.adding(seconds: seconds), zone: TimeZoneRules(fixedOffsetSeconds: utcOffset))
                == newYear.adding(seconds: expected)
        )
    }

    @Test func dayStartWorksBeforeTheEpoch() {
        let instant = Timestamp(secondsSinceEpoch: -1)
        #expect(BillingDay.start(of: instant, zone: .utc) == Timestamp(secondsSinceEpoch: -86_400))
    }

    @Test func theValidationWindowStartsTheDayBeforeTheNewData() {
        let dirty = newYear.adding(seconds: 3 * 86_400 + 3_600)
        #expect(
            BillingDay.windowStart(dirtyFrom: dirty, zone: .utc) == newYear.adding(seconds: 2 * 86_400)
        )
    }

    @Test func validAndEstimatedDaysAreBillableSuspectAndRejectedAreNot() {
        #expect(ReadQuality.allCases.filter(BillingDay.isBillable) == [.valid, .estimated])
    }

    @Test func aChangeIsPublishedWhenBillableOrWhenItCorrectsAPublishedDay() {
        #expect(BillingDay.isPublished(.valid, wasPublished: false))
        #expect(BillingDay.isPublished(.estimated, wasPublished: false))
        #expect(!BillingDay.isPublished(.suspect, wasPublished: false))
        #expect(!BillingDay.isPublished(.rejected, wasPublished: false))
        // A published day that turns suspect or rejected is a correction billing must see.
        #expect(BillingDay.isPublished(.suspect, wasPublished: true))
        #expect(BillingDay.isPublished(.rejected, wasPublished: true))
    }
}
