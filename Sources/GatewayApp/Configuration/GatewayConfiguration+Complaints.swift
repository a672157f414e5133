import GatewayCore
import GatewayDomain

extension GatewayConfiguration {
    /// `[complaints]`: the working calendar of the complaint answer deadline. The company's zone is the zone of
    /// billing days (`validation.billing_day_time_zone`).
    struct Complaints: Sendable, Equatable {
        var calendarDirectory = "/usr/share/meter-gateway/calendars"
        var answerWorkingDays = 5
    }
}

extension GatewayConfiguration.Complaints {
    /// The `[complaints]` settings, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "complaints",
            key: "calendar_dir",
            kind: .string(\.complaints.calendarDirectory, isSecret: false, allowed: nil),
            help:
                "Directory of the working calendar: one TOML file per year (weekend, public holidays, make-up working days; the package installs config/calendars here, e.g. cn-2026.toml, the Chinese official calendar for 2026; a company with other days points this at a copy it edits). A directory that does not exist, or an empty value, means weekends only, and every answer deadline says it was counted without a calendar (answer_by_provisional). Days are those of validation.billing_day_time_zone."
        ),
        Setting(
            section: "complaints",
            key: "answer_working_days",
            kind: .integer(\.complaints.answerWorkingDays, range: 1...60),
            help:
                "A complaint is answered within this many working days, counted from the day after its receipt; a complaint still unanswered at the end of the last one escalates once."
        ),
    ]

    /// The calendar of ``calendarDirectory``: weekends only when the directory does not exist.
    /// - Throws: ``ConfigurationError`` for a file that cannot be read or is wrong.
    func calendar() throws -> WorkingCalendar {
        var isDirectory = false
        guard !calendarDirectory.isEmpty, WorkingCalendarFile.directoryExists(calendarDirectory, &isDirectory) else {
            return try WorkingCalendarFile.load(directory: "")
        }
        return try WorkingCalendarFile.load(directory: calendarDirectory)
    }
}
