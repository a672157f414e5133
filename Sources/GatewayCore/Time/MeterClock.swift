/// The zone a family of meters runs its clock in.
///
/// CJ/T 188 and M-Bus clocks carry no zone: the meter shows local civil time. The gateway turns it into an instant
/// in the configured zone (a setting per protocol: a fixed offset, or an IANA zone whose summer time the meters
/// follow), so `read_at` is comparable across protocols. Where the zone moves its clocks, a civil time can name two
/// instants or none; ``resolve(_:near:)`` says which, and the record builders flag both cases in `status_bits`.
public struct MeterClock: Sendable, Hashable {
    /// The zone's offsets.
    public var zone: TimeZoneRules

    /// Creates a clock zone.
    /// - Parameter zone: The zone the meters' clocks show.
    public init(zone: TimeZoneRules) {
        self.zone = zone
    }

    /// Creates a clock zone at a fixed offset.
    /// - Parameter utcOffsetMinutes: Minutes east of UTC, e.g. 480 for China Standard Time.
    public init(utcOffsetMinutes: Int) {
        self.zone = TimeZoneRules(fixedOffsetSeconds: Int64(utcOffsetMinutes) * 60)
    }

    /// UTC: for meters whose clocks are set to UTC.
    public static let utc = MeterClock(utcOffsetMinutes: 0)

    /// What a meter's civil time names.
    public enum Resolution: Sendable, Hashable {
        /// One instant.
        case exact(Timestamp)
        /// A time the zone's clocks showed twice (the hour after they were moved back): the instant chosen.
        case repeated(Timestamp)
        /// A time the zone's clocks never showed (the hour they skipped when moved forward): no instant.
        case skipped
    }

    /// The instant of a valid civil time on this clock.
    ///
    /// A repeated time is the occurrence nearer `reference` (the receive time, for a clock the meter read just
    /// before it sent), or the earlier occurrence (the offset before the change) when there is no reference, as for
    /// the dates of stored values. A skipped time names no instant: the caller treats the clock as invalid.
    /// Allocation-free.
    /// - Parameters:
    ///   - time: The meter's civil time (check ``CivilTime/isValid`` first).
    ///   - reference: An instant near the one meant, if any.
    /// - Returns: The resolution.
    public func resolve(_ time: CivilTime, near reference: Timestamp? = nil) -> Resolution {
        switch zone.resolve(localSeconds: time.utcSeconds) {
        case .unique(let seconds):
            return .exact(Timestamp(secondsSinceEpoch: seconds))
        case .repeated(let earlier, let later):
            guard let reference else { return .repeated(Timestamp(secondsSinceEpoch: earlier)) }
            let at = reference.secondsSinceEpoch
            // The later occurrence only when it is strictly nearer.
            let chosen = abs(later - at) < abs(earlier - at) ? later : earlier
            return .repeated(Timestamp(secondsSinceEpoch: chosen))
        case .skipped:
            return .skipped
        }
    }

    /// The instant a valid civil time names, or `nil` for a time the zone skipped.
    /// - Parameter time: The meter's civil time (check ``CivilTime/isValid`` first).
    /// - Returns: The instant; the earlier one for a repeated time.
    public func instant(of time: CivilTime) -> Timestamp? {
        switch resolve(time) {
        case .exact(let instant), .repeated(let instant): instant
        case .skipped: nil
        }
    }

    /// The instant of a frame's meter time, for its readings: the meter time on this clock (a repeated time resolved
    /// near the receive time), or the receive time when the frame has no valid meter time or one the zone skipped.
    /// Allocation-free.
    /// - Parameters:
    ///   - time: The meter's civil time, if any.
    ///   - receivedAt: When the gateway received the frame.
    /// - Returns: The instant, whether the meter time was unusable (the receive time stands in), and whether it was
    ///   a repeated time.
    public func frameInstant(
        of time: CivilTime?,
        receivedAt: Timestamp
    ) -> (instant: Timestamp, isClockInvalid: Bool, isRepeated: Bool) {
        guard let time, time.isValid else { return (receivedAt, true, false) }
        switch resolve(time, near: receivedAt) {
        case .exact(let instant): return (instant, false, false)
        case .repeated(let instant): return (instant, false, true)
        case .skipped: return (receivedAt, true, false)
        }
    }
}
