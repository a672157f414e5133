/// Gas meter sizes (EN 1359 / GB/T 6968 designation). The size names the meter; its flow limits are stored per
/// meter from the nameplate or type record, never derived from the size.
public enum GasMeterSize: String, Sendable, Hashable, CaseIterable {
    case g1_6 = "G1.6"
    case g2_5 = "G2.5"
    case g4 = "G4"
    case g6 = "G6"
    case g10 = "G10"
    case g16 = "G16"
    case g25 = "G25"
    case g40 = "G40"
    case g65 = "G65"
    case g100 = "G100"

    /// The size number in thousandths of m³/h (G4 → 4000, G1.6 → 1600), the base of the micom-style cut-offs.
    public var millicubicPerHour: Int64 {
        (MeterCSV.millilitres(fromCubicMetres: rawValue.dropFirst()) ?? 0) / 1000
    }
}

/// Metrological accuracy class (MID MI-002 / OIML R137).
public enum AccuracyClass: String, Sendable, Hashable, CaseIterable {
    case class0_5 = "0.5"
    case class1_0 = "1.0"
    case class1_5 = "1.5"
}

/// Who the meter bills.
public enum CustomerClass: String, Sendable, Hashable, CaseIterable {
    case residential
    case commercial
    case industrial
}

/// What a meter measures for the network.
public enum MeterRole: String, Sendable, Hashable, CaseIterable {
    /// A customer's meter.
    case customer
    /// A district's supply (regulator or station outlet): the district balance compares it with its customers.
    case districtSupply = "district_supply"
}

/// A calendar date without a time or zone (verification dates).
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    /// Creates a date; check ``isValid``.
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`, or `nil` unless the text is exactly that shape and a real date.
    public init?(iso text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard (0x30...0x39).contains(bytes[index]) else { return nil }
                value = value * 10 + Int(bytes[index] - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return nil }
        self.init(year: year, month: month, day: day)
        guard isValid else { return nil }
    }

    /// Whether the fields name a real date (years 1900…9999).
    public var isValid: Bool {
        CivilTime(year: year, month: month, day: day).isValid && year >= 1900
    }

    /// The calendar date of an instant at a fixed offset from UTC.
    /// - Parameters:
    ///   - instant: The instant.
    ///   - utcOffsetSeconds: Seconds east of UTC (0: the UTC date).
    public init(_ instant: Timestamp, utcOffsetSeconds: Int64 = 0) {
        let civil = CivilTime(utcSeconds: instant.secondsSinceEpoch + utcOffsetSeconds)
        self.init(year: civil.year, month: civil.month, day: civil.day)
    }

    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int64 { CivilTime(year: year, month: month, day: day).utcSeconds / 86_400 }

    /// Midnight UTC at the start of the date.
    public var startUTC: Timestamp { Timestamp(secondsSinceEpoch: daysSinceEpoch * 86_400) }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }
}

/// Everything the registry knows about one meter: identity, keys, and what validation and ticket rules need.
///
/// Flows are exact integers in millilitres per hour. `description` never shows a key.
public struct MeterProfile: Sendable, Equatable, CustomStringConvertible {
    public var `protocol`: FrameProtocol
    /// The address as the protocol writes it (native decimal id, CJ/T 188 14 digits, M-Bus registry address).
    public var address: String
    public var district: String?
    public var isRural: Bool
    public var size: GasMeterSize?
    public var qminMillilitresPerHour: Int64?
    public var qtMillilitresPerHour: Int64?
    public var qmaxMillilitresPerHour: Int64?
    public var accuracyClass: AccuracyClass?
    /// Integer digits of the register: it rolls over at 10^digits m³.
    public var registerDigits: Int?
    public var customerClass: CustomerClass?
    public var verifiedOn: CivilDate?
    public var verificationExpiresOn: CivilDate?
    /// The premises has an appliance that burns continuously (pilot burner, always-on heating).
    public var hasContinuousAppliance: Bool
    /// A methane detector is linked to the meter's shut-off valve.
    public var isMethaneDetectorLinked: Bool
    /// AES-128 key (16 bytes): the meter's only key. Native: the CMAC key; wireless M-Bus mode 5: the decryption
    /// key; mode 7: the key the OMS KDF derives the encryption and MAC keys from.
    public var aesKey: [UInt8]?
    /// `customer` or `district_supply` (the meter a district's customers are balanced against).
    public var role: MeterRole
    /// The collectors that may forward the meter's frames on `<prefix>/up/collector/<collector id>`
    /// (`collector_meters`), each a valid ``CollectorID``; empty when only its own meter topic may carry them.
    public var collectors: [String]
    /// The least protection the meter's frames must carry (`meters.min_protection`); `nil` for the default,
    /// ``ProtectionLevel/defaultMinimum(for:hasKey:)`` of its key.
    public var minProtection: ProtectionLevel?

    /// Creates a profile with only identity set.
    public init(protocol frameProtocol: FrameProtocol, address: String) {
        self.protocol = frameProtocol
        self.address = address
        self.district = nil
        self.isRural = false
        self.size = nil
        self.qminMillilitresPerHour = nil
        self.qtMillilitresPerHour = nil
        self.qmaxMillilitresPerHour = nil
        self.accuracyClass = nil
        self.registerDigits = nil
        self.customerClass = nil
        self.verifiedOn = nil
        self.verificationExpiresOn = nil
        self.hasContinuousAppliance = false
        self.isMethaneDetectorLinked = false
        self.aesKey = nil
        self.role = .customer
        self.collectors = []
        self.minProtection = nil
    }

    /// The minimum that applies: ``minProtection``, else the default for the meter's protocol and key.
    public var effectiveMinProtection: ProtectionLevel {
        minProtection ?? ProtectionLevel.defaultMinimum(for: self.protocol, hasKey: aesKey != nil)
    }

    /// The size number in thousandths of m³/h (G4 → 4000, G1.6 → 1600), or `nil` when the size is unknown.
    public var sizeMillicubicPerHour: Int64? { size?.millicubicPerHour }

    /// The register's rollover value in millilitres, or `nil` when the digits are unknown.
    public var registerModulusMillilitres: Int64? { registerDigits.flatMap(Self.registerModulus(digits:)) }

    /// 10^digits m³ in millilitres for 1…12 integer register digits, else `nil`.
    public static func registerModulus(digits: Int) -> Int64? {
        guard (1...12).contains(digits) else { return nil }
        return Int64(DecimalScale.powerOfTen(digits + 6))
    }

    public var description: String {
        "MeterProfile(\(self.protocol.rawValue) \(address), district: \(district ?? "nil"), size: "
            + "\(size?.rawValue ?? "nil"), key: \(aesKey == nil ? "none" : "aes"))"
    }
}
