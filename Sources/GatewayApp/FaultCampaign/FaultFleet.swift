import GatewayCore

/// The meters of one fault-campaign phase and the frames they send.
///
/// Every phase has meters of its own, so each phase's outcome is a query over its meters alone: native meters
/// `100_000_001 + 1000 × phase …` (published by `meter-gateway simulate`), CJ/T 188 meters `7833PP0000000i` and wireless
/// M-Bus meters `ELS-3PP0000i-51-03` (the version byte 0x33 in decimal, as registry addresses write it) (registered without a key, so they send plain frames). Even-numbered meters carry
/// a meter clock, odd-numbered ones do not (their frames are known by a fingerprint of their bytes). CJ/T 188 meter 1
/// reports a low battery in every third frame and wireless M-Bus meter 2 reports power low in every third frame, so
/// each phase raises two alarm conditions that must become exactly one ticket each.
///
/// Two keyed wireless M-Bus meters per phase, `ELS-4PP00000-51-03` (sends mode 5; default minimum `encrypted`) and
/// `ELS-4PP00001-51-03` (minimum `authenticated`, as a mode-7 meter), are the targets of the hostile burst's
/// security attacks (``FaultTraffic/securityAttacks(count:maxRepeats:random:)``); they send nothing else.
struct FaultFleet: Sendable {
    /// The phase number (1…99).
    let phase: Int
    /// CJ/T 188 meters in the phase.
    let cjtCount: Int
    /// Wireless M-Bus meters in the phase.
    let wmbusCount: Int

    /// The CJ/T 188 meter that reports a low battery.
    static let cjtAlarmMeter = 1
    /// The wireless M-Bus meter that reports power low.
    static let wmbusAlarmMeter = 2

    /// The first native meter id of a phase.
    static func firstNativeMeterID(phase: Int) -> UInt64 { 100_000_001 + UInt64(phase) * 1000 }

    /// The 14-digit address of a CJ/T 188 meter.
    func cjtLabel(_ index: Int) -> String {
        "7833" + Self.digits(phase, 2) + Self.digits(index, 8)
    }

    /// The 8-digit identification number of a wireless M-Bus meter.
    func wmbusNumber(_ index: Int) -> String {
        "3" + Self.digits(phase, 2) + Self.digits(index, 5)
    }

    /// The registry address of a wireless M-Bus meter.
    func wmbusRegistryAddress(_ index: Int) -> String { "ELS-\(wmbusNumber(index))-51-03" }

    /// The collector every CJ/T 188 and wireless M-Bus meter of the phase is assigned to (`collector_meters`).
    var collector: String { "faults-\(phase)" }

    /// A collector assigned no meter: the hostile burst makes it speak for the phase's meters.
    var rogueCollector: String { "faults-\(phase)-rogue" }

    /// The keyed meters: ``modeFiveMeter`` sends mode 5, ``authenticatedMeter`` requires `authenticated`.
    static let modeFiveMeter = 0
    static let authenticatedMeter = 1

    /// The 8-digit identification number of keyed meter `which`.
    func securedNumber(_ which: Int) -> String { "4" + Self.digits(phase, 2) + Self.digits(which, 5) }

    /// The registry address of keyed meter `which`.
    func securedRegistryAddress(_ which: Int) -> String { "ELS-\(securedNumber(which))-51-03" }

    /// The AES-128 key of keyed meter `which` (a test key derived from the phase; never a real meter's).
    func securedKey(_ which: Int) -> [UInt8] {
        (0..<16).map { UInt8(truncatingIfNeeded: 0x5A &+ phase &* 17 &+ which &* 101 &+ $0 &* 7) }
    }

    /// Whether meter `index` (of either protocol) has a clock.
    static func hasClock(_ index: Int) -> Bool { index % 2 == 0 }

    /// The registry rows of the phase's CJ/T 188 and wireless M-Bus meters (no keys), each assigned to ``collector``,
    /// and its two keyed meters (which publish on their own meter topics).
    func profiles() -> [MeterProfile] {
        var profiles: [MeterProfile] = []
        for index in 0..<cjtCount {
            var profile = MeterProfile(protocol: .cjt188, address: cjtLabel(index))
            profile.district = "faults-\(phase)"
            profile.collectors = [collector]
            profiles.append(profile)
        }
        for index in 0..<wmbusCount {
            var profile = MeterProfile(protocol: .wmbus, address: wmbusRegistryAddress(index))
            profile.district = "faults-\(phase)"
            profile.collectors = [collector]
            profiles.append(profile)
        }
        for which in [Self.modeFiveMeter, Self.authenticatedMeter] {
            var profile = MeterProfile(protocol: .wmbus, address: securedRegistryAddress(which))
            profile.district = "faults-\(phase)"
            profile.aesKey = securedKey(which)
            profile.minProtection = which == Self.authenticatedMeter ? .authenticated : nil
            profiles.append(profile)
        }
        return profiles
    }

