public import GatewayCore

/// A district's balance per billing day as an SVG chart: what its supply meter measured against the sum of its
/// customer meters, with the band the combined tolerance allows; the days the balance check found a
/// `network_leak_suspected` are marked.
///
/// Pure and deterministic like ``ConsumptionChart``. The per-day figures and the verdict come from the store's
/// district-balance statement, the one the validator's balance check runs, so the chart shows exactly what raised
/// (or did not raise) the alarm. Classes: `supply`, `customers`, `tolerance-band`, `mark-imbalance`,
/// `incomplete`, `no-data`.
public struct DistrictBalanceChart: Sendable {
    /// One billing day of the district.
    public struct Day: Sendable, Equatable {
        /// The day's first instant.
        public var dayStart: Timestamp
        /// The supply meter's billable volume of the day (ml).
        public var supplyMillilitres: Int64
        /// The sum of the customer meters' billable volumes that day (ml).
        public var customersMillilitres: Int64
        /// The combined tolerance (ml): each meter's volume × its class MPE.
        public var toleranceMillilitres: Int64
        /// Customer meters in the district, and how many of them have a billable day.
        public var customerMeters: Int
        public var customersReported: Int
        /// The balance check's verdict: supply − customers above the tolerance, every customer reporting.
        public var isImbalanced: Bool

        public init(
            dayStart: Timestamp,
            supplyMillilitres: Int64,
            customersMillilitres: Int64,
            toleranceMillilitres: Int64,
            customerMeters: Int,
            customersReported: Int,
            isImbalanced: Bool
        ) {
            self.dayStart = dayStart
            self.supplyMillilitres = supplyMillilitres
            self.customersMillilitres = customersMillilitres
            self.toleranceMillilitres = toleranceMillilitres
            self.customerMeters = customerMeters
            self.customersReported = customersReported
            self.isImbalanced = isImbalanced
        }

        /// Whether every customer meter has a billable day (only then is the day judged).
        public var isComplete: Bool { customerMeters > 0 && customersReported == customerMeters }
    }

    /// Fixed geometry (pixels).
    public enum Geometry {
        public static let width = 960
        public static let height = 480
        public static let plotLeft = 80.0
        public static let plotRight = 930.0
        public static let plotTop = 96.0
        public static let plotBottom = 372.0
    }

    public var district: String
    /// The supply meter as the title names it (`native SUP-1`), when there is one.
    public var supplyLabel: String?
    public var period: ChartPeriod
    public var days: [Day]

    /// Creates a chart.
    /// - Parameters:
    ///   - district: The district.
    ///   - supplyLabel: Its supply meter, as the title names it.
    ///   - period: The days shown.
    ///   - days: The balance of the days that have one, in any order; days outside the period are ignored.
    public init(district: String, supplyLabel: String?, period: ChartPeriod, days: [Day]) {
        self.district = district
        self.supplyLabel = supplyLabel
        self.period = period
        self.days = days.filter { period.dayIndex(of: $0.dayStart) != nil }.sorted { $0.dayStart < $1.dayStart }
    }

    /// The volume scale (m³ per day → y).
    public var volumeScale: ChartScale {
        var top = 0.0
        for day in days {
            top = max(
                top,
                Double(day.supplyMillilitres),
                Double(day.customersMillilitres) + Double(day.toleranceMillilitres)
            )
        }
        return .fromZero(to: top * 1.1 / 1_000_000, pixels: Geometry.plotBottom, Geometry.plotTop)
    }

    /// The x of the middle of the day holding `instant`.
    public func dayMiddle(_ instant: Timestamp) -> Double {
        let index = Double(period.dayIndex(of: instant) ?? 0)
        return Geometry.plotLeft + (index + 0.5) * (Geometry.plotRight - Geometry.plotLeft)
            / Double(period.dayStarts.count)
    }

