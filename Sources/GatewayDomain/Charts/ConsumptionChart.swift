public import GatewayCore

/// A meter's consumption over whole local days as an SVG chart that marks the leak signatures' evidence: the
/// continuous-flow band, the night minima and their trend, the intervals above the over-flow cut-off, sudden
/// increases, runs that outlasted their flow band's time limit, the reads with flow while the valve was closed, and
/// (when a ticket is given) when the ticket opened.
///
/// Pure and deterministic: the caller passes every datum (no I/O, no clock); the same input gives the same bytes.
/// The marks come from ``ConsumptionFindings``, which applies ``LeakSignatures``' own rules and thresholds.
///
/// Two panels share the time axis: the flow of every interval (m³/h, a step line, as intervals are averages) and
/// per day the lowest interval flow (bars) with the night minima (dots) and their least-squares trend line. Every
/// element a test or a stylesheet may look for has a `class` (`flow`, `mark-continuous-band`,
/// `mark-continuous-floor`, `mark-night-minimum`, `mark-night-trend`, `mark-cutoff`, `mark-spike`,
/// `mark-sudden-increase`, `mark-band-timeout`, `mark-valve-closed`, `mark-ticket`, `alarm`, `no-data`).
public struct ConsumptionChart: Sendable {
    /// An alarm of the meter in the period (a tick at the top of the flow panel).
    public struct Alarm: Sendable, Equatable {
        public var raisedAt: Timestamp
        public var condition: String

        public init(raisedAt: Timestamp, condition: String) {
            self.raisedAt = raisedAt
            self.condition = condition
        }
    }

    /// The ticket the chart explains.
    public struct Ticket: Sendable, Equatable {
        public var id: Int64
        public var condition: String
        public var priority: String
        public var openedAt: Timestamp

        public init(id: Int64, condition: String, priority: String, openedAt: Timestamp) {
            self.id = id
            self.condition = condition
            self.priority = priority
            self.openedAt = openedAt
        }
    }

    /// The fixed geometry (pixels) of the chart.
    public enum Geometry {
        public static let width = 960
        public static let height = 620
        public static let plotLeft = 80.0
        public static let plotRight = 930.0
        public static let flowTop = 92.0
        public static let flowBottom = 322.0
        public static let minimumTop = 392.0
        public static let minimumBottom = 512.0
    }

    /// How the meter is named in the title (`native 00012345`).
    public var meterLabel: String
    public var meter: SignatureMeter
    public var period: ChartPeriod
    public var intervals: [IntervalValue]
    public var reads: [(read: IndexRead, quality: ReadQuality)]
    public var alarms: [Alarm]
    public var ticket: Ticket?
    public var settings: SignatureSettings

    /// Creates a chart.
    /// - Parameters:
    ///   - meterLabel: The meter as the title names it.
    ///   - meter: The meter and premises (size, Qmax, continuous appliance) the signatures need.
    ///   - period: The days shown.
    ///   - intervals: The meter's intervals starting in the period, in start order.
    ///   - reads: Its billing-channel reads in the period with their validated quality, in time order.
    ///   - alarms: Its alarms raised in the period.
    ///   - ticket: The ticket to explain, if any.
    ///   - settings: The signatures' thresholds; their zone is the zone of the days and of every time shown.
    public init(
        meterLabel: String,
        meter: SignatureMeter,
        period: ChartPeriod,
        intervals: [IntervalValue],
        reads: [(read: IndexRead, quality: ReadQuality)],
        alarms: [Alarm],
        ticket: Ticket?,
        settings: SignatureSettings
    ) {
        self.meterLabel = meterLabel
        self.meter = meter
        self.period = period
        self.intervals = intervals
        self.reads = reads
        self.alarms = alarms
        self.ticket = ticket
        self.settings = settings
    }

    /// The marks, found with the signatures' rules.
    public func findings() -> ConsumptionFindings {
        ConsumptionFindings(intervals: intervals, reads: reads, meter: meter, period: period, settings: settings)
    }

    /// The scales the chart draws with.
    public struct Layout: Sendable {
        /// µs since 1970 → x.
        public var time: ChartScale
        /// m³/h → y of the flow panel.
        public var flow: ChartScale
        /// m³/h → y of the daily-minimum panel.
        public var minimum: ChartScale
    }

