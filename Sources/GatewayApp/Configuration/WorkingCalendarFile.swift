import Foundation
import GatewayCore
import GatewayDomain
import TOMLKit

/// Reads the working calendar of `complaints.calendar_dir`: every `*.toml` file in it is one year
/// (`config/calendars/cn-2026.toml` is the example: `year`, `weekend`, `[[holidays]]` with `name`, `from`, `to`,
/// and `[[make_up_days]]` with `date` and `name`).
enum WorkingCalendarFile {
    /// Parses one year's file.
    /// - Parameters:
    ///   - text: The file's TOML.
    ///   - name: The file's name, for messages.
    /// - Returns: The year.
    /// - Throws: ``ConfigurationError`` naming the file and the field.
    static func year(from text: String, name: String) throws -> WorkingYear {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch {
            throw ConfigurationError(setting: name, problem: "is not valid TOML: \(error)")
        }
        for key in table.keys where !["year", "weekend", "holidays", "make_up_days"].contains(key) {
            throw ConfigurationError(setting: "\(name): \(key)", problem: "unknown setting")
        }
        guard let year = table["year"]?.int, (1900...9999).contains(year) else {
            throw ConfigurationError(setting: "\(name): year", problem: "must be a year such as 2026")
        }
        var weekend: Set<Weekday> = [.saturday, .sunday]
        if let value = table["weekend"] {
            guard let list = value.array else {
                throw ConfigurationError(setting: "\(name): weekend", problem: "must be a list of weekday names")
            }
            weekend = []
            for item in list {
                guard let day = item.string.flatMap(Weekday.init(name:)) else {
                    throw ConfigurationError(
                        setting: "\(name): weekend",
                        problem: "each day must be one of: \(Weekday.allCases.map(\.name).joined(separator: ", "))"
                    )
                }
                weekend.insert(day)
            }
        }
        func tables(_ key: String) throws -> [TOMLTable] {
            guard let value = table[key] else { return [] }
            guard let array = value.array else {
                throw ConfigurationError(setting: "\(name): \(key)", problem: "must be an array of tables")
            }
            return try array.enumerated().map { index, element in
                guard let entry = element.table else {
                    throw ConfigurationError(setting: "\(name): \(key)[\(index)]", problem: "must be a table")
                }
                return entry
            }
        }
        func date(_ entry: TOMLTable, _ key: String, _ setting: String) throws -> CivilDate {
            guard let date = entry[key]?.string.flatMap({ CivilDate(iso: $0) }) else {
                throw ConfigurationError(setting: "\(setting).\(key)", problem: "must be a date like \"2026-02-15\"")
            }
            return date
        }
        var holidays: [WorkingYear.Holiday] = []
        for (index, entry) in try tables("holidays").enumerated() {
            let setting = "\(name): holidays[\(index)]"
            holidays.append(
                WorkingYear.Holiday(
                    name: entry["name"]?.string ?? "holiday",
                    from: try date(entry, "from", setting),
                    to: try date(entry, "to", setting)
                )
            )
        }
        var makeUp: [WorkingYear.MakeUpDay] = []
        for (index, entry) in try tables("make_up_days").enumerated() {
            let setting = "\(name): make_up_days[\(index)]"
            makeUp.append(
                WorkingYear.MakeUpDay(date: try date(entry, "date", setting), name: entry["name"]?.string ?? "")
            )
        }
        return WorkingYear(year: year, weekend: weekend, holidays: holidays, makeUpDays: makeUp)
    }

    /// Whether `path` is an existing directory.
    static func directoryExists(_ path: String, _ isDirectory: inout Bool) -> Bool {
        var flag: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &flag)
        isDirectory = flag.boolValue
        return exists && isDirectory
    }

    /// Loads every `*.toml` of a directory; an empty path is a calendar of weekends only.
    /// - Parameter directory: `complaints.calendar_dir`.
    /// - Returns: The calendar.
    /// - Throws: ``ConfigurationError`` when the directory cannot be read or a file is wrong.
    static func load(directory: String) throws -> WorkingCalendar {
        var years: [WorkingYear] = []
        if !directory.isEmpty {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory)
            } catch {
                throw ConfigurationError(setting: "complaints.calendar_dir", problem: "cannot read \(directory)")
            }
            for file in names.sorted() where file.hasSuffix(".toml") {
                let path = directory + "/" + file
                guard let data = FileManager.default.contents(atPath: path),
                    let text = String(bytes: data, encoding: .utf8)
                else { throw ConfigurationError(setting: "complaints.calendar_dir", problem: "cannot read \(path)") }
                years.append(try year(from: text, name: path))
            }
        }
        do {
            return try WorkingCalendar(years: years)
        } catch {
            throw ConfigurationError(setting: "complaints.calendar_dir", problem: error.message)
        }
    }
}
