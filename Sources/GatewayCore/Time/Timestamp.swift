/// A point in time as whole microseconds since 1970-01-01T00:00:00Z.
///
/// The gateway stores and compares times as integers so that the hot path never touches
/// Foundation's `Date` formatting, and so that PostgreSQL's binary `timestamptz` (µs since 2000)
/// is one subtraction away.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since the Unix epoch (UTC).
    public var microsecondsSinceEpoch: Int64

    /// Creates a timestamp from microseconds since the Unix epoch.
    @inlinable
    public init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    /// Creates a timestamp from whole seconds since the Unix epoch.
    @inlinable
    public init(secondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = secondsSinceEpoch &* 1_000_000
    }

    /// Whole seconds since the Unix epoch, rounded towards negative infinity.
    @inlinable
    public var secondsSinceEpoch: Int64 {
        microsecondsSinceEpoch >= 0
            ? microsecondsSinceEpoch / 1_000_000
            : (microsecondsSinceEpoch - 999_999) / 1_000_000
    }

    /// Microseconds between 1970-01-01 and 2000-01-01, the PostgreSQL epoch.
    public static let postgresEpochOffsetMicroseconds: Int64 = 946_684_800_000_000

    /// Microseconds since 2000-01-01T00:00:00Z, as PostgreSQL's binary `timestamptz` wants them.
    @inlinable
    public var postgresMicroseconds: Int64 { microsecondsSinceEpoch &- Self.postgresEpochOffsetMicroseconds }

    /// Returns this timestamp moved by a number of seconds.
    @inlinable
    public func adding(seconds: Int64) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: microsecondsSinceEpoch &+ seconds &* 1_000_000)
    }

    @inlinable
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    /// Parses the form ``description`` prints: `YYYY-MM-DDThh:mm:ss[.ffffff]Z` (1 to 6 fraction digits), UTC.
    /// - Parameter text: The text.
    /// - Returns: `nil` unless the text has exactly that shape and names a real time.
    public init?(iso text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z"), bytes[10] == UInt8(ascii: "T"),
            let date = CivilDate(iso: String(decoding: bytes[0..<10], as: UTF8.self)),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard (0x30...0x39).contains(bytes[index]) else { return nil }
                value = value * 10 + Int(bytes[index] - 0x30)
            }
            return value
        }
        guard let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var micros = 0
        if bytes.count > 20 {
            let digits = bytes.count - 21
            guard bytes[19] == UInt8(ascii: "."), (1...6).contains(digits), let fraction = number(20..<(20 + digits))
            else { return nil }
            micros = fraction
            for _ in digits..<6 { micros *= 10 }
        } else if bytes.count != 20 {
            return nil
        }
        let civil = CivilTime(
            year: date.year,
            month: date.month,
            day: date.day,
            hour: hour,
            minute: minute,
            second: second
        )
        guard civil.isValid else { return nil }
        self.init(microsecondsSinceEpoch: civil.utcSeconds * 1_000_000 + Int64(micros))
    }

    /// ISO 8601 in UTC with a `Z` suffix and microseconds when they are not zero, e.g. `2026-11-23T08:00:00Z`.
    public var description: String {
        CivilTime(utcSeconds: secondsSinceEpoch).iso8601(
            zone: "Z",
            micros: Int(microsecondsSinceEpoch - secondsSinceEpoch * 1_000_000)
        )
    }
}

/// A calendar date and time of day without a zone, as meters report their own clocks.
public struct CivilTime: Sendable, Hashable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// Whether the fields form a real proleptic Gregorian date and time of day.
    public var isValid: Bool {
        guard (1...12).contains(month), (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
        else { return false }
        return day >= 1 && day <= CivilTime.daysInMonth(year: year, month: month)
    }

    /// Splits seconds since the Unix epoch into UTC calendar fields.
    public init(utcSeconds: Int64) {
        var days = utcSeconds >= 0 ? utcSeconds / 86_400 : (utcSeconds - 86_399) / 86_400
        let secondsOfDay = Int(utcSeconds - days * 86_400)
        // Howard Hinnant's civil_from_days.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let d = dayOfYear - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(
            year: Int(yearOfEra + era * 400 + (m <= 2 ? 1 : 0)),
            month: Int(m),
            day: Int(d),
            hour: secondsOfDay / 3600,
            minute: (secondsOfDay / 60) % 60,
            second: secondsOfDay % 60
        )
    }

    /// Seconds since the Unix epoch when these fields are read as UTC.
    public var utcSeconds: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * mp + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// `YYYY-MM-DDThh:mm:ss` followed by `zone` (empty for a zone-less meter clock).
    public func iso8601(zone: String = "", micros: Int = 0) -> String {
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
        if micros != 0 { text += "." + pad(micros, 6) }
        return text + zone
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