    /// The scales for some findings.
    public func layout(_ findings: ConsumptionFindings) -> Layout {
        var flowTop = Double(findings.maximumFlow)
        if !findings.spikes.isEmpty, let cutoff = findings.cutoffMillilitresPerHour {
            flowTop = max(flowTop, Double(cutoff))
        }
        var minimumTop = 0.0
        for day in findings.days { minimumTop = max(minimumTop, Double(day.minimumFlow ?? 0)) }
        for night in findings.nights { minimumTop = max(minimumTop, Double(night.minimumMillilitresPerHour)) }
        if let band = findings.continuousBand { minimumTop = max(minimumTop, Double(band.floorMillilitresPerHour)) }
        return Layout(
            time: ChartScale(
                values: Double(period.start.microsecondsSinceEpoch),
                Double(period.end.microsecondsSinceEpoch),
                pixels: Geometry.plotLeft,
                Geometry.plotRight
            ),
            flow: .fromZero(to: flowTop * 1.08 / 1_000_000, pixels: Geometry.flowBottom, Geometry.flowTop),
            minimum: .fromZero(to: minimumTop * 1.15 / 1_000_000, pixels: Geometry.minimumBottom, Geometry.minimumTop)
        )
    }

    /// The period as the title says it.
    var periodText: String {
        let last = period.dayStarts[period.dayStarts.count - 1]
        let days = period.dayStarts.count
        return "\(ChartFormat.localDate(period.start, zone: period.zone)) to "
            + "\(ChartFormat.localDate(last, zone: period.zone)) (\(days) day\(days == 1 ? "" : "s"), "
            + "\(ChartFormat.zoneName(period.zone)))"
    }

    /// One sentence per finding, for the description, the subtitle and the legend.
    public func summary(_ findings: ConsumptionFindings) -> [String] {
        let zone = period.zone
        var lines: [String] = []
        if findings.maximumFlow == 0 && intervals.isEmpty {
            lines.append("No interval data in this period.")
        }
        if let band = findings.continuousBand {
            lines.append(
                "Continuous flow: \(band.days) day\(band.days == 1 ? "" : "s") in a row without a zero interval "
                    + "(\(ChartFormat.localDate(band.start, zone: zone)) to "
                    + "\(ChartFormat.localDate(band.end.adding(seconds: -1), zone: zone))), never below "
                    + "\(ChartFormat.cubicMetresPerHour(band.floorMillilitresPerHour)) m³/h"
                    + (band.isLeak ? "; a suspected leak (\(settings.continuousTicketDays) days)." : ".")
            )
        }
        if let last = findings.nights.last {
            let rising = findings.nights.contains { $0.isRising }
            var line =
                "Night minimum (\(settings.nightStartHour):00–\(settings.nightEndHour):00): last "
                + "\(ChartFormat.cubicMetresPerHour(last.minimumMillilitresPerHour)) m³/h"
            if let trend = findings.nightTrend {
                line += ", trend \(trend.slopePerDay >= 0 ? "+" : "")"
                line += "\(ChartFormat.decimal(trend.slopePerDay / 1_000_000, places: 4)) m³/h per night"
            }
            if rising { line += "; rising \(settings.nightRisingNights + 1) nights in a row (night_flow_rising)" }
            lines.append(line + ".")
        }
        if let cutoff = findings.cutoffMillilitresPerHour, let first = findings.spikes.first {
            lines.append(
                "Over-flow: \(findings.spikes.count) interval\(findings.spikes.count == 1 ? "" : "s") above the "
                    + "cut-off \(ChartFormat.cubicMetresPerHour(cutoff)) m³/h, the first at "
                    + "\(ChartFormat.localTime(first.interval.start, zone: zone)) "
                    + "(\(ChartFormat.cubicMetresPerHour(first.flow)) m³/h)."
            )
        }
        if let first = findings.increases.first {
            let largest = findings.increases.max { $0.flow - $0.previousFlow < $1.flow - $1.previousFlow } ?? first
            lines.append(
                "Sudden increase: on \(findings.increases.count) day\(findings.increases.count == 1 ? "" : "s"), "
                    + "the first at \(ChartFormat.localTime(first.interval.start, zone: zone)) "
                    + "(\(ChartFormat.cubicMetresPerHour(first.previousFlow)) → "
                    + "\(ChartFormat.cubicMetresPerHour(first.flow)) m³/h), the largest "
                    + "+\(ChartFormat.cubicMetresPerHour(largest.flow - largest.previousFlow)) m³/h."
            )
        }
        if let first = findings.bandTimeouts.first {
            let longest = findings.bandTimeouts.max { $0.minutes < $1.minutes } ?? first
            lines.append(
                "Continuous use beyond its flow band's time limit: on \(findings.bandTimeouts.count) "
                    + "day\(findings.bandTimeouts.count == 1 ? "" : "s"), the first until "
                    + "\(ChartFormat.localTime(first.end, zone: zone)) (\(first.minutes) min, limit "
                    + "\(first.limitMinutes) min), the longest \(longest.minutes) min."
            )
        }
        if let first = findings.valveClosedFlows.first {
            let total = findings.valveClosedFlows.reduce(Int64(0)) { $0 + $1.volumeMillilitres }
            lines.append(
                "Flow with the valve closed: \(findings.valveClosedFlows.count) read"
                    + "\(findings.valveClosedFlows.count == 1 ? "" : "s"), the first at "
                    + "\(ChartFormat.localTime(first.readAt, zone: zone)), "
                    + "\(ChartFormat.cubicMetres(total)) m³ in all."
            )
        }
        return lines
    }

