/// The zone a family of meters runs its clock in.
///
/// CJ/T 188 and M-Bus clocks carry no zone: the meter shows local civil time. The gateway turns it into an instant
/// with a fixed offset per protocol (a setting), so `read_at` is comparable across protocols. A fixed offset cannot
/// follow daylight-saving changes; meters that switch (some European meters) read one offset wrong half the year,
/// which the clock-drift check against receive time makes visible.
public struct MeterClock: Sendable, Hashable {
    /// Seconds east of UTC.
    public var utcOffsetSeconds: Int64

    /// Creates a clock zone.
    /// - Parameter utcOffsetMinutes: Minutes east of UTC, e.g. 480 for China Standard Time.
    public init(utcOffsetMinutes: Int) {
        self.utcOffsetSeconds = Int64(utcOffsetMinutes) * 60
    }

    /// UTC: for meters whose clocks are set to UTC.
    public static let utc = MeterClock(utcOffsetMinutes: 0)

    /// The instant a valid civil time on this clock names.
    /// - Parameter time: The meter's civil time (check ``CivilTime/isValid`` first).
    /// - Returns: The instant.
    public func instant(of time: CivilTime) -> Timestamp {
        Timestamp(secondsSinceEpoch: time.utcSeconds - utcOffsetSeconds)
    }

    /// The instant of a meter time, or `fallback` when the meter sent none (or an invalid one).
    /// - Parameters:
    ///   - time: The meter's civil time, if any.
    ///   - fallback: Usually the receive time.
    /// - Returns: The instant.
    public func instant(of time: CivilTime?, orElse fallback: Timestamp) -> Timestamp {
        guard let time, time.isValid else { return fallback }
        return instant(of: time)
    }
}
