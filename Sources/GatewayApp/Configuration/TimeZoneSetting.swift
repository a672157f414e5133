import Foundation
import GatewayCore
import TOMLKit

/// Reads a zone setting (`validation.billing_day_time_zone`, `meters.*_clock_time_zone`): an IANA name or a fixed
/// offset, turned into the transition table GatewayCore looks offsets up in.
///
/// Named zones come from Foundation's time zone data (`TimeZone(identifier:)`, ICU's tables bundled with the Swift
/// runtime); PostgreSQL reads the same names from the system's zone files (Debian's `tzdata`). Both follow the IANA
/// database, and a test checks that they agree on the days they compute around 2026's changes.
enum TimeZoneSetting {
    /// The older minute settings each zone setting replaces (still accepted, never together with it).
    static let olderSettings: Set<String> = [
        "validation.billing_day_utc_offset_minutes", "meters.cjt188_clock_utc_offset_minutes",
        "meters.mbus_clock_utc_offset_minutes",
    ]

    /// The years a named zone's table covers; outside them the first or last offset holds.
    static let tableStart: Int64 = -2_208_988_800  // 1900-01-01T00:00Z
    static let tableEnd: Int64 = 7_258_118_400  // 2200-01-01T00:00Z

    /// Parses a zone.
    /// - Parameter text: `Europe/Berlin` (an IANA name), or a fixed offset `+08:00`, `-05:30`, `+08` (`Z` or
    ///   `+00:00` for UTC).
    /// - Returns: The zone, or `nil` when the text is neither a known name nor an offset in −12:00…+14:00.
    static func parse(_ text: String) -> TimeZoneRules? {
        if text == "Z" { return .utc }
        if let first = text.first, first == "+" || first == "-" { return offset(text) }
        // Foundation also accepts abbreviations and "GMT+8"-style names PostgreSQL reads differently; only
        // Area/Location names and UTC are zones here.
        guard text == "UTC" || text.contains("/"), let zone = TimeZone(identifier: text) else { return nil }
        return rules(of: zone, identifier: text)
    }

    /// The transition table of a Foundation zone from 1900 to 2200.
    static func rules(of zone: TimeZone, identifier: String) -> TimeZoneRules {
        let initial = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(tableStart))))
        var transitions: [(at: Int64, offsetSeconds: Int64)] = []
        var cursor = Date(timeIntervalSince1970: TimeInterval(tableStart))
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next.timeIntervalSince1970 < 7.2e9,
            next > cursor
        {
            let at = Int64(next.timeIntervalSince1970.rounded(.down))
            if at >= tableEnd { break }
            transitions.append((at, Int64(zone.secondsFromGMT(for: next))))
            cursor = next
        }
        return TimeZoneRules(identifier: identifier, initialOffsetSeconds: initial, transitions: transitions)
    }

    /// `±hh:mm`, `±hhmm` or `±hh`.
    private static func offset(_ text: String) -> TimeZoneRules? {
        let digits = Array(text.utf8.dropFirst()).filter { $0 != UInt8(ascii: ":") }
        let hasColon = text.contains(":")
        guard digits.count == 2 || digits.count == 4, digits.allSatisfy({ (0x30...0x39).contains($0) }),
            !hasColon || (text.count == 6 && Array(text.utf8)[3] == UInt8(ascii: ":"))
        else { return nil }
        let hours = Int64(digits[0] - 0x30) * 10 + Int64(digits[1] - 0x30)
        let minutes = digits.count == 4 ? Int64(digits[2] - 0x30) * 10 + Int64(digits[3] - 0x30) : 0
        guard minutes < 60 else { return nil }
        let seconds = (hours * 60 + minutes) * 60 * (text.hasPrefix("-") ? -1 : 1)
        guard (-12 * 3600...14 * 3600).contains(seconds) else { return nil }
        return TimeZoneRules(fixedOffsetSeconds: seconds)
    }

    /// The zone of one setting pair: the zone setting when given, else the legacy minutes setting.
    /// - Parameters:
    ///   - zoneName: The zone setting's name, e.g. `validation.billing_day_time_zone`.
    ///   - zoneText: Its value ("" when not given).
    ///   - legacyName: The legacy setting's name, e.g. `validation.billing_day_utc_offset_minutes`.
    ///   - legacyMinutes: Its value (the default when not given).
    ///   - isLegacyGiven: Whether the file or the environment gave the legacy setting.
    /// - Returns: The zone.
    /// - Throws: ``ConfigurationError`` when both are given or the zone is unknown.
    static func resolve(
        zoneName: String,
        zoneText: String,
        legacyName: String,
        legacyMinutes: Int,
        isLegacyGiven: Bool
    ) throws -> TimeZoneRules {
        guard !zoneText.isEmpty else { return TimeZoneRules(fixedOffsetSeconds: Int64(legacyMinutes) * 60) }
        if isLegacyGiven {
            throw ConfigurationError(
                setting: zoneName,
                problem: "give \(zoneName) or the older \(legacyName), not both"
            )
        }
        guard let zone = parse(zoneText) else {
            throw ConfigurationError(
                setting: zoneName,
                problem: "\"\(zoneText)\" is neither a known IANA time zone (an Area/Location name such as "
                    + "Europe/Berlin or Asia/Shanghai, or UTC) nor a fixed offset such as +08:00"
            )
        }
        return zone
    }

    /// Whether the TOML file or the environment gives a setting.
    /// - Parameters:
    ///   - name: The setting's full name, `section.key`.
    ///   - table: The file's table, if any.
    ///   - environment: The environment.
    static func isGiven(_ name: String, table: TOMLTable?, environment: [String: String]) -> Bool {
        if environment[Setting.environmentName(of: name)] != nil { return true }
        var parts = name.split(separator: ".").map(String.init)
        guard let key = parts.popLast(), var current = table else { return false }
        for part in parts {
            guard let nested = current[part]?.table else { return false }
            current = nested
        }
        return current[key] != nil
    }
}

extension GatewayConfiguration {
    /// Resolves the three zone settings after every value is read (``TimeZoneSetting/resolve(zoneName:zoneText:legacyName:legacyMinutes:isLegacyGiven:)``).
    mutating func resolveTimeZones(table: TOMLTable?, environment: [String: String]) throws {
        func zone(
            _ section: String,
            _ key: String,
            _ text: String,
            legacy: String,
            minutes: Int
        ) throws -> TimeZoneRules {
            try TimeZoneSetting.resolve(
                zoneName: "\(section).\(key)",
                zoneText: text,
                legacyName: "\(section).\(legacy)",
                legacyMinutes: minutes,
                isLegacyGiven: TimeZoneSetting.isGiven("\(section).\(legacy)", table: table, environment: environment)
            )
        }
        validation.billingZone = try zone(
            "validation",
            "billing_day_time_zone",
            validation.billingDayTimeZone,
            legacy: "billing_day_utc_offset_minutes",
            minutes: validation.dayUTCOffsetMinutes
        )
        meters.cjt188Zone = try zone(
            "meters",
            "cjt188_clock_time_zone",
            meters.cjt188ClockTimeZone,
            legacy: "cjt188_clock_utc_offset_minutes",
            minutes: meters.cjt188ClockOffsetMinutes
        )
        meters.mbusZone = try zone(
            "meters",
            "mbus_clock_time_zone",
            meters.mbusClockTimeZone,
            legacy: "mbus_clock_utc_offset_minutes",
            minutes: meters.mbusClockOffsetMinutes
        )
    }
}
