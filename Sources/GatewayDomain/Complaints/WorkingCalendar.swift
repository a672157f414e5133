public import GatewayCore

/// A day of the week, numbered as ISO 8601 does (Monday 1 … Sunday 7).
public enum Weekday: Int, Sendable, Hashable, CaseIterable, Comparable {
    case monday = 1
    case tuesday, wednesday, thursday, friday, saturday, sunday

    /// The weekday of a calendar date (1970-01-01 was a Thursday).
    /// - Parameter date: A valid date.
    public init(_ date: CivilDate) {
        let days = date.daysSinceEpoch
        let index = ((days + 3) % 7 + 7) % 7  // 0 = Monday
        self = Weekday(rawValue: Int(index) + 1) ?? .monday
    }

    /// The lowercase English name (`saturday`), as calendar files write it.
    public var name: String {
        switch self {
        case .monday: "monday"
        case .tuesday: "tuesday"
        case .wednesday: "wednesday"
        case .thursday: "thursday"
        case .friday: "friday"
        case .saturday: "saturday"
        case .sunday: "sunday"
        }
    }

    /// The weekday named `name` (lowercase English), or `nil`.
    public init?(name: String) {
        guard let day = Weekday.allCases.first(where: { $0.name == name }) else { return nil }
        self = day
    }

    public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One year of a company's working calendar, as one calendar file holds it: the weekend, the public holidays
/// (days off even when they fall on a weekday) and the make-up working days (调休上班: weekend days that are worked).
public struct WorkingYear: Sendable, Equatable {
    /// A named run of days off, both ends included.
    public struct Holiday: Sendable, Equatable {
        public var name: String
        public var from: CivilDate
        public var to: CivilDate

        /// Creates a holiday of one or more days.
        public init(name: String, from: CivilDate, to: CivilDate) {
            self.name = name
            self.from = from
            self.to = to
        }
    }

    /// A weekend day that is a working day, and the holiday it makes up for.
    public struct MakeUpDay: Sendable, Equatable {
        public var date: CivilDate
        public var name: String

        /// Creates a make-up working day.
        public init(date: CivilDate, name: String) {
            self.date = date
            self.name = name
        }
    }

    public var year: Int
    public var weekend: Set<Weekday>
    public var holidays: [Holiday]
    public var makeUpDays: [MakeUpDay]

    /// Creates a year; ``WorkingCalendar/init(years:)`` checks it.
    public init(year: Int, weekend: Set<Weekday> = [.saturday, .sunday], holidays: [Holiday], makeUpDays: [MakeUpDay]) {
        self.year = year
        self.weekend = weekend
        self.holidays = holidays
        self.makeUpDays = makeUpDays
    }
}

/// Which days are working days, across the years a company loaded (one ``WorkingYear`` per calendar file), and the
/// deadline arithmetic over them: "answered within 5 working days".
///
/// Pure: the zone and the instants are parameters. A date in a year no file covers is judged by the weekend of the
/// nearest loaded year (or Saturday and Sunday) alone; ``Deadline/uncoveredYears`` says so, so a deadline computed
/// without a year's holidays is never silently taken for an exact one.
public struct WorkingCalendar: Sendable, Equatable {
    /// Why a calendar was refused; ``message`` names the file's year and the date.
    public struct Refusal: Error, Sendable, Equatable {
        public var message: String
    }

    /// A deadline counted in working days.
    public struct Deadline: Sendable, Equatable {
        /// The last instant allowed: the end (next local midnight) of the last working day counted.
        public var at: Timestamp
        /// The last working day counted.
        public var lastDay: CivilDate
        /// Years the count passed through that no calendar file covers (judged by weekends only); empty when exact.
        public var uncoveredYears: [Int]
    }

    private var years: [Int: WorkingYear]
    private var holidays: Set<CivilDate>
    private var makeUpDays: Set<CivilDate>

    /// A calendar of the given years.
    /// - Parameter years: One entry per year.
    /// - Throws: ``Refusal`` when a year comes twice, a date lies outside its file's year, a holiday ends before it
    ///   starts, a make-up day is not on the weekend or is also a holiday, or a weekend is all seven days.
    public init(years: [WorkingYear]) throws(Refusal) {
        var byYear: [Int: WorkingYear] = [:]
        var holidays: Set<CivilDate> = []
        var makeUp: Set<CivilDate> = []
        for year in years {
            guard byYear[year.year] == nil else { throw Refusal(message: "the year \(year.year) is given twice") }
            guard year.weekend.count < 7 else { throw Refusal(message: "\(year.year): every day is a weekend day") }
            for holiday in year.holidays {
                guard holiday.from.isValid, holiday.to.isValid, holiday.from.year == year.year,
                    holiday.to.year == year.year
                else {
                    throw Refusal(message: "\(year.year): holiday \(holiday.name) is not within the year")
                }
                guard holiday.from <= holiday.to else {
                    throw Refusal(message: "\(year.year): holiday \(holiday.name) ends before it starts")
                }
                for day in holiday.from.daysSinceEpoch...holiday.to.daysSinceEpoch {
                    holidays.insert(Self.date(daysSinceEpoch: day))
                }
            }
            for day in year.makeUpDays {
                guard day.date.isValid, day.date.year == year.year else {
                    throw Refusal(message: "\(year.year): make-up day \(day.date) is not within the year")
                }
                guard year.weekend.contains(Weekday(day.date)) else {
                    throw Refusal(
                        message:
                            "\(year.year): make-up day \(day.date) is a \(Weekday(day.date).name), not a weekend day"
                    )
                }
                guard !holidays.contains(day.date) else {
                    throw Refusal(message: "\(year.year): \(day.date) is both a holiday and a make-up working day")
                }
                makeUp.insert(day.date)
            }
            byYear[year.year] = year
        }
        self.years = byYear
        self.holidays = holidays
        self.makeUpDays = makeUp
    }

