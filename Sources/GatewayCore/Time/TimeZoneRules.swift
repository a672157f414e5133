/// The offsets from UTC a civil time zone uses: one fixed offset (`+08:00`) or an IANA zone's table of transitions
/// (`Europe/Berlin`), so that billing days and meter clocks follow summer time.
///
/// A plain value: GatewayCore reads no zone database. The app builds a named zone's table once at start (from the
/// system's zone data, see `ZoneInfo`); tests may build one from known transitions. Every lookup is a binary search
/// over the table and allocates nothing, so meter clocks can use it on the decode path.
///
/// Local times are seconds since 1970-01-01T00:00 of the zone's civil calendar ("local seconds"). Where a zone moves
/// its clocks back, a local time occurs twice (``LocalTime/repeated(earlier:later:)``); where it moves them forward, a
/// local time does not occur at all (``LocalTime/skipped(transition:)``).
public struct TimeZoneRules: Sendable, Hashable, CustomStringConvertible {
    /// The zone's name as configured: an IANA name, or `±hh:mm` for a fixed offset.
    public let identifier: String
    /// UTC seconds at which `offsets[index + 1]` starts, ascending.
    private let transitions: [Int64]
    /// Seconds east of UTC; `offsets[0]` applies before the first transition. One more than `transitions`.
    private let offsets: [Int64]

    /// UTC.
    public static let utc = TimeZoneRules(fixedOffsetSeconds: 0)

    /// A zone that is always the same distance from UTC.
    /// - Parameter fixedOffsetSeconds: Seconds east of UTC, e.g. 28 800 for China Standard Time.
    public init(fixedOffsetSeconds: Int64) {
        self.identifier = Self.offsetText(fixedOffsetSeconds)
        self.transitions = []
        self.offsets = [fixedOffsetSeconds]
    }

    /// A zone with offset changes.
    /// - Parameters:
    ///   - identifier: The zone's name, e.g. `Europe/Berlin`.
    ///   - initialOffsetSeconds: The offset before the first transition, seconds east of UTC.
    ///   - transitions: Each change: the UTC instant (seconds) it happens and the offset from then on. Sorted by
    ///     instant; entries that do not change the offset are dropped.
    public init(identifier: String, initialOffsetSeconds: Int64, transitions: [(at: Int64, offsetSeconds: Int64)]) {
        var instants: [Int64] = []
        var offsets: [Int64] = [initialOffsetSeconds]
        for transition in transitions.sorted(by: { $0.at < $1.at })
        where transition.offsetSeconds != offsets[offsets.count - 1] {
            instants.append(transition.at)
            offsets.append(transition.offsetSeconds)
        }
        self.identifier = identifier
        self.transitions = instants
        self.offsets = offsets
    }

    /// Whether the zone never changes its offset.
    public var isFixed: Bool { transitions.isEmpty }

    public var description: String { identifier }

    /// `+hh:mm` or `-hh:mm` (seconds are dropped: configured offsets are whole minutes).
    static func offsetText(_ seconds: Int64) -> String {
        let minutes = abs(seconds) / 60
        let hours = minutes / 60
        let rest = minutes % 60
        return (seconds < 0 ? "-" : "+") + (hours < 10 ? "0" : "") + String(hours) + ":" + (rest < 10 ? "0" : "")
            + String(rest)
    }

    // MARK: Instants to local time

