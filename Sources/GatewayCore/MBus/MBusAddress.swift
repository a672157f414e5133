/// The identity of an M-Bus device: manufacturer, identification number, version and device type.
///
/// The same four fields appear in the wireless data link layer (DLL), in a long transport-layer header (CI `72`)
/// and in the extended link layer (CI `8E`/`8F`). The gateway registers meters (and their keys) under
/// ``registryAddress``, e.g. `ELS-12345678-51-03`.
///
/// A plain value; building one never allocates. The `String` properties allocate and are for keys, logs and JSON.
public struct MBusAddress: Sendable, Hashable, CustomStringConvertible {
    /// The manufacturer code as the little-endian u16 on the wire (three 5-bit letters, e.g. `0x1593` = `ELS`).
    public var manufacturerCode: UInt16
    /// The identification number as the u32 read little-endian from the wire, so its hex digits are the BCD digits:
    /// wire bytes `78 56 34 12` give `0x12345678`, label `12345678`.
    public var id: UInt32
    /// The manufacturer-specific version (generation) byte.
    public var version: UInt8
    /// The device type (medium) byte, e.g. `0x03` gas; see ``MBusDeviceType``.
    public var deviceType: UInt8

    /// Creates an address from its raw fields.
    ///
    /// - Parameters:
    ///   - manufacturerCode: The manufacturer code (u16 as on the wire).
    ///   - id: The identification number, BCD digits as hex digits (wire bytes read little-endian).
    ///   - version: The version byte.
    ///   - deviceType: The device type byte.
    public init(manufacturerCode: UInt16, id: UInt32, version: UInt8, deviceType: UInt8) {
        self.manufacturerCode = manufacturerCode
        self.id = id
        self.version = version
        self.deviceType = deviceType
    }

    /// Parses a registry address such as `ELS-12345678-51-03` (manufacturer letters A–Z, 8 hex digits of the id,
    /// version in decimal, device type as 2 hex digits).
    ///
    /// - Parameter registryAddress: The text form produced by ``registryAddress``.
    /// - Returns: `nil` unless the text has exactly that shape.
    public init?(registryAddress: some StringProtocol) {
        let parts = registryAddress.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].utf8.count == 3, parts[1].utf8.count == 8, parts[3].utf8.count == 2,
            let code = Self.manufacturerCode(letters: parts[0]),
            let id = UInt32(parts[1], radix: 16),
            let version = UInt8(parts[2], radix: 10),
            let type = UInt8(parts[3], radix: 16)
        else { return nil }
        self.init(manufacturerCode: code, id: id, version: version, deviceType: type)
    }

    /// The three manufacturer letters, e.g. `ELS` (each 5-bit field + 64, so 0 shows as `@`).
    public var manufacturer: String {
        var text = ""
        for shift in [10, 5, 0] {
            text.unicodeScalars.append(Unicode.Scalar(UInt8((manufacturerCode >> UInt16(shift)) & 0x1F) + 64))
        }
        return text
    }

    /// The identification number as 8 characters, e.g. `12345678` (a non-BCD nibble shows as `A`–`F`).
    public var label: String {
        Hex.encode([UInt8(id >> 24), UInt8((id >> 16) & 0xFF), UInt8((id >> 8) & 0xFF), UInt8(id & 0xFF)])
    }

    /// Whether all 8 digits of the identification number are decimal.
    public var hasDecimalID: Bool {
        var rest = id
        for _ in 0..<8 {
            if rest & 0xF > 9 { return false }
            rest >>= 4
        }
        return true
    }

    /// The key the gateway registers the meter under: `<MFR>-<8 digit id>-<version decimal>-<type 2 hex digits>`,
    /// e.g. `ELS-12345678-51-03`.
    public var registryAddress: String {
        "\(manufacturer)-\(label)-\(version)-\(Hex.encode([deviceType]))"
    }

    /// The device type's name, e.g. `gas` (see ``MBusDeviceType/name(of:)``).
    public var deviceTypeName: String { MBusDeviceType.name(of: deviceType) }

    /// The ``registryAddress``.
    public var description: String { registryAddress }

    /// Encodes three letters `A`–`Z` as a manufacturer code.
    static func manufacturerCode(letters: some StringProtocol) -> UInt16? {
        var code: UInt16 = 0
        var count = 0
        for byte in letters.utf8 {
            guard byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") else { return nil }
            code = code << 5 | UInt16(byte - 64)
            count += 1
        }
        return count == 3 ? code : nil
    }
}

/// Names of the EN 13757-3 device type (medium) byte.
public enum MBusDeviceType {
    /// `0x03`, gas meter.
    public static let gas: UInt8 = 0x03

    /// The snake_case name of a device type byte, or `unknown` for codes without a name (keep the raw code beside
    /// it).
    ///
    /// - Parameter code: The device type byte.
    /// - Returns: e.g. `gas`, `water`, `warm_water`, `heat`, `heat_cost_allocator`, `radio_converter`.
    public static func name(of code: UInt8) -> String {
        switch code {
        case 0x00: "other"
        case 0x01: "oil"
        case 0x02: "electricity"
        case 0x03: "gas"
        case 0x04: "heat"
        case 0x05: "steam"
        case 0x06: "warm_water"
        case 0x07: "water"
        case 0x08: "heat_cost_allocator"
        case 0x09: "compressed_air"
        case 0x0A: "cooling_outlet"
        case 0x0B: "cooling_inlet"
        case 0x0C: "heat_inlet"
        case 0x0D: "heat_cooling"
        case 0x0E: "bus_component"
        case 0x0F: "unknown_medium"
        case 0x15: "hot_water"
        case 0x16: "cold_water"
        case 0x17: "dual_register_water"
        case 0x18: "pressure"
        case 0x19: "ad_converter"
        case 0x1A: "smoke_detector"
        case 0x1B: "room_sensor"
        case 0x1C: "gas_detector"
        case 0x20: "breaker"
        case 0x21: "valve"
        case 0x25: "customer_unit"
        case 0x28: "waste_water"
        case 0x29: "garbage"
        case 0x2A: "carbon_dioxide"
        case 0x31: "communication_controller"
        case 0x32: "unidirectional_repeater"
        case 0x33: "bidirectional_repeater"
        case 0x36: "radio_converter_system"
        case 0x37: "radio_converter"
        default: "unknown"
        }
    }
}
