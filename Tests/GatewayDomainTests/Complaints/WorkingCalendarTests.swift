import GatewayCore
import GatewayDomain
import Testing

/// The working calendar and "within 5 working days", over the 2026 Chinese official calendar (the days of
/// config/calendars/cn-2026.toml, written out here so that the rule is tested apart from the file reader).
@Suite struct WorkingCalendarTests {
    static func date(_ text: String) -> CivilDate {
        CivilDate(iso: text) ?? CivilDate(year: 1900, month: 1, day: 1)
    }

    static let cn2026 = WorkingYear(
        year: 2026,
        holidays: [
            .init(name: "元旦", from: date("2026-01-01"), to: date("2026-01-03")),
            .init(name: "春节", from: date("2026-02-15"), to: date("2026-02-23")),
            .init(name: "清明节", from: date("2026-04-04"), to: date("2026-04-06")),
            .init(name: "劳动节", from: date("2026-05-01"), to: date("2026-05-05")),
            .init(name: "端午节", from: date("2026-06-19"), to: date("2026-06-21")),
            .init(name: "中秋节", from: date("2026-09-25"), to: date("2026-09-27")),
            .init(name: "国庆节", from: date("2026-10-01"), to: date("2026-10-07")),
        ],
        makeUpDays: ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"].map {
            .init(date: date($0), name: "make-up")
        }
    )

    private let calendar: WorkingCalendar
    /// China Standard Time, the zone a Chinese company's working days follow.
    private let shanghai = TimeZoneRules(fixedOffsetSeconds: 8 * 3600)

    init() throws {
        calendar = try WorkingCalendar(years: [Self.cn2026])
    }

    /// An instant given in China Standard Time.
    private func beijing(_ text: String) throws -> Timestamp {
        try #require(Timestamp(iso: text + "Z")).adding(seconds: -8 * 3600)
    }

    @Test func weekdaysAreNumberedFromMonday() {
        #expect(Weekday(Self.date("1970-01-01")) == .thursday)
        #expect(Weekday(Self.date("2026-02-13")) == .friday)
        #expect(Weekday(Self.date("2026-02-14")) == .saturday)
        #expect(Weekday(Self.date("1969-12-31")) == .wednesday)
    }

    @Test func holidaysMakeUpDaysAndWeekendsAreJudged() {
        #expect(calendar.isWorkingDay(Self.date("2026-02-13")))  // Friday
        #expect(calendar.isWorkingDay(Self.date("2026-02-14")))  // make-up Saturday
        #expect(!calendar.isWorkingDay(Self.date("2026-02-16")))  // Monday in the Spring Festival
        #expect(!calendar.isWorkingDay(Self.date("2026-02-21")))  // plain Saturday in the holiday
        #expect(calendar.isWorkingDay(Self.date("2026-02-24")))
        #expect(!calendar.isWorkingDay(Self.date("2026-03-07")))  // Saturday
        #expect(calendar.isWorkingDay(Self.date("2026-09-20")))  // make-up Sunday
        #expect(!calendar.isWorkingDay(Self.date("2026-10-01")))  // Thursday, National Day
    }

    /// Received on Friday 13 February, the last working day before the Spring Festival: the make-up Saturday the 14th
    /// is working day 1, the nine days off count nothing, and Tuesday 24th to Friday 27th are days 2 to 5.
    @Test func aComplaintOnTheFridayBeforeTheSpringFestivalIsDueAtTheEndOfThe27th() throws {
        let deadline = calendar.deadline(
            workingDays: 5,
            after: try beijing("2026-02-13T16:30:00"),
            zone: shanghai
        )
        #expect(deadline.lastDay == Self.date("2026-02-27"))
        #expect(deadline.at == (try beijing("2026-02-28T00:00:00")))
        #expect(deadline.uncoveredYears.isEmpty)
    }

    /// Received late on Wednesday 30 September: the week off 1–7 October counts nothing; Thursday 8th, Friday 9th,
    /// the make-up Saturday 10th, Monday 12th and Tuesday 13th are days 1 to 5.
    @Test func theNationalDayWeekAndItsMakeUpSaturdayAreCounted() throws {
        let deadline = calendar.deadline(workingDays: 5, after: try beijing("2026-09-30T23:59:00"), zone: shanghai)
        #expect(deadline.lastDay == Self.date("2026-10-13"))
        #expect(deadline.at == (try beijing("2026-10-14T00:00:00")))
    }

    /// The local day decides: 2026-02-12T17:00Z is already Friday the 13th in Beijing.
    @Test func theDayOfReceiptIsTheCompanysLocalDay() throws {
        let utcEvening = try #require(Timestamp(iso: "2026-02-12T17:00:00Z"))
        #expect(calendar.deadline(workingDays: 5, after: utcEvening, zone: shanghai).lastDay == Self.date("2026-02-27"))
        #expect(calendar.deadline(workingDays: 5, after: utcEvening, zone: .utc).lastDay == Self.date("2026-02-26"))
    }

    @Test func workingDaysBetweenTwoInstantsSkipTheHolidays() throws {
        let received = try beijing("2026-02-13T09:00:00")
        #expect(calendar.workingDays(from: received, to: try beijing("2026-02-13T18:00:00"), zone: shanghai) == 0)
        #expect(calendar.workingDays(from: received, to: try beijing("2026-02-23T18:00:00"), zone: shanghai) == 1)
        #expect(calendar.workingDays(from: received, to: try beijing("2026-02-27T18:00:00"), zone: shanghai) == 5)
        #expect(calendar.workingDays(from: received, to: try beijing("2026-03-02T08:00:00"), zone: shanghai) == 7)
    }

    /// A year without a file is counted by weekends alone, and the deadline says so.
    @Test func aYearWithoutAFileIsNamedOnTheDeadline() throws {
        let deadline = calendar.deadline(workingDays: 5, after: try beijing("2026-12-30T10:00:00"), zone: shanghai)
        // 31 Dec (Thu), then 2027: Fri 1 Jan (no file, so a working day), Mon 4, Tue 5, Wed 6.
        #expect(deadline.lastDay == Self.date("2027-01-06"))
        #expect(deadline.uncoveredYears == [2027])
        #expect(calendar.coveredYears == [2026])
    }

    @Test func inconsistentFilesAreRefused() {
        func refusal(_ year: WorkingYear) -> String? {
            do {
                _ = try WorkingCalendar(years: [year])
                return nil
            } catch {
                return error.message
            }
        }
        let weekdayMakeUp = WorkingYear(
            year: 2026,
            holidays: [],
            makeUpDays: [.init(date: Self.date("2026-02-13"), name: "x")]
        )
        #expect(refusal(weekdayMakeUp) == "2026: make-up day 2026-02-13 is a friday, not a weekend day")
        let wrongYear = WorkingYear(
            year: 2027,
            holidays: [.init(name: "春节", from: Self.date("2026-02-15"), to: Self.date("2026-02-23"))],
            makeUpDays: []
        )
        #expect(refusal(wrongYear) == "2027: holiday 春节 is not within the year")
        let both = WorkingYear(
            year: 2026,
            holidays: [.init(name: "x", from: Self.date("2026-02-14"), to: Self.date("2026-02-14"))],
            makeUpDays: [.init(date: Self.date("2026-02-14"), name: "x")]
        )
        #expect(refusal(both) == "2026: 2026-02-14 is both a holiday and a make-up working day")
        #expect(throws: WorkingCalendar.Refusal.self) { try WorkingCalendar(years: [Self.cn2026, Self.cn2026]) }
    }
}
