/// A unit code (CJ/T 188-2004 Table 13 / 2018 Table 20): the byte after each quantity.
public struct CJT188Unit: RawRepresentable, Sendable, Hashable {
    /// The unit code as sent.
    public var rawValue: UInt8

    /// Wraps a unit code.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// `2C`: m³, the unit gas meters normally report.
    public static let cubicMetres = CJT188Unit(rawValue: 0x2C)

    /// What a unit measures.
    public enum Kind: Sendable, Hashable {
        case energy
        case power
        case volume
        case flow
    }

    /// The kind, or `nil` for a code outside the supported table (`01`…`1C`, `29`…`2E`, `32`…`37`).
    public var kind: Kind? {
        switch rawValue {
        case 0x01...0x13: .energy
        case 0x14...0x1C: .power
        case 0x29...0x2E: .volume
        case 0x32...0x37: .flow
        default: nil
        }
    }

    /// The power of ten of the code's multiplier: 0 for `2C` m³, 1 for `2D` m³×10, 2 for `2E` m³×100.
    public var multiplierExponent: Int {
        switch rawValue {
        case 0x01: 0
        case 0x02...0x13: (Int(rawValue) - 0x02) % 3
        case 0x14...0x1C: (Int(rawValue) - 0x14) % 3
        case 0x29...0x2E: (Int(rawValue) - 0x29) % 3
        case 0x32...0x37: (Int(rawValue) - 0x32) % 3
        default: 0
        }
    }

    /// The unit the value is shown in, the multiplier applied: `m3` for every volume code, `m3/h` for every flow
    /// code, else the code's base unit (`J`, `Wh`, `kWh`, `MWh`, `kJ`, `MJ`, `GJ`, `W`, `kW`, `MW`); empty for an
    /// unknown code.
    public var displaySymbol: String {
        switch rawValue {
        case 0x01: "J"
        case 0x02...0x04: "Wh"
        case 0x05...0x07: "kWh"
        case 0x08...0x0A: "MWh"
        case 0x0B...0x0D: "kJ"
        case 0x0E...0x10: "MJ"
        case 0x11...0x13: "GJ"
        case 0x14...0x16: "W"
        case 0x17...0x19: "kW"
        case 0x1A...0x1C: "MW"
        case 0x29...0x2E: "m3"
        case 0x32...0x37: "m3/h"
        default: ""
        }
    }

    /// The power of ten from one unit of the code (its multiplier applied) to ``displaySymbol``: −3 for litres,
    /// −2 for litres×10, 0 for m³, 2 for m³×100; the multiplier alone for energy and power.
    public var displayExponent: Int {
        switch rawValue {
        case 0x29...0x2B, 0x32...0x34: multiplierExponent - 3
        default: multiplierExponent
        }
    }
}

/// A quantity as sent: packed BCD digits with implied decimals, and a unit code.
public struct CJT188Quantity: Sendable, Hashable {
    /// The BCD digits as an integer (8 digits: 0…99,999,999).
    public var raw: UInt32
    /// The implied decimals of ``raw`` (2 for volumes and energy, 4 for flow).
    public var decimals: Int
    /// The unit code.
    public var unit: CJT188Unit

    /// Creates a quantity.
    public init(raw: UInt32, decimals: Int, unit: CJT188Unit) {
        self.raw = raw
        self.decimals = decimals
        self.unit = unit
    }

    /// The digits after the decimal point of the value in ``CJT188Unit/displaySymbol`` (never negative).
    public var displayScale: Int { max(0, decimals - unit.displayExponent) }

    /// The value in ``CJT188Unit/displaySymbol`` as a scaled integer: value = `displayRaw` × 10^−``displayScale``.
    public var displayRaw: UInt64 {
        let shift = displayScale - (decimals - unit.displayExponent)
        return DecimalScale.wrappingScaled(UInt64(raw), by: shift)
    }

    /// The volume in millilitres (10⁻⁶ m³), exact, or `nil` when the unit is not a volume unit.
    ///
    /// raw × 10^(6 − decimals + unit exponent): at most 99,999,999 × 10⁶, well inside `Int64`.
    public var millilitres: Int64? {
        guard unit.kind == .volume else { return nil }
        let exponent = 6 - decimals + unit.displayExponent
        guard exponent >= 0 && exponent <= 10 else { return nil }
        return Int64(DecimalScale.wrappingScaled(UInt64(raw), by: exponent))
    }
}

/// The meter's real-time clock field (7 BCD bytes, wire order ss mm hh DD MM YY CC).
public struct CJT188Clock: Sendable, Hashable {
    /// Whether the field holds a usable time.
    public enum State: Sendable, Hashable {
        /// A valid BCD date and time.
        case valid
        /// All seven bytes are zero: the meter has no clock.
        case notSet
        /// Not BCD, or not a real date or time of day (some meters send binary here). Not a parse failure.
        case invalid

        /// The snake_case name used in JSON.
        public var name: String {
            switch self {
            case .valid: "valid"
            case .notSet: "not_set"
            case .invalid: "invalid"
            }
        }
    }

    /// The state of the field.
    public var state: State
    /// The time, for a ``State/valid`` clock only.
    public var time: CivilTime?

    /// Creates a clock field.
    public init(state: State, time: CivilTime?) {
        self.state = state
        self.time = state == .valid ? time : nil
    }
}

/// Bytes of a data field kept as sent (raw bodies, abnormal status bytes), stored inline: no allocation.
public struct CJT188Payload: Sendable, Equatable {
    /// The most bytes kept: a whole data field (L is at most 255).
    public static let capacity = 255

    /// The number of valid bytes in ``bytes``.
    public var count: Int
    /// The bytes; entries from ``count`` on are unused.
    public var bytes: InlineArray<255, UInt8>

    /// Creates an empty payload.
    public init() {
        self.count = 0
        self.bytes = InlineArray(repeating: 0)
    }

    /// Creates a payload from an array (at most 255 bytes are kept).
    public init(_ array: [UInt8]) {
        self.init()
        self.count = min(array.count, Self.capacity)
        for index in 0..<count {
            bytes[index] = array[index]
        }
    }

    /// Copies bytes from a buffer (at most 255; the caller has checked the bounds).
    init(_ buffer: UnsafeRawBufferPointer) {
        self.init()
        self.count = min(buffer.count, Self.capacity)
        for index in 0..<count {
            bytes[index] = buffer[index]
        }
    }

    /// The valid bytes as an array (allocates; for tests and tools).
    public var array: [UInt8] { (0..<min(max(count, 0), Self.capacity)).map { bytes[$0] } }

    /// Compares the valid bytes only.
    public static func == (lhs: CJT188Payload, rhs: CJT188Payload) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for index in 0..<min(max(lhs.count, 0), capacity) where lhs.bytes[index] != rhs.bytes[index] {
            return false
        }
        return true
    }
}