    /// A calendar without files: Saturday and Sunday off, every count marked as without a calendar.
    public static let weekendsOnly = WorkingCalendar()

    private init() {
        years = [:]
        holidays = []
        makeUpDays = []
    }

    /// The years loaded, ascending.
    public var coveredYears: [Int] { years.keys.sorted() }

    /// Whether the calendar has a file for the year of `date`.
    public func covers(_ date: CivilDate) -> Bool { years[date.year] != nil }

    /// The weekend of `year`: its file's, else the nearest loaded year's, else Saturday and Sunday.
    private func weekend(of year: Int) -> Set<Weekday> {
        if let exact = years[year] { return exact.weekend }
        let nearest = years.keys.min {
            abs($0 - year) < abs($1 - year) || (abs($0 - year) == abs($1 - year) && $0 < $1)
        }
        return nearest.flatMap { years[$0]?.weekend } ?? [.saturday, .sunday]
    }

    /// Whether people work on `date`: a make-up day is, a holiday is not, otherwise every day but the weekend.
    /// - Parameter date: A valid date.
    public func isWorkingDay(_ date: CivilDate) -> Bool {
        if makeUpDays.contains(date) { return true }
        if holidays.contains(date) { return false }
        return !weekend(of: date.year).contains(Weekday(date))
    }

    /// The `count`-th working day after `date` (`date` itself is not counted, working day or not).
    /// - Parameters:
    ///   - count: How many working days, at least 1.
    ///   - date: The day of receipt.
    /// - Returns: The last day and the years passed through without a file.
    public func workingDay(_ count: Int, after date: CivilDate) -> (day: CivilDate, uncoveredYears: [Int]) {
        var day = date.daysSinceEpoch
        var found = 0
        var uncovered: [Int] = []
        var current = date
        while found < max(count, 1) {
            day += 1
            current = Self.date(daysSinceEpoch: day)
            if !covers(current), !uncovered.contains(current.year) { uncovered.append(current.year) }
            if isWorkingDay(current) { found += 1 }
        }
        return (current, uncovered)
    }

    /// The deadline of something due within `count` working days of `instant`: the end of the `count`-th working
    /// day after the local day holding `instant` (the day of receipt does not count, as in "within 5 working days
    /// of receipt"; a complaint received on a Saturday counts from Monday, or from the make-up Saturday's Sunday).
    /// - Parameters:
    ///   - count: Working days allowed (5 for a complaint's answer).
    ///   - instant: When the clock starts (a complaint's receipt).
    ///   - zone: The company's zone: which local day the instant falls on and when that day ends.
    /// - Returns: The deadline.
    public func deadline(workingDays count: Int, after instant: Timestamp, zone: TimeZoneRules) -> Deadline {
        let received = zone.date(of: instant)
        let (last, uncovered) = workingDay(count, after: received)
        return Deadline(
            at: zone.startOfDay(Self.date(daysSinceEpoch: last.daysSinceEpoch + 1)),
            lastDay: last,
            uncoveredYears: uncovered
        )
    }

    /// How many working days lie after the day of `start` up to and including the day of `end` (0 when `end` falls
    /// on the same local day or before): "answered on the 3rd working day".
    /// - Parameters:
    ///   - start: The first instant (receipt).
    ///   - end: The later instant (answer).
    ///   - zone: The company's zone.
    /// - Returns: The working days counted.
    public func workingDays(from start: Timestamp, to end: Timestamp, zone: TimeZoneRules) -> Int {
        let first = zone.date(of: start).daysSinceEpoch
        let last = zone.date(of: end).daysSinceEpoch
        guard last > first else { return 0 }
        return (first + 1...last).reduce(0) { $0 + (isWorkingDay(Self.date(daysSinceEpoch: $1)) ? 1 : 0) }
    }

    static func date(daysSinceEpoch days: Int64) -> CivilDate {
        CivilDate(Timestamp(secondsSinceEpoch: days * 86_400))
    }
}