    /// Renders the chart.
    /// - Returns: A standalone SVG document.
    public func svg() -> String {
        let zone = period.zone
        let last = period.dayStarts[period.dayStarts.count - 1]
        let title =
            "District \(district) balance, \(ChartFormat.localDate(period.start, zone: zone)) to "
            + "\(ChartFormat.localDate(last, zone: zone)) (\(period.dayStarts.count) days, \(ChartFormat.zoneName(zone)))"
        let imbalanced = days.filter(\.isImbalanced)
        // Two lines: who and how many days, then the last day above the tolerance with its figures.
        var headline: [String] = []
        if days.isEmpty { headline.append("No balance data in this period.") }
        if let supplyLabel { headline.append("Supply meter \(supplyLabel).") }
        var detail = ""
        if let worst = imbalanced.last {
            headline.append(
                "\(imbalanced.count) day\(imbalanced.count == 1 ? "" : "s") above the tolerance (network_leak_suspected)."
            )
            detail =
                "Last \(ChartFormat.localDate(worst.dayStart, zone: zone)): supply "
                + "\(ChartFormat.cubicMetres(worst.supplyMillilitres)) m³ against customers "
                + "\(ChartFormat.cubicMetres(worst.customersMillilitres)) m³ ± "
                + "\(ChartFormat.cubicMetres(worst.toleranceMillilitres)) m³."
        } else {
            headline.append("No day above the tolerance.")
        }
        let summary = headline + (detail.isEmpty ? [] : [detail])
        var svg = SVGWriter(
            width: Geometry.width,
            height: Geometry.height,
            title: title,
            description: summary.joined(separator: " ")
        )
        svg.element("rect", ["width": "100%", "height": "100%", "fill": "#ffffff"])
        svg.element(
            "text",
            ["x": "20", "y": "28", "font-size": "16", "font-weight": "bold", "fill": "#1a1a1a"],
            text: title
        )
        svg.element(
            "text",
            ["x": "20", "y": "48", "fill": "#444444", "class": "subtitle"],
            text: headline.joined(separator: " ")
        )
        if !detail.isEmpty {
            svg.element("text", ["x": "20", "y": "64", "fill": "#c0392b", "class": "subtitle"], text: detail)
        }
        let scale = volumeScale
        let y = { (millilitres: Int64) in scale.pixel(Double(millilitres) / 1_000_000) }
        svg.element(
            "text",
            [
                "x": SVGWriter.number(Geometry.plotLeft), "y": SVGWriter.number(Geometry.plotTop - 10),
                "font-weight": "bold", "fill": "#1a1a1a",
            ],
            text: "Volume per billing day (m³)"
        )
        svg.element(
            "rect",
            [
                "x": SVGWriter.number(Geometry.plotLeft), "y": SVGWriter.number(Geometry.plotTop),
                "width": SVGWriter.number(Geometry.plotRight - Geometry.plotLeft),
                "height": SVGWriter.number(Geometry.plotBottom - Geometry.plotTop), "fill": "#fbfbfb",
                "stroke": "#b0b0b0",
            ]
        )
        let ticks = scale.ticks(about: 5)
        svg.open("g", ["class": "y-axis", "font-size": "11", "fill": "#333333"])
        for value in ticks.values {
            let level = SVGWriter.number(scale.pixel(value))
            svg.element(
                "line",
                [
                    "x1": SVGWriter.number(Geometry.plotLeft), "x2": SVGWriter.number(Geometry.plotRight), "y1": level,
                    "y2": level, "stroke": "#e2e2e2",
                ]
            )
            svg.element(
                "text",
                [
                    "x": SVGWriter.number(Geometry.plotLeft - 6), "y": SVGWriter.number(scale.pixel(value) + 4),
                    "text-anchor": "end",
                ],
                text: ChartFormat.decimal(value, places: ticks.places)
            )
        }
        svg.close("g")
        let dayWidth = (Geometry.plotRight - Geometry.plotLeft) / Double(period.dayStarts.count)
        let every = max(1, (period.dayStarts.count + 9) / 10)
        svg.open("g", ["class": "x-axis", "font-size": "11", "fill": "#333333"])
        for (index, start) in period.dayStarts.enumerated() where index % every == 0 {
            let middle = SVGWriter.number(Geometry.plotLeft + (Double(index) + 0.5) * dayWidth)
            let date = zone.date(of: start)
            svg.element(
                "line",
                [
                    "x1": middle, "x2": middle, "y1": SVGWriter.number(Geometry.plotBottom),
                    "y2": SVGWriter.number(Geometry.plotBottom + 5), "stroke": "#999999",
                ]
            )
            svg.element(
                "text",
                ["x": middle, "y": SVGWriter.number(Geometry.plotBottom + 18), "text-anchor": "middle"],
                text: "\(date.month < 10 ? "0" : "")\(date.month)-\(date.day < 10 ? "0" : "")\(date.day)"
            )
        }
        svg.close("g")
        if days.isEmpty {
            svg.element(
                "text",
                [
                    "class": "no-data", "x": SVGWriter.number((Geometry.plotLeft + Geometry.plotRight) / 2),
                    "y": SVGWriter.number((Geometry.plotTop + Geometry.plotBottom) / 2), "text-anchor": "middle",
                    "font-size": "14", "fill": "#777777",
                ],
                text: "no balance data"
            )
        }
        // The tolerance band around the customers' sum, per judged day.
        svg.open("g", ["class": "tolerance-band", "fill": "#2e7d32", "fill-opacity": "0.18"])
        for day in days where day.isComplete {
            let middle = dayMiddle(day.dayStart)
            let high = y(day.customersMillilitres + day.toleranceMillilitres)
            let low = y(max(day.customersMillilitres - day.toleranceMillilitres, 0))
            svg.element(
                "rect",
                [
                    "x": SVGWriter.number(middle - dayWidth * 0.45), "y": SVGWriter.number(high),
                    "width": SVGWriter.number(dayWidth * 0.9), "height": SVGWriter.number(max(low - high, 0)),
                    "data-day": zone.date(of: day.dayStart).description,
                    "data-upper-m3": ChartFormat.cubicMetres(day.customersMillilitres + day.toleranceMillilitres),
                ]
            )
        }
        svg.close("g")
        // Lines join consecutive days; the customers' line skips a day not every customer reported (its sum is
        // partial), which keeps only its hollow dot.
        var customers = ""
        var supply = ""
        var previousIndex: Int?
        var previousComplete: Int?
        for day in days {
            let index = period.dayIndex(of: day.dayStart) ?? 0
            let middle = SVGWriter.number(dayMiddle(day.dayStart))
            supply += "\(previousIndex == index - 1 ? "L" : "M")\(middle) \(SVGWriter.number(y(day.supplyMillilitres)))"
            previousIndex = index
            guard day.isComplete else { continue }
            customers +=
                "\(previousComplete == index - 1 ? "L" : "M")\(middle) \(SVGWriter.number(y(day.customersMillilitres)))"
            previousComplete = index
        }
        if !days.isEmpty {
            svg.element(
                "path",
                [
                    "class": "customers", "d": customers.isEmpty ? "M0 0" : customers, "fill": "none",
                    "stroke": "#2e7d32", "stroke-width": "2",
                ]
            )
            svg.element(
                "path",
                ["class": "supply", "d": supply, "fill": "none", "stroke": "#1f5fa8", "stroke-width": "2"]
            )
        }
        for day in days {
            let middle = dayMiddle(day.dayStart)
            let date = ChartFormat.localDate(day.dayStart, zone: zone)
            svg.element(
                "circle",
                [
                    "class": day.isComplete ? "customers-day" : "customers-day incomplete",
                    "cx": SVGWriter.number(middle), "cy": SVGWriter.number(y(day.customersMillilitres)), "r": "3",
                    "fill": day.isComplete ? "#2e7d32" : "#ffffff", "stroke": "#2e7d32",
                ],
                tooltip: "\(date): customers \(ChartFormat.cubicMetres(day.customersMillilitres)) m³ ("
                    + "\(day.customersReported) of \(day.customerMeters) meters reported)"
            )
            svg.element(
                "circle",
                [
                    "class": "supply-day", "cx": SVGWriter.number(middle),
                    "cy": SVGWriter.number(y(day.supplyMillilitres)), "r": "3", "fill": "#1f5fa8",
                ],
                tooltip: "\(date): supply \(ChartFormat.cubicMetres(day.supplyMillilitres)) m³, difference "
                    + "\(ChartFormat.cubicMetres(day.supplyMillilitres - day.customersMillilitres)) m³, tolerance "
                    + "\(ChartFormat.cubicMetres(day.toleranceMillilitres)) m³"
            )
            if day.isImbalanced {
                svg.element(
                    "circle",
                    [
                        "class": "mark-imbalance", "cx": SVGWriter.number(middle),
                        "cy": SVGWriter.number(y(day.supplyMillilitres)), "r": "7", "fill": "none",
                        "stroke": "#c0392b", "stroke-width": "2.5", "data-day": zone.date(of: day.dayStart).description,
                        "data-difference-m3": ChartFormat.cubicMetres(day.supplyMillilitres - day.customersMillilitres),
                    ]
                )
                // Every day's difference when the days are wide enough for it, else the last one's (tooltips hold all).
                guard dayWidth >= 48 || day.dayStart == imbalanced.last?.dayStart else { continue }
                svg.element(
                    "text",
                    [
                        "x": SVGWriter.number(middle), "y": SVGWriter.number(y(day.supplyMillilitres) - 11),
                        "text-anchor": "middle", "fill": "#c0392b", "font-size": "11", "stroke": "#ffffff",
                        "stroke-width": "3", "paint-order": "stroke",
                    ],
                    text: "+\(ChartFormat.cubicMetres(day.supplyMillilitres - day.customersMillilitres, places: 2)) m³"
                )
            }
        }
        let entries: [(kind: String, color: String, label: String)] = [
            ("line", "#1f5fa8", "supply meter"), ("line", "#2e7d32", "sum of customer meters"),
            ("band", "#2e7d32", "combined tolerance (class MPE)"), ("ring", "#c0392b", "network_leak_suspected"),
        ]
        svg.open("g", ["class": "legend", "font-size": "11", "fill": "#222222"])
        for (index, entry) in entries.enumerated() {
            let left = 20.0 + Double(index) * 235
            let middle = Geometry.plotBottom + 50
            legendSwatch(&svg, kind: entry.kind, color: entry.color, left: left, middle: middle)
            svg.element(
                "text",
                ["x": SVGWriter.number(left + 26), "y": SVGWriter.number(middle + 4)],
                text: entry.label
            )
        }
        svg.close("g")
        svg.element(
            "text",
            [
                "x": SVGWriter.number(Geometry.plotRight), "y": SVGWriter.number(Geometry.plotBottom + 80),
                "text-anchor": "end", "font-size": "11", "fill": "#555555",
            ],
            text: "A day is judged once every customer meter has a billable day; hollow dots: not every customer "
                + "reported."
        )
        return svg.finish()
    }
}
