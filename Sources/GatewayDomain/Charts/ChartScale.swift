public import GatewayCore

/// A linear map from values to pixels, with "nice" ticks (1, 2 or 5 × a power of ten).
public struct ChartScale: Sendable, Equatable {
    /// The value at ``pixelLow`` and at ``pixelHigh``.
    public let valueLow: Double
    public let valueHigh: Double
    public let pixelLow: Double
    public let pixelHigh: Double

    /// A scale over [low, high]; an empty or non-finite range becomes [low, low + 1] so nothing divides by zero.
    public init(values low: Double, _ high: Double, pixels pixelLow: Double, _ pixelHigh: Double) {
        let low = low.isFinite ? low : 0
        let high = high.isFinite && high > low ? high : low + 1
        self.valueLow = low
        self.valueHigh = high
        self.pixelLow = pixelLow
        self.pixelHigh = pixelHigh
    }

    /// The pixel of a value (values outside the range map outside the pixel range).
    public func pixel(_ value: Double) -> Double {
        pixelLow + (value - valueLow) / (valueHigh - valueLow) * (pixelHigh - pixelLow)
    }

    /// A scale from zero to a "nice" value at or above `maximum` (1, 2, 2.5 or 5 × a power of ten), so the top tick
    /// is the top of the plot.
    public static func fromZero(to maximum: Double, pixels pixelLow: Double, _ pixelHigh: Double) -> ChartScale {
        ChartScale(values: 0, niceCeiling(maximum), pixels: pixelLow, pixelHigh)
    }

    /// Ticks from ``valueLow`` to ``valueHigh`` in a 1-2-5 step giving about `count` of them.
    /// - Returns: The tick values and the decimals their labels need.
    public func ticks(about count: Int = 5) -> (values: [Double], places: Int) {
        let span = valueHigh - valueLow
        let step = Self.niceStep(span / Double(max(count, 1)))
        var values: [Double] = []
        var index = (valueLow / step).rounded(.up)
        while index * step <= valueHigh + step * 1e-9, values.count < 50 {
            values.append(index * step)
            index += 1
        }
        var places = 0
        var unit = 1.0
        while unit > step * 1.0000001, places < 6 {
            unit /= 10
            places += 1
        }
        if step / unit != (step / unit).rounded() { places = min(places + 1, 6) }
        return (values, places)
    }

    static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        var power = 1.0
        while power * 10 <= raw { power *= 10 }
        while power > raw { power /= 10 }
        let fraction = raw / power
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * power
    }

    static func niceCeiling(_ value: Double) -> Double {
        guard value.isFinite, value > 0 else { return 1 }
        var power = 1.0
        while power * 10 <= value { power *= 10 }
        while power > value { power /= 10 }
        for multiple in [1.0, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10] where multiple * power >= value * 0.999_999 {
            return multiple * power
        }
        return 10 * power
    }
}

/// A chart's period: whole local days of a zone, from the start of the first to the end of the last.
public struct ChartPeriod: Sendable, Equatable {
    /// The first instant shown (a local midnight).
    public let start: Timestamp
    /// The first instant not shown (a local midnight).
    public let end: Timestamp
    /// The zone of the days (the billing zone).
    public let zone: TimeZoneRules
    /// The starts of the days, in order.
    public let dayStarts: [Timestamp]

    /// The `days` local days ending with the one holding `last`.
    /// - Parameters:
    ///   - days: How many days (at least 1).
    ///   - last: An instant of the last day.
    ///   - zone: The zone of the days.
    public init(days: Int, endingWithDayOf last: Timestamp, zone: TimeZoneRules) {
        var starts = [zone.startOfDay(containing: last)]
        for _ in 1..<max(days, 1) {
            starts.append(zone.startOfDay(containing: starts[starts.count - 1].adding(seconds: -1)))
        }
        self.dayStarts = starts.reversed()
        self.start = dayStarts[0]
        self.end = zone.startOfNextDay(after: dayStarts[dayStarts.count - 1])
        self.zone = zone
    }

    /// The end of the day starting at `dayStart` (the next local midnight).
    public func dayEnd(_ dayStart: Timestamp) -> Timestamp { zone.startOfNextDay(after: dayStart) }

    /// The index of the day holding `instant`, `nil` outside the period.
    public func dayIndex(of instant: Timestamp) -> Int? {
        guard instant >= start, instant < end else { return nil }
        var low = 0
        var high = dayStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if dayStarts[middle] <= instant { low = middle } else { high = middle - 1 }
        }
        return low
    }
}
