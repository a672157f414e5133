public import GatewayCore

/// Billing-day determination: which billing day an instant belongs to, which days validation looks at again, and
/// which determined days are billed and published to the billing feed.
///
/// Pure: the store reads and writes the rows, these functions decide.
public enum BillingDay {
    /// The length of a billing day without a clock change; a day the zone moves its clocks forward has 23 hours,
    /// one it moves them back 25 (``end(of:zone:)``).
    public static let seconds: Int64 = 86_400

    /// The first instant of the billing day holding `instant`.
    /// - Parameters:
    ///   - instant: Any instant.
    ///   - zone: The zone of billing days (``ValidationSettings/billingZone``).
    /// - Returns: The day's start (its local midnight), at or before `instant`.
    public static func start(of instant: Timestamp, zone: TimeZoneRules) -> Timestamp {
        zone.startOfDay(containing: instant)
    }

    /// The end of the billing day that starts at `dayStart`: the next local midnight.
    /// - Parameters:
    ///   - dayStart: A day's first instant.
    ///   - zone: The zone of billing days.
    /// - Returns: The next day's start.
    public static func end(of dayStart: Timestamp, zone: TimeZoneRules) -> Timestamp {
        zone.startOfNextDay(after: dayStart)
    }

    /// The first day a validation run looks at for a meter with new data from `dirtyFrom`: the day before the one
    /// holding it, so that the day the new data completes is determined again with its neighbour.
    /// - Parameters:
    ///   - dirtyFrom: The earliest read time of the new data.
    ///   - zone: As for ``start(of:zone:)``.
    /// - Returns: The window's first day start.
    public static func windowStart(dirtyFrom: Timestamp, zone: TimeZoneRules) -> Timestamp {
        let day = start(of: dirtyFrom, zone: zone)
        return start(of: day.adding(seconds: -1), zone: zone)
    }

    /// Whether a day of this quality is billed: valid and estimated days are, suspect and rejected days are not.
    /// - Parameter quality: The day's quality.
    /// - Returns: True when billable.
    public static func isBillable(_ quality: ReadQuality) -> Bool {
        quality <= .estimated
    }

    /// Whether a changed day goes to the billing feed: a billable day is published, and so is every change to a day
    /// that was published before (a correction, even when the day is no longer billable).
    /// - Parameters:
    ///   - quality: The day's new quality.
    ///   - wasPublished: Whether an earlier version of the day was published.
    /// - Returns: True when the change is published.
    public static func isPublished(_ quality: ReadQuality, wasPublished: Bool) -> Bool {
        isBillable(quality) || wasPublished
    }
}
