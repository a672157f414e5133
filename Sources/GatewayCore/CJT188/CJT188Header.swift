/// The meter type byte T.
public struct CJT188MeterType: RawRepresentable, Sendable, Hashable {
    /// The type byte as sent.
    public var rawValue: UInt8

    /// Wraps a type byte.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// `10`: cold water meter.
    public static let coldWater = CJT188MeterType(rawValue: 0x10)
    /// `20`: heat meter (heat).
    public static let heat = CJT188MeterType(rawValue: 0x20)
    /// `30`: gas meter.
    public static let gas = CJT188MeterType(rawValue: 0x30)
    /// `AA`: the wildcard type of broadcast requests.
    public static let wildcard = CJT188MeterType(rawValue: 0xAA)

    /// The family the type belongs to, or `nil` for a byte outside every CJ/T 188 range.
    public var family: CJT188MeterFamily? {
        switch rawValue {
        case 0x10...0x19: .water
        case 0x20...0x29: .heat
        case 0x30...0x39: .gas
        case 0x40...0x49: .custom
        case 0xAA: .wildcard
        default: nil
        }
    }
}

/// The meter families of CJ/T 188, by range of the type byte.
public enum CJT188MeterFamily: Sendable, Hashable, CaseIterable {
    /// `10`…`19`: water meters (cold, hot, drinking, reclaimed).
    case water
    /// `20`…`29`: heat and cooling meters.
    case heat
    /// `30`…`39`: gas meters.
    case gas
    /// `40`…`49`: user-defined; no layout is known, so the decoder rejects them (`unknown_type`).
    case custom
    /// `AA`: the wildcard of broadcast requests.
    case wildcard

    /// The lower-case word used in JSON (`meter.type`).
    public var name: String {
        switch self {
        case .water: "water"
        case .heat: "heat"
        case .gas: "gas"
        case .custom: "custom"
        case .wildcard: "wildcard"
        }
    }
}

/// The 7-byte address A0…A6: 14 BCD digits, A0 (the two least significant digits) sent first.
///
/// Non-BCD bytes (seen on simulators) are kept as sent; the label shows them as hexadecimal.
public struct CJT188Address: Sendable, Hashable {
    /// The 7 bytes as sent, A0 in the lowest byte (bits 0–7) … A6 in bits 48–55.
    public var rawValue: UInt64