    /// The number of transitions at or before `utcSeconds`: the index of the offset in effect then.
    private func offsetIndex(at utcSeconds: Int64) -> Int {
        var low = 0
        var high = transitions.count
        while low < high {
            let middle = (low + high) / 2
            if transitions[middle] <= utcSeconds { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The offset in effect at an instant.
    /// - Parameter utcSeconds: Seconds since 1970 UTC.
    /// - Returns: Seconds east of UTC.
    public func offsetSeconds(at utcSeconds: Int64) -> Int64 {
        offsets[offsetIndex(at: utcSeconds)]
    }

    /// The local seconds of an instant.
    /// - Parameter instant: Any instant.
    /// - Returns: Seconds since the local 1970-01-01T00:00.
    public func localSeconds(of instant: Timestamp) -> Int64 {
        instant.secondsSinceEpoch + offsetSeconds(at: instant.secondsSinceEpoch)
    }

    /// The local calendar date of an instant.
    /// - Parameter instant: Any instant.
    /// - Returns: The date the zone's clocks show.
    public func date(of instant: Timestamp) -> CivilDate {
        let civil = CivilTime(utcSeconds: localSeconds(of: instant))
        return CivilDate(year: civil.year, month: civil.month, day: civil.day)
    }

    // MARK: Local time to instants

    /// What a local time names.
    public enum LocalTime: Sendable, Hashable {
        /// One instant (UTC seconds).
        case unique(Int64)
        /// The clocks showed this time twice (they were moved back): the earlier and the later instant.
        case repeated(earlier: Int64, later: Int64)
        /// The clocks never showed this time (they were moved forward over it): the instant of that move, which is
        /// the first instant after the gap.
        case skipped(transition: Int64)
    }

    /// The instants a local time names.
    /// - Parameter local: Seconds since the local 1970-01-01T00:00.
    /// - Returns: One instant, two (a repeated time), or the transition that skipped it.
    public func resolve(localSeconds local: Int64) -> LocalTime {
        // Offsets stay within ±26 h, so only the offsets in effect within two days of `local` can name it.
        let window: Int64 = 172_800
        let first = offsetIndex(at: local - window)
        let last = offsetIndex(at: local + window)
        var earliest = Int64.max
        var latest = Int64.min
        for index in first...last {
            let candidate = local - offsets[index]
            guard offsetIndex(at: candidate) == index else { continue }
            earliest = min(earliest, candidate)
            latest = max(latest, candidate)
        }
        if earliest == latest { return .unique(earliest) }
        if earliest < latest { return .repeated(earlier: earliest, later: latest) }
        // No instant: a forward jump covers `local`. Its transition is the first one whose new local time is past
        // `local`.
        for index in first..<last where transitions[index] + offsets[index + 1] > local {
            return .skipped(transition: transitions[index])
        }
        // Not reachable for a table built by the initialisers (offsets are finite, so some instant or gap holds
        // every local time); answer with the plain reading rather than trap.
        return .unique(local - offsets[last])
    }

    // MARK: Days

    /// The first instant of a local date: its midnight, the earlier one when midnight repeats, or the end of the gap
    /// when the zone skips midnight.
    /// - Parameter date: A local calendar date.
    /// - Returns: The day's first instant.
    public func startOfDay(_ date: CivilDate) -> Timestamp {
        startOfDay(localDay: date.daysSinceEpoch)
    }

    /// The first instant of the local day holding `instant`.
    /// - Parameter instant: Any instant.
    /// - Returns: The day's start, at or before `instant`.
    public func startOfDay(containing instant: Timestamp) -> Timestamp {
        startOfDay(localDay: Self.floorDays(localSeconds(of: instant)))
    }

    /// The first instant of the local day after the one holding `instant`: the end of that day.
    /// - Parameter instant: Any instant, usually a day's start.
    /// - Returns: The next day's start (23, 24 or 25 hours after a day start in zones with summer time).
    public func startOfNextDay(after instant: Timestamp) -> Timestamp {
        startOfDay(localDay: Self.floorDays(localSeconds(of: instant)) + 1)
    }

    private func startOfDay(localDay: Int64) -> Timestamp {
        switch resolve(localSeconds: localDay * 86_400) {
        case .unique(let instant): Timestamp(secondsSinceEpoch: instant)
        case .repeated(let earlier, _): Timestamp(secondsSinceEpoch: earlier)
        case .skipped(let transition): Timestamp(secondsSinceEpoch: transition)
        }
    }

    private static func floorDays(_ seconds: Int64) -> Int64 {
        seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    }

    // MARK: PostgreSQL

    /// The zone as PostgreSQL's `AT TIME ZONE` and `SET TimeZone` read it: the IANA name, or for a fixed offset a
    /// POSIX zone (`<+0800>-08:00`; POSIX counts west of UTC as positive, so the sign is turned round).
    public var postgresName: String {
        guard isFixed, identifier.hasPrefix("+") || identifier.hasPrefix("-") else { return identifier }
        let posix = Self.offsetText(-offsets[0])
        return "<\(identifier.filter { $0 != ":" })>\(posix)"
    }
}
