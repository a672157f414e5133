import GatewayCore
import GatewayDomain
import Testing

@Suite struct ConsumptionChartTests {
    private let day: Int64 = 86_400

    private func meter(size: Int64? = 4000, continuous: Bool = false) -> SignatureMeter {
        SignatureMeter(
            meterID: 1,
            source: .native,
            sizeMillicubicPerHour: size,
            qmaxMillilitresPerHour: nil,
            hasContinuousAppliance: continuous
        )
    }

    private func chart(
        days: Int,
        intervals: [IntervalValue],
        reads: [(read: IndexRead, quality: ReadQuality)] = [],
        meter: SignatureMeter? = nil,
        label: String = "native 00012345",
        ticket: ConsumptionChart.Ticket? = nil
    ) -> ConsumptionChart {
        ConsumptionChart(
            meterLabel: label,
            meter: meter ?? self.meter(),
            period: ChartPeriod(
                days: days,
                endingWithDayOf: chartEpoch.adding(seconds: Int64(days - 1) * day),
                zone: .utc
            ),
            intervals: intervals,
            reads: reads,
            alarms: [],
            ticket: ticket,
            settings: SignatureSettings()
        )
    }

    /// The x of an instant in a period of `days` days from ``chartEpoch``, computed from the geometry alone.
    private func x(_ instant: Timestamp, days: Int) -> Double {
        let fraction = Double(instant.secondsSinceEpoch - chartEpoch.secondsSinceEpoch) / Double(Int64(days) * day)
        return ConsumptionChart.Geometry.plotLeft
            + fraction * (ConsumptionChart.Geometry.plotRight - ConsumptionChart.Geometry.plotLeft)
    }

    @Test func theSpikeMarkSitsAtTheSpikesIntervalAndFlow() throws {
        // G4: cut-off 180 % of 4 m³/h = 7.2 m³/h. One hour of 8 m³ at hour 30; 0.1 m³/h otherwise.
        let intervals = hourlyIntervals(from: chartEpoch, hours: 72) { (hour: Int) -> Int64 in
            hour == 30 ? 8_000_000 : 100_000
        }
        let svg = chart(days: 3, intervals: intervals).svg()
        let parsed = try #require(ParsedSVG.parse(svg))
        let spikes = parsed.withClass("mark-spike")
        try #require(spikes.count == 1)
        let cx = try #require(parsed.number(spikes[0], "cx"))
        #expect(abs(cx - x(chartEpoch.adding(seconds: 30 * 3600), days: 3)) < 0.051)
        // The flow scale tops at 10 m³/h (8 × 1.08 rounded up to a nice value): 8 m³/h is 80 % up the panel.
        let cy = try #require(parsed.number(spikes[0], "cy"))
        #expect(abs(cy - (322 - 0.8 * 230)) < 0.051)
        #expect(spikes[0].attributes["data-flow-m3h"] == "8.000")
        let cutoff = try #require(parsed.withClass("mark-cutoff").first)
        #expect(cutoff.attributes["data-flow-m3h"] == "7.200")
        #expect(abs((parsed.number(cutoff, "y1") ?? 0) - (322 - 0.72 * 230)) < 0.051)
    }

    @Test func noSpikeWithoutAnIntervalAboveTheCutoff() throws {
        let intervals = hourlyIntervals(from: chartEpoch, hours: 72) { _ in 7_200_000 }
        let parsed = try #require(ParsedSVG.parse(chart(days: 3, intervals: intervals).svg()))
        #expect(parsed.withClass("mark-spike").isEmpty)
    }

    @Test func theContinuousFlowBandLiesAtTheLowestFlowOfTheRun() throws {
        // 31 days, never zero: 20 L/h at midnight rising 10 L/h per hour, one 12 L/h hour on day 4.
        let intervals = hourlyIntervals(from: chartEpoch, hours: 31 * 24) { (hour: Int) -> Int64 in
            if hour == 100 { return 12_000 }
            return 20_000 + Int64(hour % 24) * 10_000
        }
        let chart = chart(days: 31, intervals: intervals)
        let findings = chart.findings()
        let band = try #require(findings.continuousBand)
        #expect(band.floorMillilitresPerHour == 12_000)
        #expect(band.days == 31 && band.isLeak)
        let parsed = try #require(ParsedSVG.parse(chart.svg()))
        let floor = try #require(parsed.withClass("mark-continuous-floor").first)
        #expect(floor.attributes["data-flow-m3h"] == "0.012")
        // The minimum panel tops at 0.04 m³/h (night minima 0.03 × 1.15 rounded up): 0.012 is 30 % up its 120 px.
        #expect(abs((parsed.number(floor, "y1") ?? 0) - (512 - 0.3 * 120)) < 0.051)
        #expect(abs((parsed.number(floor, "y1") ?? 0) - chart.layout(findings).minimum.pixel(0.012)) < 0.051)
        #expect(abs((parsed.number(floor, "x1") ?? 0) - x(chartEpoch, days: 31)) < 0.051)
        #expect(parsed.allText.contains("never below 0.012 m³/h for 31 days"))
    }