    /// Wraps 7 bytes packed A0 first (A0 in the lowest byte); bits 56–63 are ignored.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue & 0x00FF_FFFF_FFFF_FFFF
    }

    /// Reads A0…A6 from `bytes` at `offset`; the caller has checked the bounds.
    init(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        var value: UInt64 = 0
        for index in 0..<7 {
            value |= UInt64(bytes[offset + index]) << (8 * UInt64(index))
        }
        self.rawValue = value
    }

    /// Parses the 14-digit label form (most significant digit first), e.g. `"78330011223344"`.
    ///
    /// - Parameter label: 14 decimal digits.
    /// - Returns: The address, or `nil` unless the text is exactly 14 decimal digits.
    public init?(label: some StringProtocol) {
        guard let address = Array(label.utf8).withUnsafeBytes({ CJT188Address(labelBytes: $0) }) else { return nil }
        self = address
    }

    /// Parses the 14-digit label form from bytes in place (a topic's address), without allocating.
    ///
    /// - Parameter bytes: 14 ASCII decimal digits.
    /// - Returns: The address, or `nil` unless the bytes are exactly 14 decimal digits.
    public init?(labelBytes bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 14 else { return nil }
        var value: UInt64 = 0
        for pair in 0..<7 {
            let high = bytes[2 * pair]
            let low = bytes[2 * pair + 1]
            guard (0x30...0x39).contains(high), (0x30...0x39).contains(low) else { return nil }
            value |= UInt64((high - 0x30) << 4 | (low - 0x30)) << (8 * UInt64(6 - pair))
        }
        self.rawValue = value
    }

    /// `AA AA AA AA AA AA AA`: the broadcast address of read-address requests.
    public static let broadcast = CJT188Address(rawValue: 0xAA_AAAA_AAAA_AAAA)

    /// The byte Ai, `index` 0…6 (A0 first on the wire).
    public func byte(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: rawValue >> (8 * UInt64(index))) }

    /// A bit per byte (bit i for Ai) whose byte is not two BCD digits.
    public var nonBCDMask: UInt8 {
        var mask: UInt8 = 0
        for index in 0..<7 where !BCD.isValid(byte(index)) {
            mask |= 1 << UInt8(index)
        }
        return mask
    }

    /// Whether every byte is two BCD digits.
    public var isBCD: Bool { nonBCDMask == 0 }

    /// Whether this is the broadcast address `AA…AA`.
    public var isBroadcast: Bool { self == .broadcast }

    /// The 14-digit number when every byte is BCD (A6 most significant), else `nil`.
    public var number: UInt64? {
        guard isBCD else { return nil }
        var value: UInt64 = 0
        for index in stride(from: 6, through: 0, by: -1) {
            let byte = byte(index)
            value = value * 100 + UInt64(byte >> 4) * 10 + UInt64(byte & 0x0F)
        }
        return value
    }

    /// The label form: A6 … A0, two characters per byte, most significant first (`78330011223344`). A non-BCD byte
    /// appears as its two hexadecimal digits (allocates; for JSON and logs).
    public var label: String { Hex.encode((0..<7).reversed().map { byte($0) }) }

    /// The 7 bytes in wire order A0 … A6 as hexadecimal (allocates; for JSON and logs).
    public var wireHex: String { Hex.encode((0..<7).map { byte($0) }) }
}

/// The control code C.
public struct CJT188Control: RawRepresentable, Sendable, Hashable {
    /// The control byte as sent.
    public var rawValue: UInt8

    /// Wraps a control byte.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Builds a control byte.
    ///
    /// - Parameters:
    ///   - function: The function code.
    ///   - isFromMeter: D7: `true` for a reply (meter → master).
    ///   - isAbnormal: D6: `true` for an abnormal reply.
    public init(function: CJT188Function, isFromMeter: Bool, isAbnormal: Bool = false) {
        self.rawValue = function.rawValue | (isFromMeter ? 0x80 : 0) | (isAbnormal ? 0x40 : 0)
    }

    /// D7: the frame travels from the meter to the master.
    public var isFromMeter: Bool { rawValue & 0x80 != 0 }
    /// D6: an abnormal reply (the meter could not execute the request).
    public var isAbnormal: Bool { rawValue & 0x40 != 0 }
    /// D5: the "follow-up frame" flag of one source (not supported).
    public var hasFollowUp: Bool { rawValue & 0x20 != 0 }
    /// D4…D0: the function code.
    public var functionCode: UInt8 { rawValue & 0x1F }
    /// The function, or `nil` when D4…D0 is not a CJ/T 188 function code.
    public var function: CJT188Function? { CJT188Function(rawValue: functionCode) }
}

/// The function codes (C bits D4…D0).
public enum CJT188Function: UInt8, Sendable, Hashable, CaseIterable {
    /// `01`: read data.
    case readData = 0x01
    /// `03`: read address.
    case readAddress = 0x03
    /// `04`: write data.
    case writeData = 0x04
    /// `09`: read key version (one source only).
    case readKeyVersion = 0x09
    /// `15`: write address.
    case writeAddress = 0x15
    /// `16`: write "machine-electrical synchronisation" data.
    case synchronize = 0x16

    /// The snake_case name used in JSON.
    public var name: String {
        switch self {
        case .readData: "read_data"
        case .readAddress: "read_address"
        case .writeData: "write_data"
        case .readKeyVersion: "read_key_version"
        case .writeAddress: "write_address"
        case .synchronize: "synchronize"
        }
    }
}