    private static func digits(_ value: Int, _ count: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, count - text.count)) + text
    }
}

/// Builds the frames of the campaign's CJ/T 188 and wireless M-Bus meters.
enum FaultFrames {
    /// A CJ/T 188 gas meter-data reply (C = 81, DI 901F) with the current volume, the same settlement value, the
    /// meter clock (or seven zero bytes when `clock` is nil) and the status word.
    /// - Parameters:
    ///   - label: The meter's 14 address digits.
    ///   - hundredths: The volume in 0.01 m³.
    ///   - clock: The meter's local time, or nil for a meter without a clock.
    ///   - status: The status word (D2 = battery low).
    ///   - sequence: SER.
    /// - Returns: The frame with three `FE` bytes before it, or nil for a label that is not 14 digits.
    static func cjt188(
        label: String,
        hundredths: UInt64,
        clock: LocalTime?,
        status: UInt16,
        sequence: UInt8
    )
        -> [UInt8]?
    {
        guard let address = CJT188Address(label: label) else { return nil }
        var frame: [UInt8] = [0x68, 0x30]
        for index in 0..<7 { frame.append(address.byte(index)) }
        frame += [0x81, 0x16, 0x1F, 0x90, sequence]
        frame += bcd(hundredths, bytes: 4) + [0x2C]
        frame += bcd(hundredths, bytes: 4) + [0x2C]
        if let clock {
            frame += [
                bcdByte(clock.second), bcdByte(clock.minute), bcdByte(clock.hour), bcdByte(clock.day),
                bcdByte(clock.month), bcdByte(clock.year % 100), bcdByte(clock.year / 100),
            ]
        } else {
            frame += [UInt8](repeating: 0, count: 7)
        }
        frame += [UInt8(status & 0xFF), UInt8(status >> 8)]
        frame.append(frame.reduce(0) { $0 &+ $1 })
        frame.append(0x16)
        return [0xFE, 0xFE, 0xFE] + frame
    }

    /// A plain (mode 0, stored without CRCs) wireless M-Bus SND-NR frame of an Elster gas meter (version 0x33,
    /// type 03) with one volume record `0C 14` in 0.01 m³ and, with a clock, a date-time record `04 6D` (type F).
    /// - Parameters:
    ///   - number: The 8-digit identification number.
    ///   - hundredths: The volume in 0.01 m³.
    ///   - clock: The meter's local time (minute resolution), or nil.
    ///   - access: The access number.
    ///   - status: The TPL status byte (0x04 = power low).
    /// - Returns: The frame, or nil for a number that is not 8 digits.
    static func wmbus(number: String, hundredths: UInt64, clock: LocalTime?, access: UInt8, status: UInt8) -> [UInt8]? {
        guard number.count == 8, let value = UInt64(number) else { return nil }
        var body: [UInt8] = [0x44, 0x93, 0x15] + bcd(value, bytes: 4) + [0x33, 0x03, 0x7A, access, status, 0x00, 0x00]
        body += [0x0C, 0x14] + bcd(hundredths, bytes: 4)
        if let clock {
            let year = clock.year % 100
            body += [
                0x04, 0x6D, UInt8(clock.minute), UInt8(clock.hour),
                UInt8(clock.day) | UInt8((year & 0x07) << 5), UInt8(clock.month) | UInt8((year >> 3) << 4),
            ]
        }
        return [UInt8(body.count)] + body
    }

    /// `value` as `bytes` packed BCD bytes, least significant first.
    static func bcd(_ value: UInt64, bytes: Int) -> [UInt8] {
        var rest = value
        return (0..<bytes).map { _ in
            let low = rest % 10
            let high = (rest / 10) % 10
            rest /= 100
            return UInt8(high << 4 | low)
        }
    }

    private static func bcdByte(_ value: Int) -> UInt8 { UInt8((value / 10) % 10) << 4 | UInt8(value % 10) }
}

/// A civil local time (what a meter clock shows).
struct LocalTime: Sendable, Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int

    /// The local time at `epochSeconds`, `offsetSeconds` east of UTC (proleptic Gregorian calendar).
    init(epochSeconds: Int64, offsetSeconds: Int64) {
        let local = epochSeconds + offsetSeconds
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondOfDay = Int(local - days * 86_400)
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        year = Int(yoe + era * 400 + (month <= 2 ? 1 : 0))
        self.month = Int(month)
        self.day = Int(day)
        hour = secondOfDay / 3600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
    }
}
