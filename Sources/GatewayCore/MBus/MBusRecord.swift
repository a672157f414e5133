/// What an M-Bus data record measures or describes, from its VIF (primary table, `FB`/`FD` extension tables,
/// plain-text or manufacturer VIF). The raw value is the JSON name.
public enum MBusQuantity: String, Sendable, Hashable, CaseIterable {
    // Primary VIF table (EN 13757-3).
    case energy
    case volume
    case mass
    case onTime = "on_time"
    case operatingTime = "operating_time"
    case power
    /// Volume flow (`38`–`4F`).
    case flow
    case massFlow = "mass_flow"
    case flowTemperature = "flow_temperature"
    case returnTemperature = "return_temperature"
    case temperatureDifference = "temperature_difference"
    case externalTemperature = "external_temperature"
    case pressure
    /// A date (type G, VIF `6C`).
    case date
    /// A date and time (type F or I, VIF `6D`).
    case dateTime = "date_time"
    case hcaUnits = "hca_units"
    case averagingDuration = "averaging_duration"
    case actualityDuration = "actuality_duration"
    case fabricationNumber = "fabrication_number"
    case enhancedIdentification = "enhanced_identification"
    case busAddress = "bus_address"
    /// VIF `7C`/`FC`: the unit is given as text in the record.
    case plainTextUnit = "plain_text_unit"
    /// VIF `7F`/`FF`: manufacturer specific.
    case manufacturerSpecific = "manufacturer_specific"
    // FD extension table.
    case credit
    case debit
    case accessNumber = "access_number"
    case deviceType = "device_type"
    case manufacturer
    case parameterSet = "parameter_set"
    case modelVersion = "model_version"
    case hardwareVersion = "hardware_version"
    case firmwareVersion = "firmware_version"
    case softwareVersion = "software_version"
    case customerLocation = "customer_location"
    case customer
    case password
    /// `FD 17`: error flags; the bit meanings are manufacturer specific, so the value is kept as raw bits.
    case errorFlags = "error_flags"
    case errorMask = "error_mask"
    case digitalOutput = "digital_output"
    case digitalInput = "digital_input"
    case dimensionless
    case voltage
    case current
    case resetCounter = "reset_counter"
    case cumulationCounter = "cumulation_counter"
    case specialSupplierInformation = "special_supplier_information"
    case batteryOperatingTime = "battery_operating_time"
    case batteryChangeDate = "battery_change_date"
    case receptionLevel = "reception_level"
    /// `FD 74`: remaining battery lifetime in days.
    case batteryRemaining = "battery_remaining"
    /// A VIF this decoder has no entry for; the record keeps its raw bytes.
    case unknown

    /// Whether values of this quantity are measurements the gateway can store as readings.
    public var isMeasurement: Bool {
        switch self {
        case .energy, .volume, .mass, .onTime, .operatingTime, .power, .flow, .massFlow, .flowTemperature,
            .returnTemperature, .temperatureDifference, .externalTemperature, .pressure, .hcaUnits, .voltage, .current,
            .batteryOperatingTime, .receptionLevel, .batteryRemaining:
            true
        default:
            false
        }
    }

    /// Whether the value is a point in time (types G, F, I).
    public var isTimePoint: Bool {
        self == .date || self == .dateTime || self == .batteryChangeDate
    }

    /// Whether the value is a bit field kept raw (error flags, masks, digital inputs and outputs).
    public var isBitField: Bool {
        self == .errorFlags || self == .errorMask || self == .digitalOutput || self == .digitalInput
    }
}

/// The unit of a record's value after applying its ``MBusRecord/exponent``. The raw value is the JSON name.
public enum MBusUnit: String, Sendable, Hashable, CaseIterable {
    case none = ""
    case wattHour = "Wh"
    case joule = "J"
    case cubicMetre = "m3"
    case kilogram = "kg"
    case second = "s"
    case minute = "min"
    case hour = "h"
    case day = "d"
    case month
    case year
    case watt = "W"
    case joulePerHour = "J/h"
    case cubicMetrePerHour = "m3/h"
    case cubicMetrePerMinute = "m3/min"
    case cubicMetrePerSecond = "m3/s"
    case kilogramPerHour = "kg/h"
    case degreeCelsius = "degC"
    case kelvin = "K"
    case bar
    case megawattHour = "MWh"
    case gigajoule = "GJ"
    case tonne = "t"
    case megawatt = "MW"
    case gigajoulePerHour = "GJ/h"
    case volt = "V"
    case ampere = "A"
    case decibelMilliwatt = "dBm"
    /// Credit and debit: the local legal currency unit.
    case currency
    /// Plain-text VIF: the unit text is in the record (``MBusFrame/plainTextUnit(of:)``).
    case text
}