    @Test func aZeroIntervalBreaksTheRunAndAContinuousApplianceSuppressesIt() throws {
        let intervals = hourlyIntervals(from: chartEpoch, hours: 31 * 24) { (hour: Int) -> Int64 in
            if hour == 250 { return 0 }
            return 20_000 + Int64(hour % 24) * 10_000
        }
        let parsed = try #require(ParsedSVG.parse(chart(days: 31, intervals: intervals).svg()))
        let bands = parsed.withClass("mark-continuous-band")
        try #require(!bands.isEmpty)
        // The zero is on day 10 (hours 240…263): the run starts with day 11 and is 20 days long.
        for band in bands {
            #expect(abs((parsed.number(band, "x") ?? 0) - x(chartEpoch.adding(seconds: 11 * day), days: 31)) < 0.051)
        }
        #expect(parsed.allText.contains("never below 0.020 m³/h for 20 days"))
        let suppressed = chart(days: 31, intervals: intervals, meter: meter(continuous: true))
        #expect(try #require(ParsedSVG.parse(suppressed.svg())).withClass("mark-continuous-band").isEmpty)
    }

    @Test func aDayWithAGapNeitherExtendsNorBreaksTheRun() {
        // Day 2 lacks its last hour: like the validator's estimated fill, it is incomplete.
        let intervals = hourlyIntervals(from: chartEpoch, hours: 5 * 24) { _ in 50_000 }.filter {
            $0.start != chartEpoch.adding(seconds: 71 * 3600)
        }
        let findings = chart(days: 5, intervals: intervals).findings()
        #expect(findings.days.map(\.isZeroFree) == [true, true, nil, true, true])
        #expect(findings.continuousBand?.days == 4)
    }

    @Test func risingNightMinimaAreMarkedWithTheirTrend() throws {
        // Nights (01:00–05:00) at 10, 15, 20, 25, 30 L/h; 200 L/h by day.
        let intervals = hourlyIntervals(from: chartEpoch, hours: 5 * 24) { (hour: Int) -> Int64 in
            guard (1..<5).contains(hour % 24) else { return 200_000 }
            return 10_000 + Int64(hour / 24) * 5_000
        }
        let chart = chart(days: 5, intervals: intervals)
        let parsed = try #require(ParsedSVG.parse(chart.svg()))
        let nights = parsed.withClass("mark-night-minimum")
        #expect(nights.map { $0.attributes["data-flow-m3h"] } == ["0.010", "0.015", "0.020", "0.025", "0.030"])
        #expect(parsed.withClass("rising").count == 5)
        let trend = try #require(parsed.withClass("mark-night-trend").first)
        #expect(trend.attributes["data-slope-m3h-per-night"] == "0.005000")
        #expect((parsed.number(trend, "y2") ?? 0) < (parsed.number(trend, "y1") ?? 0))
    }

    @Test func flowWithTheValveClosedIsMarkedAtTheRead() throws {
        let first = chartEpoch.adding(seconds: 10 * 3600)
        let second = chartEpoch.adding(seconds: 34 * 3600)
        let reads: [(read: IndexRead, quality: ReadQuality)] = [
            (
                IndexRead(
                    readAt: first,
                    receivedAt: first,
                    kind: .periodic,
                    volumeMillilitres: 1_000_000,
                    valve: .closed
                ), .valid
            ),
            (
                IndexRead(
                    readAt: second,
                    receivedAt: second,
                    kind: .periodic,
                    volumeMillilitres: 1_250_000,
                    valve: .closed
                ), .valid
            ),
        ]
        let parsed = try #require(ParsedSVG.parse(chart(days: 3, intervals: [], reads: reads).svg()))
        let marks = parsed.withClass("mark-valve-closed")
        try #require(marks.count == 1)
        #expect(abs((parsed.number(marks[0], "x1") ?? 0) - x(second, days: 3)) < 0.051)
        #expect(parsed.allText.contains("valve closed, +0.250 m³"))
    }

