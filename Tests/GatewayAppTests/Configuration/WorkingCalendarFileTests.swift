import Foundation
import GatewayCore
import GatewayDomain
import GatewayTestSupport
import Testing

@testable import GatewayApp

/// The calendar files of `complaints.calendar_dir`: the shipped 2026 Chinese calendar reads as the notice has it,
/// with the deadline of the Friday before the Spring Festival, and a wrong file is refused naming what is wrong.
@Suite struct WorkingCalendarFileTests {
    private func date(_ text: String) throws -> CivilDate { try #require(CivilDate(iso: text)) }

    @Test func theShippedChineseCalendarFor2026() throws {
        let calendar = try WorkingCalendarFile.load(directory: Repository.url("config/calendars").path)
        #expect(calendar.coveredYears == [2026])
        // The notice: 7 holidays, 33 days off in all (weekend days inside the ranges included), 6 make-up days.
        var daysOff = 0
        var workedWeekendDays = 0
        var day = try date("2026-01-01")
        while day.year == 2026 {
            let weekend = [Weekday.saturday, .sunday].contains(Weekday(day))
            if !calendar.isWorkingDay(day), !weekend { daysOff += 1 }
            if calendar.isWorkingDay(day), weekend { workedWeekendDays += 1 }
            day = CivilDate(day.startUTC.adding(seconds: 86_400))
        }
        #expect(workedWeekendDays == 6)
        // Weekdays off: 元旦 1–2 Jan, 春节 16–20 and 23 Feb, 清明 6 Apr, 劳动节 1, 4, 5 May, 端午 19 Jun, 中秋 25 Sep,
        // 国庆 1, 2, 5, 6, 7 Oct.
        #expect(daysOff == 2 + 6 + 1 + 3 + 1 + 1 + 5)
        let deadline = calendar.deadline(
            workingDays: 5,
            after: try #require(Timestamp(iso: "2026-02-13T08:30:00Z")),  // 16:30 in Beijing
            zone: TimeZoneRules(fixedOffsetSeconds: 8 * 3600)
        )
        #expect(deadline.lastDay == (try date("2026-02-27")) && deadline.uncoveredYears.isEmpty)
    }

    @Test func aWrongFileIsRefusedNamingTheFieldOrTheDate() {
        func problem(_ text: String) -> String? {
            do {
                _ = try WorkingCalendar(years: [try WorkingCalendarFile.year(from: text, name: "x.toml")])
                return nil
            } catch let error as ConfigurationError {
                return error.description
            } catch let error as WorkingCalendar.Refusal {
                return error.message
            } catch {
                return "\(error)"
            }
        }
        #expect(problem("year = 2026\nholiday = []") == "configuration: x.toml: holiday: unknown setting")
        #expect(problem("year = 26") == "configuration: x.toml: year: must be a year such as 2026")
        #expect(
            problem("year = 2026\n[[holidays]]\nname = \"x\"\nfrom = \"2026-02-30\"\nto = \"2026-03-01\"")
                == "configuration: x.toml: holidays[0].from: must be a date like \"2026-02-15\""
        )
        #expect(problem("year = 2026\nweekend = [\"caturday\"]")?.hasPrefix("configuration: x.toml: weekend:") == true)
        #expect(
            problem("year = 2026\n[[make_up_days]]\ndate = \"2026-02-13\"\nname = \"x\"")
                == "2026: make-up day 2026-02-13 is a friday, not a weekend day"
        )
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cal-\(UInt32.random(in: 0...UInt32.max))"
        )
        #expect(throws: ConfigurationError.self) { _ = try WorkingCalendarFile.load(directory: dir.path) }
    }
}