/// Which gas volume a record carries (EN 13757-3 orthogonal VIFEs). A gas gateway keeps these channels apart.
public enum MBusVolumeBasis: String, Sendable, Hashable {
    /// No VIFE says: the meter's main register.
    case unspecified
    /// VIFE `3A`: uncorrected meter unit, volume at metering conditions (Vm).
    case uncorrected
    /// VIFE `3E`: value at base conditions, temperature/pressure converted (Vb).
    case converted
}

/// Which flow direction a register accumulates (VIFEs `3B`, `3C`).
public enum MBusAccumulation: String, Sendable, Hashable {
    /// No direction VIFE: the ordinary register.
    case standard
    /// VIFE `3B`: accumulates positive contributions only (forward flow).
    case forwardOnly = "forward_only"
    /// VIFE `3C`: accumulates the absolute value of negative contributions only (backward flow).
    case backwardOnly = "backward_only"
}

/// The DIF function field.
public enum MBusFunction: String, Sendable, Hashable {
    case instantaneous
    case maximum
    case minimum
    /// Value during an error state.
    case duringError = "during_error"
}

/// Which VIF table a record's ``MBusRecord/vifCode`` belongs to.
public enum MBusVIFTable: String, Sendable, Hashable {
    case primary
    /// First extension table (VIF `FB`).
    case extensionFB = "fb"
    /// Second extension table (VIF `FD`).
    case extensionFD = "fd"
    /// VIF `7C`/`FC`: the unit is ASCII text in the record.
    case plainText = "plain_text"
    /// VIF `7F`/`FF`.
    case manufacturer
}

/// A record's decoded value. Numbers are scaled by ``MBusRecord/exponent``; bytes stay in the frame
/// (``MBusRecord/dataRange`` indexes ``MBusFrame/bytes``).
public enum MBusValue: Sendable, Hashable {
    /// No data (data field `0` or `8`).
    case none
    /// A signed integer (binary type B or BCD type A); the value is `integer × 10^exponent` in the record's unit.
    case integer(Int64)
    /// A 32-bit real (type H); the value is `real × 10^exponent` in the record's unit.
    case real(Float)
    /// A time point (types G, F, I); `nil` when the meter sent a sentinel, the invalid flag or impossible fields.
    case date(CivilTime?)
    /// A bit field (error flags, digital I/O), unsigned, little-endian as on the wire.
    case bits(UInt64)
    /// ASCII text (LVAR `00`–`BF`), sent reversed; read it with ``MBusFrame/text(of:)``.
    case text
    /// Raw bytes this decoder does not interpret (LVAR binary, manufacturer data records).
    case bytes
    /// Bytes that cannot be a value of the record's type: a BCD digit A–F, a NaN or infinite real, a date of the
    /// wrong length. Never coerced into a number.
    case invalid

    /// `none`, `integer`, `real`, `date`, `bits`, `text`, `bytes` or `invalid`, as in JSON.
    public var kindName: String {
        switch self {
        case .none: "none"
        case .integer: "integer"
        case .real: "real"
        case .date: "date"
        case .bits: "bits"
        case .text: "text"
        case .bytes: "bytes"
        case .invalid: "invalid"
        }
    }
}

/// One EN 13757-3 data record: DIF [DIFE…] VIF [VIFE…] data.
///
/// A plain value without heap storage; byte ranges index the frame's plaintext ``MBusFrame/bytes``.
public struct MBusRecord: Sendable, Hashable {
    /// The DIF byte.
    public var dif: UInt8
    /// The DIF function field.
    public var function: MBusFunction
    /// The storage number (DIF bit 6 plus 4 bits per DIFE); 0 = current value.
    public var storage: UInt64
    /// The tariff (2 bits per DIFE).
    public var tariff: UInt32
    /// The subunit (device) number (1 bit per DIFE).
    public var subunit: UInt16
    /// The VIF table.
    public var vifTable: MBusVIFTable
    /// The VIF code within its table with the extension bit cleared (for `FB`/`FD` the byte after `FB`/`FD`).
    public var vifCode: UInt8
    /// What the record measures.
    public var quantity: MBusQuantity
    /// The unit after applying ``exponent``.
    public var unit: MBusUnit
    /// The decimal exponent: value = raw × 10^exponent ``unit``.
    public var exponent: Int8
    /// Vm / Vb / unspecified (VIFE `3A` / `3E` / none).
    public var basis: MBusVolumeBasis
    /// Forward-only / backward-only / standard accumulation (VIFE `3B` / `3C` / none).
    public var accumulation: MBusAccumulation
    /// The first VIFE whose meaning this decoder does not apply (per-time units, limits, correction factors,
    /// record error codes, `7F` manufacturer VIFE, …), or `nil`. A record with a modifier is not a plain
    /// measurement of ``quantity`` and must not be stored as one.
    public var modifier: UInt8?
    /// The decoded value.
    public var value: MBusValue
    /// DIF through the last VIFE (including a plain-text unit) in ``MBusFrame/bytes``.
    public var headerRange: Range<Int>
    /// The value bytes (after an LVAR length byte) in ``MBusFrame/bytes``.
    public var dataRange: Range<Int>
    /// For VIF `7C`/`FC`: the reversed ASCII unit text in ``MBusFrame/bytes``.
    public var plainTextUnitRange: Range<Int>?
    /// Whether the record was inside the part decrypted with the meter's key or covered by a verified MAC. Records
    /// of a mode-0 frame, of an "already decrypted" frame, or after the encrypted blocks of a mode-5 frame are not
    /// protected: anyone could have written them.
    public var isProtected: Bool