    @Test(arguments: [0, 1]) func emptyOrOnePointDataRendersAChartThatSaysSo(points: Int) throws {
        let intervals = hourlyIntervals(from: chartEpoch, hours: points) { _ in 0 }
        let ticket = ConsumptionChart.Ticket(id: 7, condition: "over_flow", priority: "P0", openedAt: chartEpoch)
        let svg = chart(days: 1, intervals: intervals, meter: meter(size: nil), ticket: ticket).svg()
        let parsed = try #require(ParsedSVG.parse(svg))
        #expect(parsed.elements.first?.name == "svg")
        #expect(parsed.elements.contains { $0.name == "title" && $0.text.contains("native 00012345") })
        #expect(parsed.elements.contains { $0.name == "desc" })
        if points == 0 { #expect(parsed.withClass("no-data").first?.text == "no interval data") }
        for element in parsed.elements {
            for name in ["x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "width", "height", "r"] {
                guard let value = element.attributes[name], value != "100%" else { continue }
                #expect(Double(value)?.isFinite == true, "\(element.name) \(name)=\(value)")
            }
        }
        #expect(!svg.lowercased().contains("nan") && !svg.contains("inf"))
    }

    @Test func everyTextIsEscaped() throws {
        let label = "<script>alert('x')</script> & \"meter\""
        let svg = chart(days: 2, intervals: [], label: label).svg()
        #expect(!svg.contains("<script>"))
        let parsed = try #require(ParsedSVG.parse(svg))
        #expect(parsed.elements.contains { $0.name == "title" && $0.text.contains(label) })
        #expect(!parsed.elements.contains { $0.name == "script" })
    }

    @Test func theSameInputGivesTheSameBytes() {
        let intervals = hourlyIntervals(from: chartEpoch, hours: 48) { (hour: Int) -> Int64 in Int64(hour) * 1_000 }
        #expect(chart(days: 2, intervals: intervals).svg() == chart(days: 2, intervals: intervals).svg())
    }

    @Test func numbersAreFormattedWithoutLocaleOrExponent() {
        #expect(ChartFormat.decimal(0.0125, places: 3) == "0.013")
        #expect(ChartFormat.decimal(-1.25, places: 1) == "-1.3")
        #expect(ChartFormat.decimal(1e-9, places: 2) == "0.00")
        #expect(ChartFormat.decimal(-0.04, places: 1, trimmingZeros: true) == "0")
        #expect(ChartFormat.decimal(.nan, places: 1) == "0")
        #expect(ChartFormat.decimal(.infinity, places: 1) == "0")
        #expect(ChartFormat.decimal(1_234_567.5, places: 0) == "1234568")
    }
}

@Suite struct DistrictBalanceChartTests {
    @Test func theImbalancedDayIsMarkedAboveItsToleranceBand() throws {
        let period = ChartPeriod(days: 3, endingWithDayOf: chartEpoch.adding(seconds: 2 * 86_400), zone: .utc)
        func day(_ index: Int64, supply: Int64, imbalanced: Bool) -> DistrictBalanceChart.Day {
            DistrictBalanceChart.Day(
                dayStart: chartEpoch.adding(seconds: index * 86_400),
                supplyMillilitres: supply,
                customersMillilitres: 20_000_000,
                toleranceMillilitres: 1_215_000,
                customerMeters: 2,
                customersReported: index == 2 ? 1 : 2,
                isImbalanced: imbalanced
            )
        }
        let chart = DistrictBalanceChart(
            district: "north <1>",
            supplyLabel: "native SUP",
            period: period,
            days: [
                day(0, supply: 20_500_000, imbalanced: false), day(1, supply: 23_000_000, imbalanced: true),
                day(2, supply: 22_000_000, imbalanced: false),
            ]
        )
        let parsed = try #require(ParsedSVG.parse(chart.svg()))
        let marks = parsed.withClass("mark-imbalance")
        try #require(marks.count == 1)
        #expect(marks[0].attributes["data-day"] == "2026-11-02")
        #expect(marks[0].attributes["data-difference-m3"] == "3.000")
        // The middle of the second of three days.
        #expect(abs((parsed.number(marks[0], "cx") ?? 0) - (80 + 1.5 / 3 * 850)) < 0.051)
        // Judged days only (the third lacks a customer): their bands reach customers + tolerance.
        let bands = parsed.elements.filter { $0.attributes["data-upper-m3"] != nil }
        #expect(bands.map { $0.attributes["data-upper-m3"] } == ["21.215", "21.215"])
        #expect(parsed.withClass("incomplete").count == 1)
        #expect(parsed.elements.contains { $0.name == "title" && $0.text.contains("District north <1> balance") })
    }

    @Test func noDaysRendersAChartThatSaysSo() throws {
        let period = ChartPeriod(days: 30, endingWithDayOf: chartEpoch, zone: .utc)
        let parsed = try #require(
            ParsedSVG.parse(DistrictBalanceChart(district: "d", supplyLabel: nil, period: period, days: []).svg())
        )
        #expect(parsed.withClass("no-data").first?.text == "no balance data")
    }
}