/// The byte order of a data identifier on the wire.
public enum CJT188DIOrder: Sendable, Hashable, CaseIterable {
    /// High byte first: DI 901F sent as `90 1F`.
    case bigEndian
    /// Low byte first: DI 901F sent as `1F 90`.
    case littleEndian

    /// The snake_case name used in JSON.
    public var name: String {
        switch self {
        case .bigEndian: "big_endian"
        case .littleEndian: "little_endian"
        }
    }
}

/// A data identifier DI, in its canonical form (`0x901F`).
public struct CJT188DataIdentifier: RawRepresentable, Sendable, Hashable {
    /// The identifier, high byte first.
    public var rawValue: UInt16

    /// Wraps an identifier.
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// `901F`: read meter data (current and settlement values, clock, status).
    public static let meterData = CJT188DataIdentifier(rawValue: 0x901F)
    /// `907F`: the real-time clock.
    public static let clock = CJT188DataIdentifier(rawValue: 0x907F)
    /// `810A`: the meter address (read address).
    public static let address = CJT188DataIdentifier(rawValue: 0x810A)
    /// `A016`: machine-electrical synchronisation.
    public static let synchronization = CJT188DataIdentifier(rawValue: 0xA016)
    /// `A017`: valve control.
    public static let valveControl = CJT188DataIdentifier(rawValue: 0xA017)
    /// `A018`: write address.
    public static let writeAddress = CJT188DataIdentifier(rawValue: 0xA018)

    /// The function a known identifier belongs to, or `nil` for an unknown identifier.
    ///
    /// Known: `901F`, `907F`, `911F`, `8102`…`8105`, `D120`…`D12B` (read data); `810A` (read address);
    /// `A010`…`A015`, `A017`, `A019`, `A101`…`A107` (write data); `A016` (synchronise); `A018` (write address).
    /// No known identifier is the byte swap of another or of itself, so both byte orders can be matched.
    public var function: CJT188Function? {
        switch rawValue {
        case 0x901F, 0x907F, 0x911F, 0x8102...0x8105, 0xD120...0xD12B: .readData
        case 0x810A: .readAddress
        case 0xA010...0xA015, 0xA017, 0xA019, 0xA101...0xA107: .writeData
        case 0xA016: .synchronize
        case 0xA018: .writeAddress
        default: nil
        }
    }

    /// Whether the identifier is in the known-DI table.
    public var isKnown: Bool { function != nil }

    /// The two bytes as sent in `order`.
    public func wireBytes(_ order: CJT188DIOrder) -> (UInt8, UInt8) {
        let high = UInt8(rawValue >> 8)
        let low = UInt8(rawValue & 0xFF)
        return order == .bigEndian ? (high, low) : (low, high)
    }

    /// Matches two wire bytes against the known-DI table in both byte orders.
    ///
    /// - Returns: The identifier and the order it was sent in, or `nil` when neither order is known.
    public static func match(_ first: UInt8, _ second: UInt8) -> (CJT188DataIdentifier, CJT188DIOrder)? {
        let bigEndian = CJT188DataIdentifier(rawValue: UInt16(first) << 8 | UInt16(second))
        if bigEndian.isKnown { return (bigEndian, .bigEndian) }
        let littleEndian = CJT188DataIdentifier(rawValue: UInt16(second) << 8 | UInt16(first))
        if littleEndian.isKnown { return (littleEndian, .littleEndian) }
        return nil
    }

    /// Four upper-case hexadecimal digits, e.g. `901F` (allocates; for JSON).
    public var hex: String { Hex.encode([UInt8(rawValue >> 8), UInt8(rawValue & 0xFF)]) }
}

/// The command byte of a valve control request (DI A017).
public enum CJT188ValveCommand: UInt8, Sendable, Hashable, CaseIterable {
    /// `55`: open the valve.
    case open = 0x55
    /// `99`: close the valve.
    case close = 0x99

    /// The word used in JSON.
    public var name: String {
        switch self {
        case .open: "open"
        case .close: "close"
        }
    }
}