    /// An empty placeholder (fills unused slots of ``MBusFrame/records``).
    public static let empty = MBusRecord(
        dif: 0,
        function: .instantaneous,
        storage: 0,
        tariff: 0,
        subunit: 0,
        vifTable: .primary,
        vifCode: 0,
        quantity: .unknown,
        unit: .none,
        exponent: 0,
        basis: .unspecified,
        accumulation: .standard,
        modifier: nil,
        value: .none,
        headerRange: 0..<0,
        dataRange: 0..<0,
        plainTextUnitRange: nil,
        isProtected: false
    )

    /// Creates a record.
    public init(
        dif: UInt8,
        function: MBusFunction,
        storage: UInt64,
        tariff: UInt32,
        subunit: UInt16,
        vifTable: MBusVIFTable,
        vifCode: UInt8,
        quantity: MBusQuantity,
        unit: MBusUnit,
        exponent: Int8,
        basis: MBusVolumeBasis,
        accumulation: MBusAccumulation,
        modifier: UInt8?,
        value: MBusValue,
        headerRange: Range<Int>,
        dataRange: Range<Int>,
        plainTextUnitRange: Range<Int>?,
        isProtected: Bool
    ) {
        self.dif = dif
        self.function = function
        self.storage = storage
        self.tariff = tariff
        self.subunit = subunit
        self.vifTable = vifTable
        self.vifCode = vifCode
        self.quantity = quantity
        self.unit = unit
        self.exponent = exponent
        self.basis = basis
        self.accumulation = accumulation
        self.modifier = modifier
        self.value = value
        self.headerRange = headerRange
        self.dataRange = dataRange
        self.plainTextUnitRange = plainTextUnitRange
        self.isProtected = isProtected
    }

    /// The DIF data field (low nibble): the data type and length.
    public var dataField: UInt8 { dif & 0x0F }

    /// The integer value (scaled by ``exponent``), or `nil` for other value kinds.
    public var scaledValue: Int64? {
        if case .integer(let value) = value { return value }
        return nil
    }

    /// The time point, or `nil` for other kinds, sentinels and invalid dates.
    public var date: CivilTime? {
        if case .date(let date) = value { return date }
        return nil
    }

    /// Whether this record is a measurement the gateway can store as a reading: a measurement quantity, a numeric
    /// valid value, and no VIFE whose meaning is not applied.
    public var isPlainMeasurement: Bool {
        guard modifier == nil, quantity.isMeasurement else { return false }
        switch value {
        case .integer: return true
        case .real(let real): return real.isFinite
        default: return false
        }
    }

    /// A volume in exact millilitres (10⁻⁶ m³), or `nil` unless this is an integer volume in m³ whose value fits
    /// an Int64 in millilitres.
    public var millilitres: Int64? {
        guard quantity == .volume, unit == .cubicMetre, case .integer(let raw) = value else { return nil }
        // Finer than a millilitre is exact only when the digits below a millilitre are zero.
        return DecimalScale.scaled(raw, by: Int(exponent) + 6)
    }
}

extension MBusValue {
    /// The exact value `self × 10^exponent` of an integer or a finite real, else `nil`.
    ///
    /// Integers are exact; a real is the shortest decimal that round-trips the 32-bit value (`Float`'s own
    /// description), with its point shifted by `exponent`.
    ///
    /// - Parameter exponent: The record's power of ten.
    /// - Returns: The value with every digit of its resolution, e.g. 2850427 and −2 give `28504.27`.
    public func exactDecimal(exponent: Int) -> ExactDecimal? {
        switch self {
        case .integer(let integer):
            return ExactDecimal(integer, exponent: exponent)
        case .real(let real):
            guard real.isFinite else { return nil }
            // Float.description: "1.5", "0.25", "1e-05", "3.4028235e+38".
            var mantissa = Substring(real.magnitude.description)
            var decimalExponent = 0
            if let e = mantissa.firstIndex(where: { $0 == "e" || $0 == "E" }) {
                decimalExponent = Int(mantissa[mantissa.index(after: e)...]) ?? 0
                mantissa = mantissa[..<e]
            }
            let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
            let fraction = parts.count > 1 ? parts[1] : ""
            guard let significand = UInt64(parts[0] + fraction) else { return nil }
            return ExactDecimal(
                significand: significand,
                exponent: decimalExponent - fraction.count + exponent,
                isNegative: real < 0
            )
        default:
            return nil
        }
    }
}
