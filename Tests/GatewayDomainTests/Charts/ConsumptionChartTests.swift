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

    /// What ``LeakSignatures/find`` raises on the same intervals, grouped into UTC days as the validator hands
    /// them over: (condition, raised at).
    private func signatureAlarms(_ intervals: [IntervalValue], days: Int) -> [(String, Timestamp)] {
        let determinants = (0..<days).map { index in
            let start = chartEpoch.adding(seconds: Int64(index) * day)
            return validDay(
                start: start,
                intervals: intervals.filter { $0.start >= start && $0.start < start.adding(seconds: day) }
            )
        }
        return LeakSignatures.find(
            meter: meter(),
            days: determinants,
            previousRun: 0,
            previousNightMinimums: [],
            reads: [],
            receivedAt: chartEpoch,
            settings: SignatureSettings(),
            policy: .serviceCommitments
        ).map { ($0.condition.rawValue, $0.raisedAt) }
    }

    /// A ticket of `condition` on this chart names `line` as what raised it.
    private func expectExplained(_ condition: String, by line: String, days: Int, intervals: [IntervalValue]) throws {
        let ticket = ConsumptionChart.Ticket(id: 7, condition: condition, priority: "P2", openedAt: chartEpoch)
        let parsed = try #require(ParsedSVG.parse(chart(days: days, intervals: intervals, ticket: ticket).svg()))
        let subtitles = parsed.withClass("subtitle").map(\.text)
        #expect(subtitles.contains("What raised it: " + line), "\(subtitles)")
    }

    @Test func aSuddenIncreaseIsMarkedWhereTheSignatureRaisesIt() throws {
        // G4: a rise of more than 140 % of 4 m³/h (5.6 m³/h) between two intervals. Day 1 jumps 0.5 → 6.5 m³/h at
        // hour 30 (and back: falling is no finding); day 2 rises 0.5 → 5.5 m³/h, below the limit.
        let intervals = hourlyIntervals(from: chartEpoch, hours: 72) { (hour: Int) -> Int64 in
            switch hour {
            case 30: 6_500_000
            case 54: 5_500_000
            default: 500_000
            }
        }
        let built = chart(days: 3, intervals: intervals)
        let parsed = try #require(ParsedSVG.parse(built.svg()))
        let marks = parsed.withClass("mark-sudden-increase")
        try #require(marks.count == 1)
        let at = chartEpoch.adding(seconds: 30 * 3600)
        #expect(marks[0].attributes["data-start"] == at.description)
        #expect(marks[0].attributes["data-flow-m3h"] == "6.500")
        #expect(marks[0].attributes["data-previous-flow-m3h"] == "0.500")
        let raised = signatureAlarms(intervals, days: 3).filter { $0.0 == "sudden_increase" }
        #expect(raised.map(\.1) == [at])
        let line = try #require(built.summary(built.findings()).first { $0.hasPrefix("Sudden increase") })
        #expect(line.contains("on 1 day") && line.contains("0.500 → 6.500 m³/h"))
        try expectExplained("sudden_increase", by: line, days: 3, intervals: intervals)
        #expect(parsed.elements.contains { $0.name == "text" && $0.text == "sudden increase" })
    }

    @Test func aRunBeyondItsFlowBandsLimitIsMarkedWhereTheSignatureRaisesIt() throws {
        // 1.5 m³/h is in the band from 1 m³/h, limit 240 min: hours 10–14 of day 0 (five hours) pass it at the end
        // of hour 14 (300 min); day 1 holds the same flow for four hours only.
        let intervals = hourlyIntervals(from: chartEpoch, hours: 48) { (hour: Int) -> Int64 in
            (10...14).contains(hour) || (34...37).contains(hour) ? 1_500_000 : 0
        }
        let built = chart(days: 2, intervals: intervals)
        let parsed = try #require(ParsedSVG.parse(built.svg()))
        let marks = parsed.withClass("mark-band-timeout")
        try #require(marks.count == 1)
        let end = chartEpoch.adding(seconds: 15 * 3600)
        #expect(marks[0].attributes["data-start"] == chartEpoch.adding(seconds: 10 * 3600).description)
        #expect(marks[0].attributes["data-end"] == end.description)
        #expect(marks[0].attributes["data-minutes"] == "300")
        let raised = signatureAlarms(intervals, days: 2).filter { $0.0 == "continuous_flow_timeout" }
        #expect(raised.map(\.1) == [end])
        let line = try #require(built.summary(built.findings()).first { $0.hasPrefix("Continuous use beyond") })
        #expect(line.contains("300 min, limit 240 min"))
        try expectExplained("continuous_flow_timeout", by: line, days: 2, intervals: intervals)
        // A gap inside the run breaks it, as the validator's estimated fill breaks the signature's run.
        let gapped = intervals.filter { $0.start != chartEpoch.adding(seconds: 12 * 3600) }
        let regapped = try #require(ParsedSVG.parse(chart(days: 2, intervals: gapped).svg()))
        #expect(regapped.withClass("mark-band-timeout").isEmpty)
        // Premises with a continuous appliance: no such finding.
        let appliance = ConsumptionFindings(
            intervals: intervals,
            reads: [],
            meter: meter(continuous: true),
            period: ChartPeriod(days: 2, endingWithDayOf: chartEpoch.adding(seconds: day), zone: .utc),
            settings: SignatureSettings()
        )
        #expect(appliance.bandTimeouts.isEmpty)
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