    /// Renders the chart.
    /// - Returns: A standalone SVG document (UTF-8 text, no scripts, no external references).
    public func svg() -> String {
        let findings = findings()
        let layout = layout(findings)
        let summary = summary(findings)
        let title = "Consumption of meter \(meterLabel), \(periodText)"
        var description = summary
        if let ticket {
            description.insert(
                "Ticket #\(ticket.id) (\(ticket.condition), \(ticket.priority)) opened "
                    + "\(ChartFormat.localTime(ticket.openedAt, zone: period.zone)).",
                at: 0
            )
        }
        var svg = SVGWriter(
            width: Geometry.width,
            height: Geometry.height,
            title: title,
            description: description.joined(separator: " ")
        )
        svg.element("rect", ["width": "100%", "height": "100%", "fill": "#ffffff"])
        svg.element(
            "text",
            ["x": "20", "y": "28", "font-size": "16", "font-weight": "bold", "fill": "#1a1a1a"],
            text: title
        )
        // Two lines: the ticket and what raised it (the finding its condition stands for), or the first findings.
        var lines = summary
        if let ticket {
            let explained = summary.first { Self.explains(ticket.condition, $0) }
            lines = [
                "Ticket #\(ticket.id) · \(ticket.condition) · \(ticket.priority) · opened "
                    + ChartFormat.localTime(ticket.openedAt, zone: period.zone),
                explained.map { "What raised it: " + $0 } ?? (summary.first ?? ""),
            ]
        }
        for (index, line) in lines.prefix(2).enumerated() {
            svg.element(
                "text",
                [
                    "x": "20", "y": index == 0 ? "48" : "64", "font-size": "12",
                    "fill": index == 1 && ticket != nil ? "#a04000" : "#444444", "class": "subtitle",
                ],
                text: line
            )
        }
        drawFlowPanel(&svg, findings, layout)
        drawMinimumPanel(&svg, findings, layout)
        drawTimeAxis(&svg, layout)
        drawLegend(&svg, findings, layout)
        return svg.finish()
    }

    /// Whether a summary line is the finding a ticket's condition stands for.
    static func explains(_ condition: String, _ line: String) -> Bool {
        switch AlarmCondition(rawValue: condition) {
        case .continuousFlowWarning?, .continuousFlowEscalated?, .continuousFlowLeak?, .tinyFlowLeak?:
            line.hasPrefix("Continuous flow")
        case .continuousFlowTimeout?: line.hasPrefix("Continuous use beyond")
        case .suddenIncrease?: line.hasPrefix("Sudden increase")
        case .nightFlowRising?: line.hasPrefix("Night minimum")
        case .overFlow?, .uncontrolledFlowAfterReopen?: line.hasPrefix("Over-flow")
        case .flowWithValveClosed?: line.hasPrefix("Flow with the valve closed")
        default: false
        }
    }

    // MARK: Panels

