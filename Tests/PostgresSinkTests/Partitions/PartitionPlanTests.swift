import Testing

@testable import PostgresSink

/// The pure rules of `storage maintain`: which monthly partitions to create and which to drop.
struct PartitionPlanTests {
    private let december = PartitionMonth(year: 2026, month: 12)

    private func month(_ year: Int, _ month: Int) -> PartitionMonth { PartitionMonth(year: year, month: month) }

    @Test func monthsCountAcrossYearsAndPrintPadded() {
        #expect(december.adding(months: 1) == month(2027, 1))
        #expect(month(2027, 1).adding(months: -13) == month(2025, 12))
        #expect(month(987, 3).suffix == "0987_03" && month(2027, 1).firstDay == "2027-01-01")
        #expect(PartitionMonth.parse(bound: "2027-01-01 00:00:00+00") == month(2027, 1))
        #expect(PartitionMonth.parse(bound: "2027-01-01") == month(2027, 1))
        #expect(PartitionMonth.parse(bound: "2027-01-02") == nil)
        #expect(PartitionMonth.parse(bound: "2027-01-01 06:00:00+00") == nil)
        #expect(PartitionMonth.parse(bound: "2027-13-01") == nil)
    }

    @Test func readsPartitionBoundsAsPostgreSQLPrintsThem() throws {
        let history = try #require(PartitionMaintenance.parse(bound: "FOR VALUES FROM (MINVALUE) TO ('2027-01-01 00:00:00+00')"))
        #expect(history.lower == nil && history.upper == month(2027, 1))
        let day = try #require(PartitionMaintenance.parse(bound: "FOR VALUES FROM ('2027-01-01') TO ('2027-02-01')"))
        #expect(day.lower == month(2027, 1) && day.upper == month(2027, 2))
        #expect(PartitionMaintenance.parse(bound: "FOR VALUES FROM ('2027-01-15') TO ('2027-02-01')") == nil)
        #expect(PartitionMaintenance.parse(bound: "FOR VALUES IN (1)") == nil)
    }

    @Test func createsTheMissingMonthsAheadAndTheMonthsFoundInDefault() {
        let plan = PartitionPlan(
            table: "readings",
            current: december,
            monthsAhead: 2,
            retentionMonths: 0,
            partitions: [
                RangePartition(name: "readings_history", lower: nil, upper: month(2027, 1)),
                RangePartition(name: "readings_2027_01", lower: month(2027, 1), upper: month(2027, 2)),
            ],
            monthsInDefault: [month(2027, 2), month(2031, 7)]
        )
        #expect(
            plan.actions == [
                .create(name: "readings_2027_02", month: month(2027, 2)),
                .create(name: "readings_2031_07", month: month(2031, 7)),
            ]
        )
    }

    @Test func retentionDropsOnlyPartitionsWhollyBeforeTheCutoff() {
        let partitions = [
            RangePartition(name: "readings_history", lower: month(2020, 1), upper: month(2026, 7)),
            RangePartition(name: "readings_2026_07", lower: month(2026, 7), upper: month(2026, 8)),
            RangePartition(name: "readings_2026_08", lower: month(2026, 8), upper: month(2026, 9)),
            RangePartition(name: "readings_2026_12", lower: december, upper: month(2027, 1)),
        ]
        let keepAll = PartitionPlan(
            table: "readings", current: december, monthsAhead: 0, retentionMonths: 0, partitions: partitions,
            monthsInDefault: [month(2001, 1)]
        )
        #expect(keepAll.actions == [.create(name: "readings_2001_01", month: month(2001, 1))])
        // Keep 4 whole months before December: August onwards.
        let four = PartitionPlan(
            table: "readings", current: december, monthsAhead: 0, retentionMonths: 4, partitions: partitions,
            monthsInDefault: [month(2001, 1)]
        )
        #expect(
            four.actions == [
                .create(name: "readings_2001_01", month: month(2001, 1)),
                .drop(name: "readings_history", lower: month(2020, 1), upper: month(2026, 7)),
                .drop(name: "readings_2026_07", lower: month(2026, 7), upper: month(2026, 8)),
                .drop(name: "readings_2001_01", lower: month(2001, 1), upper: month(2001, 2)),
            ]
        )
        // The smallest retention never reaches the current month's partition.
        let one = PartitionPlan(
            table: "readings", current: december, monthsAhead: 0, retentionMonths: 1, partitions: partitions,
            monthsInDefault: []
        )
        #expect(!one.actions.contains { if case .drop(let name, _, _) = $0 { name == "readings_2026_12" } else { false } })
        #expect(one.actions.count == 3)
    }
}