    private func drawPanelFrame(
        _ svg: inout SVGWriter,
        top: Double,
        bottom: Double,
        scale: ChartScale,
        heading: String
    ) {
        svg.element(
            "text",
            [
                "x": SVGWriter.number(Geometry.plotLeft), "y": SVGWriter.number(top - 10), "font-weight": "bold",
                "fill": "#1a1a1a",
            ],
            text: heading
        )
        svg.element(
            "rect",
            [
                "x": SVGWriter.number(Geometry.plotLeft), "y": SVGWriter.number(top),
                "width": SVGWriter.number(Geometry.plotRight - Geometry.plotLeft),
                "height": SVGWriter.number(bottom - top), "fill": "#fbfbfb", "stroke": "#b0b0b0",
            ]
        )
        let ticks = scale.ticks(about: 4)
        svg.open("g", ["class": "y-axis", "font-size": "11", "fill": "#333333"])
        for value in ticks.values {
            let y = SVGWriter.number(scale.pixel(value))
            svg.element(
                "line",
                [
                    "x1": SVGWriter.number(Geometry.plotLeft), "x2": SVGWriter.number(Geometry.plotRight),
                    "y1": y, "y2": y, "stroke": "#e2e2e2",
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
    }

    private func drawFlowPanel(_ svg: inout SVGWriter, _ findings: ConsumptionFindings, _ layout: Layout) {
        drawPanelFrame(
            &svg,
            top: Geometry.flowTop,
            bottom: Geometry.flowBottom,
            scale: layout.flow,
            heading: "Flow per interval (m³/h)"
        )
        let x = { (t: Timestamp) in layout.time.pixel(Double(t.microsecondsSinceEpoch)) }
        let y = { (flow: Int64) in layout.flow.pixel(Double(flow) / 1_000_000) }
        // The night window of every day, shaded.
        svg.open("g", ["class": "night-window", "fill": "#eef1f7"])
        for start in period.dayStarts {
            let from = start.adding(seconds: Int64(settings.nightStartHour) * 3600)
            let to = start.adding(seconds: Int64(settings.nightEndHour) * 3600)
            svg.element(
                "rect",
                [
                    "x": SVGWriter.number(x(from)), "y": SVGWriter.number(Geometry.flowTop),
                    "width": SVGWriter.number(max(0, x(to) - x(from))),
                    "height": SVGWriter.number(Geometry.flowBottom - Geometry.flowTop),
                ]
            )
        }
        svg.close("g")
        if let band = findings.continuousBand {
            let top = y(band.floorMillilitresPerHour)
            svg.element(
                "rect",
                [
                    "class": "mark-continuous-band", "x": SVGWriter.number(x(band.start)), "y": SVGWriter.number(top),
                    "width": SVGWriter.number(x(band.end) - x(band.start)),
                    "height": SVGWriter.number(max(Geometry.flowBottom - top, 0)), "fill": "#f5a623",
                    "fill-opacity": "0.35",
                ]
            )
        }
        if intervals.isEmpty {
            noData(&svg, top: Geometry.flowTop, bottom: Geometry.flowBottom)
        } else {
            var path = ""
            var previousEnd: Timestamp?
            for interval in intervals {
                let flow = interval.isEstimated ? 0 : LeakSignatures.flowPerHour(interval)
                let end = interval.start.adding(seconds: Int64(interval.minutes) * 60)
                let level = SVGWriter.number(y(flow))
                if previousEnd != interval.start {
                    path += "M\(SVGWriter.number(x(interval.start))) \(level)"
                } else {
                    path += "V\(level)"
                }
                path += "H\(SVGWriter.number(x(end)))"
                previousEnd = end
            }
            svg.element(
                "path",
                [
                    "class": "flow", "d": path, "fill": "none", "stroke": "#1f5fa8", "stroke-width": "1.2",
                    "stroke-linejoin": "round",
                ]
            )
        }
        if let cutoff = findings.cutoffMillilitresPerHour {
            let level = layout.flow.pixel(Double(cutoff) / 1_000_000)
            if level >= Geometry.flowTop {
                svg.element(
                    "line",
                    [
                        "class": "mark-cutoff", "x1": SVGWriter.number(Geometry.plotLeft),
                        "x2": SVGWriter.number(Geometry.plotRight), "y1": SVGWriter.number(level),
                        "y2": SVGWriter.number(level), "stroke": "#c0392b", "stroke-dasharray": "6 4",
                        "data-flow-m3h": ChartFormat.cubicMetresPerHour(cutoff),
                    ]
                )
                svg.element(
                    "text",
                    [
                        "x": SVGWriter.number(Geometry.plotRight - 4), "y": SVGWriter.number(level - 4),
                        "text-anchor": "end", "fill": "#c0392b", "font-size": "11", "stroke": "#ffffff",
                        "stroke-width": "3", "paint-order": "stroke",
                    ],
                    text: "over-flow cut-off \(ChartFormat.cubicMetresPerHour(cutoff)) m³/h"
                )
            }
        }
        for spike in findings.spikes {
            svg.element(
                "circle",
                [
                    "class": "mark-spike", "cx": SVGWriter.number(x(spike.interval.start)),
                    "cy": SVGWriter.number(y(spike.flow)), "r": "5", "fill": "none", "stroke": "#c0392b",
                    "stroke-width": "2", "data-start": spike.interval.start.description,
                    "data-flow-m3h": ChartFormat.cubicMetresPerHour(spike.flow),
                ],
                tooltip: "Over-flow at \(ChartFormat.localTime(spike.interval.start, zone: period.zone)): "
                    + "\(ChartFormat.cubicMetresPerHour(spike.flow)) m³/h"
            )
        }
        for timeout in findings.bandTimeouts {
            // A bar along the top of the panel over the run that outlasted its band's limit.
            let level = SVGWriter.number(Geometry.flowTop + 12)
            svg.element(
                "line",
                [
                    "class": "mark-band-timeout", "x1": SVGWriter.number(x(timeout.start)),
                    "x2": SVGWriter.number(max(x(timeout.end), x(timeout.start) + 2)), "y1": level, "y2": level,
                    "stroke": "#16a085", "stroke-width": "4", "data-start": timeout.start.description,
                    "data-end": timeout.end.description, "data-minutes": String(timeout.minutes),
                ],
                tooltip: "Continuous use for \(timeout.minutes) min in one flow band (limit \(timeout.limitMinutes) "
                    + "min) until \(ChartFormat.localTime(timeout.end, zone: period.zone))"
            )
        }
        for increase in findings.increases {
            // An upward triangle on the interval that rose.
            let cx = x(increase.interval.start)
            let cy = y(increase.flow)
            svg.element(
                "path",
                [
                    "class": "mark-sudden-increase",
                    "d": "M\(SVGWriter.number(cx - 5)) \(SVGWriter.number(cy + 4))H\(SVGWriter.number(cx + 5))"
                        + "L\(SVGWriter.number(cx)) \(SVGWriter.number(cy - 5))Z",
                    "fill": "#e67e22", "stroke": "#ffffff", "stroke-width": "1",
                    "data-start": increase.interval.start.description,
                    "data-flow-m3h": ChartFormat.cubicMetresPerHour(increase.flow),
                    "data-previous-flow-m3h": ChartFormat.cubicMetresPerHour(increase.previousFlow),
                ],
                tooltip: "Sudden increase at \(ChartFormat.localTime(increase.interval.start, zone: period.zone)): "
                    + "\(ChartFormat.cubicMetresPerHour(increase.previousFlow)) → "
                    + "\(ChartFormat.cubicMetresPerHour(increase.flow)) m³/h"
            )
        }
        for flow in findings.valveClosedFlows {
            let at = SVGWriter.number(x(flow.readAt))
            svg.element(
                "line",
                [
                    "class": "mark-valve-closed", "x1": at, "x2": at, "y1": SVGWriter.number(Geometry.flowTop),
                    "y2": SVGWriter.number(Geometry.flowBottom), "stroke": "#8e44ad", "stroke-width": "2",
                    "data-read-at": flow.readAt.description,
                ],
                tooltip: "Valve closed, register advanced \(ChartFormat.cubicMetres(flow.volumeMillilitres)) m³ "
                    + "by \(ChartFormat.localTime(flow.readAt, zone: period.zone))"
            )
            // Left of the line near the right edge, so the label stays inside the plot.
            let isNearRight = x(flow.readAt) > Geometry.plotRight - 160
            svg.element(
                "text",
                [
                    "x": SVGWriter.number(x(flow.readAt) + (isNearRight ? -4 : 4)),
                    "y": SVGWriter.number(Geometry.flowTop + 24), "text-anchor": isNearRight ? "end" : "start",
                    "fill": "#8e44ad", "font-size": "11", "stroke": "#ffffff", "stroke-width": "3",
                    "paint-order": "stroke",
                ],
                text: "valve closed, +\(ChartFormat.cubicMetres(flow.volumeMillilitres)) m³"
            )
        }
        svg.open("g", ["class": "alarms"])
        for alarm in alarms.prefix(500) {
            guard alarm.raisedAt >= period.start, alarm.raisedAt < period.end else { continue }
            let at = x(alarm.raisedAt)
            svg.element(
                "path",
                [
                    "class": "alarm",
                    "d": "M\(SVGWriter.number(at - 4)) \(SVGWriter.number(Geometry.flowTop))"
                        + "H\(SVGWriter.number(at + 4))L\(SVGWriter.number(at)) \(SVGWriter.number(Geometry.flowTop + 7))Z",
                    "fill": "#d35400",
                ],
                tooltip: "\(alarm.condition) at \(ChartFormat.localTime(alarm.raisedAt, zone: period.zone))"
            )
        }
        svg.close("g")
        drawTicket(&svg, layout, top: Geometry.flowTop, bottom: Geometry.flowBottom, label: true)
    }

    private func drawMinimumPanel(_ svg: inout SVGWriter, _ findings: ConsumptionFindings, _ layout: Layout) {
        drawPanelFrame(
            &svg,
            top: Geometry.minimumTop,
            bottom: Geometry.minimumBottom,
            scale: layout.minimum,
            heading: "Lowest interval flow per day and night minimum (m³/h)"
        )
        let x = { (t: Timestamp) in layout.time.pixel(Double(t.microsecondsSinceEpoch)) }
        let y = { (flow: Int64) in layout.minimum.pixel(Double(flow) / 1_000_000) }
        if let band = findings.continuousBand {
            let level = y(band.floorMillilitresPerHour)
            svg.element(
                "rect",
                [
                    "class": "mark-continuous-band", "x": SVGWriter.number(x(band.start)), "y": SVGWriter.number(level),
                    "width": SVGWriter.number(x(band.end) - x(band.start)),
                    "height": SVGWriter.number(max(Geometry.minimumBottom - level, 0)), "fill": "#f5a623",
                    "fill-opacity": "0.35",
                ]
            )
            svg.element(
                "line",
                [
                    "class": "mark-continuous-floor", "x1": SVGWriter.number(x(band.start)),
                    "x2": SVGWriter.number(x(band.end)), "y1": SVGWriter.number(level), "y2": SVGWriter.number(level),
                    "stroke": "#d35400", "stroke-width": "2",
                    "data-flow-m3h": ChartFormat.cubicMetresPerHour(band.floorMillilitresPerHour),
                ]
            )
            svg.element(
                "text",
                [
                    "x": SVGWriter.number(x(band.start) + 4), "y": SVGWriter.number(level - 5), "fill": "#a04000",
                    "font-size": "11", "stroke": "#ffffff", "stroke-width": "3", "paint-order": "stroke",
                ],
                text: "never below \(ChartFormat.cubicMetresPerHour(band.floorMillilitresPerHour)) m³/h for "
                    + "\(band.days) day\(band.days == 1 ? "" : "s")"
            )
        }
        if findings.days.allSatisfy({ $0.minimumFlow == nil }) {
            noData(&svg, top: Geometry.minimumTop, bottom: Geometry.minimumBottom)
        }
        svg.open("g", ["class": "daily-minimum", "fill": "#7f9cc0"])
        for day in findings.days {
            guard let minimum = day.minimumFlow, minimum > 0 else { continue }
            let left = x(day.start)
            let right = x(period.dayEnd(day.start))
            let width = right - left
            svg.element(
                "rect",
                [
                    "x": SVGWriter.number(left + width * 0.2), "y": SVGWriter.number(y(minimum)),
                    "width": SVGWriter.number(width * 0.6),
                    "height": SVGWriter.number(max(Geometry.minimumBottom - y(minimum), 0)),
                ],
                tooltip: "\(ChartFormat.localDate(day.start, zone: period.zone)): lowest interval "
                    + "\(ChartFormat.cubicMetresPerHour(minimum)) m³/h"
            )
        }
        svg.close("g")
        let dayMiddle = { (index: Double) in
            layout.time.pixel(Double(period.start.microsecondsSinceEpoch))
                + (index + 0.5) * (Geometry.plotRight - Geometry.plotLeft) / Double(period.dayStarts.count)
        }
        if let trend = findings.nightTrend, let first = findings.nights.first, let last = findings.nights.last {
            let rising = findings.nights.contains { $0.isRising }
            let from = Double(first.dayIndex)
            let to = Double(last.dayIndex)
            svg.element(
                "line",
                [
                    "class": "mark-night-trend", "x1": SVGWriter.number(dayMiddle(from)),
                    "y1": SVGWriter.number(layout.minimum.pixel(trend.value(atDay: from) / 1_000_000)),
                    "x2": SVGWriter.number(dayMiddle(to)),
                    "y2": SVGWriter.number(layout.minimum.pixel(trend.value(atDay: to) / 1_000_000)),
                    "stroke": rising ? "#c0392b" : "#2e7d32", "stroke-width": "2", "stroke-dasharray": "8 4",
                    "data-slope-m3h-per-night": ChartFormat.decimal(trend.slopePerDay / 1_000_000, places: 6),
                ]
            )
        }
        for night in findings.nights {
            svg.element(
                "circle",
                [
                    "class": night.isRising ? "mark-night-minimum rising" : "mark-night-minimum",
                    "cx": SVGWriter.number(dayMiddle(Double(night.dayIndex))),
                    "cy": SVGWriter.number(y(night.minimumMillilitresPerHour)), "r": night.isRising ? "4.5" : "3.5",
                    "fill": night.isRising ? "#c0392b" : "#2e7d32",
                    "data-flow-m3h": ChartFormat.cubicMetresPerHour(night.minimumMillilitresPerHour),
                ],
                tooltip: "Night of \(ChartFormat.localDate(night.dayStart, zone: period.zone)): minimum "
                    + "\(ChartFormat.cubicMetresPerHour(night.minimumMillilitresPerHour)) m³/h"
            )
        }
        drawTicket(&svg, layout, top: Geometry.minimumTop, bottom: Geometry.minimumBottom, label: false)
    }

    private func drawTicket(_ svg: inout SVGWriter, _ layout: Layout, top: Double, bottom: Double, label: Bool) {
        guard let ticket, ticket.openedAt >= period.start, ticket.openedAt <= period.end else { return }
        let at = layout.time.pixel(Double(ticket.openedAt.microsecondsSinceEpoch))
        svg.element(
            "line",
            [
                "class": "mark-ticket", "x1": SVGWriter.number(at), "x2": SVGWriter.number(at),
                "y1": SVGWriter.number(top), "y2": SVGWriter.number(bottom), "stroke": "#222222", "stroke-width": "1.5",
                "stroke-dasharray": "3 3",
            ]
        )
        guard label else { return }
        svg.element(
            "text",
            [
                "x": SVGWriter.number(at - 4), "y": SVGWriter.number(top + 12), "text-anchor": "end", "fill": "#222222",
                "font-size": "11",
            ],
            text: "ticket #\(ticket.id) opened"
        )
    }

    private func noData(_ svg: inout SVGWriter, top: Double, bottom: Double) {
        svg.element(
            "text",
            [
                "class": "no-data", "x": SVGWriter.number((Geometry.plotLeft + Geometry.plotRight) / 2),
                "y": SVGWriter.number((top + bottom) / 2), "text-anchor": "middle", "font-size": "14",
                "fill": "#777777",
            ],
            text: "no interval data"
        )
    }

    private func drawTimeAxis(_ svg: inout SVGWriter, _ layout: Layout) {
        let every = max(1, (period.dayStarts.count + 9) / 10)
        svg.open("g", ["class": "x-axis", "font-size": "11", "fill": "#333333"])
        for (index, start) in period.dayStarts.enumerated() {
            let at = SVGWriter.number(layout.time.pixel(Double(start.microsecondsSinceEpoch)))
            let labelled = index % every == 0
            for (top, bottom) in [
                (Geometry.flowTop, Geometry.flowBottom), (Geometry.minimumTop, Geometry.minimumBottom),
            ] {
                svg.element(
                    "line",
                    [
                        "x1": at, "x2": at, "y1": SVGWriter.number(top),
                        "y2": SVGWriter.number(bottom + (labelled ? 5 : 0)),
                        "stroke": labelled ? "#cfcfcf" : "#ececec",
                    ]
                )
            }
            guard labelled else { continue }
            let date = period.zone.date(of: start)
            let label = "\(date.month < 10 ? "0" : "")\(date.month)-\(date.day < 10 ? "0" : "")\(date.day)"
            for bottom in [Geometry.flowBottom, Geometry.minimumBottom] {
                svg.element(
                    "text",
                    ["x": at, "y": SVGWriter.number(bottom + 17), "text-anchor": "middle"],
                    text: label
                )
            }
        }
        svg.close("g")
        svg.element(
            "text",
            [
                "x": SVGWriter.number(Geometry.plotRight), "y": SVGWriter.number(Geometry.minimumBottom + 32),
                "text-anchor": "end", "font-size": "11", "fill": "#555555",
            ],
            text: "local days, \(ChartFormat.zoneName(period.zone)); shaded: night window "
                + "\(settings.nightStartHour):00–\(settings.nightEndHour):00"
        )
    }

    private func drawLegend(_ svg: inout SVGWriter, _ findings: ConsumptionFindings, _ layout: Layout) {
        var entries: [(kind: String, color: String, label: String)] = [
            ("line", "#1f5fa8", "interval flow"), ("bar", "#7f9cc0", "lowest interval flow of the day"),
        ]
        if !findings.nights.isEmpty { entries.append(("dot", "#2e7d32", "night minimum")) }
        if findings.nightTrend != nil {
            let rising = findings.nights.contains { $0.isRising }
            entries.append(("dash", rising ? "#c0392b" : "#2e7d32", rising ? "night minimum rising" : "night trend"))
        }
        if findings.continuousBand != nil { entries.append(("band", "#f5a623", "continuous flow (no zero interval)")) }
        if let cutoff = findings.cutoffMillilitresPerHour {
            let shown = layout.flow.pixel(Double(cutoff) / 1_000_000) >= Geometry.flowTop
            entries.append(
                (
                    "dash", "#c0392b",
                    shown
                        ? "over-flow cut-off"
                        : "over-flow cut-off \(ChartFormat.cubicMetresPerHour(cutoff)) m³/h (above the scale)"
                )
            )
        }
        if !findings.spikes.isEmpty { entries.append(("ring", "#c0392b", "over-flow interval")) }
        if !findings.increases.isEmpty { entries.append(("rise", "#e67e22", "sudden increase")) }
        if !findings.bandTimeouts.isEmpty { entries.append(("bar-line", "#16a085", "flow band time limit passed")) }
        if !findings.valveClosedFlows.isEmpty { entries.append(("line", "#8e44ad", "flow with the valve closed")) }
        if !alarms.isEmpty { entries.append(("triangle", "#d35400", "alarm")) }
        if ticket != nil { entries.append(("dash", "#222222", "ticket opened")) }
        svg.open("g", ["class": "legend", "font-size": "11", "fill": "#222222"])
        // Entries flow left to right in slots of 235 px, a long label taking as many slots as its text needs
        // (about 5.8 px a character at 11 px), so no label runs into the next entry.
        var left = 20.0
        var top = Geometry.minimumBottom + 52
        for entry in entries {
            let slots = ((26 + 5.8 * Double(entry.label.count) + 6) / 235).rounded(.up)
            if left > 20, left + slots * 235 > Double(Geometry.width) {
                left = 20
                top += 20
            }
            legendSwatch(&svg, kind: entry.kind, color: entry.color, left: left, middle: top)
            svg.element("text", ["x": SVGWriter.number(left + 26), "y": SVGWriter.number(top + 4)], text: entry.label)
            left += slots * 235
        }
        svg.close("g")
    }
}

/// Draws one legend swatch (shared by the charts).
func legendSwatch(_ svg: inout SVGWriter, kind: String, color: String, left: Double, middle: Double) {
    switch kind {
    case "bar", "band":
        svg.element(
            "rect",
            [
                "x": SVGWriter.number(left), "y": SVGWriter.number(middle - 6), "width": "20", "height": "12",
                "fill": color, "fill-opacity": kind == "band" ? "0.35" : "1",
            ]
        )
    case "dot":
        svg.element(
            "circle",
            ["cx": SVGWriter.number(left + 10), "cy": SVGWriter.number(middle), "r": "3.5", "fill": color]
        )
    case "ring":
        svg.element(
            "circle",
            [
                "cx": SVGWriter.number(left + 10), "cy": SVGWriter.number(middle), "r": "5", "fill": "none",
                "stroke": color, "stroke-width": "2",
            ]
        )
    case "rise":
        svg.element(
            "path",
            [
                "d": "M\(SVGWriter.number(left + 5)) \(SVGWriter.number(middle + 4))H\(SVGWriter.number(left + 15))"
                    + "L\(SVGWriter.number(left + 10)) \(SVGWriter.number(middle - 5))Z", "fill": color,
            ]
        )
    case "bar-line":
        svg.element(
            "line",
            [
                "x1": SVGWriter.number(left), "x2": SVGWriter.number(left + 20), "y1": SVGWriter.number(middle),
                "y2": SVGWriter.number(middle), "stroke": color, "stroke-width": "4",
            ]
        )
    case "triangle":
        svg.element(
            "path",
            [
                "d": "M\(SVGWriter.number(left + 6)) \(SVGWriter.number(middle - 4))H\(SVGWriter.number(left + 14))"
                    + "L\(SVGWriter.number(left + 10)) \(SVGWriter.number(middle + 3))Z", "fill": color,
            ]
        )
    default:
        svg.element(
            "line",
            [
                "x1": SVGWriter.number(left), "x2": SVGWriter.number(left + 20), "y1": SVGWriter.number(middle),
                "y2": SVGWriter.number(middle), "stroke": color, "stroke-width": "2",
                "stroke-dasharray": kind == "dash" ? "6 3" : "none",
            ]
        )
    }
}
