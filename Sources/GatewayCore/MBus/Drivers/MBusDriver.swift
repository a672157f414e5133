// Drivers for manufacturer-specific (proprietary) M-Bus application data: the interface, the static table and
// the selection rule. The layouts are specified in `firmware-protocols/wmbus-drivers.md`.
//
// A driver reads values a manufacturer put at fixed offsets, outside the EN 13757-3 record structure: after a
// manufacturer CI field (`A0`–`B7`, `MBusDriverLocation.manufacturerCI`) or in the manufacturer data after
// DIF `0F`/`1F` (`.manufacturerData`). It is selected by the meter's manufacturer code (the
// 16-bit value as on the wire), version and device type and by where the data sits, is given the decrypted bytes,
// and appends records of the same model the generic decoder produces (`MBusRecord`), so storage and the decode
// JSON treat its values like any other. Drivers are compiled in (no dynamic loading) and decode allocation-free,
// throwing a typed `FrameDecodingError`.
//
// To add a driver: specify the layout with its source, certainty and vectors in
// `firmware-protocols/wmbus-drivers.md` (vectors from `firmware-protocols/tools/gen_wmbus_driver_vectors.py`), add
// a case to `MBusDriverID` (bit, certainty), its row to `MBusDriver.all`, a file beside this one with its decode
// function and selection rule, called from `MBusDriverID.select` and `MBusDecoder.runDriver`
// (MBusDecoder+Drivers.swift).

/// The drivers the gateway has; the raw value is the name used in the configuration and the decode JSON.
public enum MBusDriverID: String, Sendable, Hashable, CaseIterable {
    /// Apator AT-WMBUS-08 radio overlay, CI `A0` (`firmware-protocols/wmbus-drivers.md` §2). Inferred scale.
    case apator08

    /// The driver's bit in an ``MBusDriverSet``.
    var bit: UInt64 {
        switch self {
        case .apator08: 1 << 0
        }
    }

    /// How well the driver's layout and scale are known (the same as its row in ``MBusDriver/all``).
    public var certainty: MBusDriverCertainty {
        switch self {
        case .apator08: .inferred
        }
    }

    /// The selection the decoder runs per frame: the same rule as ``MBusDriver/select(for:at:)``, written as code
    /// so the hot path copies no table row (a test checks that both agree on every identity of the table).
    ///
    /// - Parameters:
    ///   - meter: The meter identity.
    ///   - location: Where the manufacturer data sits.
    /// - Returns: The driver, or `nil`.
    public static func select(for meter: MBusAddress, at location: MBusDriverLocation) -> MBusDriverID? {
        if ApatorOverlayDriver.isSelected(meter, at: location) { return .apator08 }
        return nil
    }
}

/// Where a driver's data sits in the application layer.
public enum MBusDriverLocation: Sendable, Hashable {
    /// Everything after this manufacturer-specific CI field (`A0`–`B7`), which has no TPL header.
    case manufacturerCI(UInt8)
    /// The manufacturer data after a `0F` or `1F` DIF (``MBusFrame/manufacturerDataRange``).
    case manufacturerData
}

/// How well a driver's layout and scale are known.
public enum MBusDriverCertainty: String, Sendable, Hashable {
    /// Layout and scale come from the manufacturer's documentation.
    case documented
    /// Layout or scale were inferred from public test telegrams and another decoder's output, not from the
    /// manufacturer: such a driver runs only when enabled, and its readings carry
    /// ``MBusFrame/inferredScaleStatusBit``.
    case inferred
}

/// One meter identity a driver is selected for: manufacturer code (as on the wire), version and device type.
public struct MBusDriverIdentity: Sendable, Hashable {
    /// The manufacturer code as the little-endian u16 on the wire, including bit 15.
    public var manufacturerCode: UInt16
    /// The version byte.
    public var version: UInt8
    /// The device type byte.
    public var deviceType: UInt8

    /// Creates an identity.
    /// - Parameters:
    ///   - manufacturerCode: The manufacturer code as on the wire.
    ///   - version: The version byte.
    ///   - deviceType: The device type byte.
    public init(manufacturerCode: UInt16, version: UInt8, deviceType: UInt8) {
        self.manufacturerCode = manufacturerCode
        self.version = version
        self.deviceType = deviceType
    }

    /// Whether an address has exactly this manufacturer code, version and device type.
    /// - Parameter address: The meter identity.
    /// - Returns: `true` when all three fields are equal.
    public func matches(_ address: MBusAddress) -> Bool {
        address.manufacturerCode == manufacturerCode && address.version == version
            && address.deviceType == deviceType
    }
}

/// A row of the driver table: what a driver reads and when it is selected (`firmware-protocols/wmbus-drivers.md`
/// §1). The decoder asks ``select(for:at:)`` for manufacturer-specific content and runs the driver only when the
/// caller's ``MBusDriverSet`` holds it.
public struct MBusDriver: Sendable {
    /// The driver.
    public var id: MBusDriverID
    /// The identities it is selected for.
    public var identities: [MBusDriverIdentity]
    /// Where its data sits.
    public var location: MBusDriverLocation
    /// How well its layout and scale are known.
    public var certainty: MBusDriverCertainty
    /// The public source of the layout (repository and path, or document).
    public var source: String

    /// The table, in selection order. No two rows share an identity and a location (a test checks this), so the
    /// first match is the only match and selection is deterministic.
    public static let all: [MBusDriver] = [
        MBusDriver(
            id: .apator08,
            identities: [
                MBusDriverIdentity(manufacturerCode: 0x8614, version: 0x03, deviceType: 0x03),
                MBusDriverIdentity(manufacturerCode: 0x8614, version: 0x0F, deviceType: 0x0F),
            ],
            location: .manufacturerCI(0xA0),
            certainty: .inferred,
            source: "wmbusmeters/wmbusmeters drivers/src/apator08.xmq, src/driver_apator08.cc"
        )
    ]

    /// The driver for a meter and a location, or `nil`: the first row of ``all`` whose location is `location` and
    /// one of whose identities is the meter's. Does not look at whether the driver is enabled.
    ///
    /// - Parameters:
    ///   - meter: The meter identity (TPL long header when present, else the DLL address).
    ///   - location: Where the manufacturer data sits.
    /// - Returns: The driver row, or `nil` when none is selected.
    public static func select(for meter: MBusAddress, at location: MBusDriverLocation) -> MBusDriver? {
        for driver in all where driver.location == location {
            for identity in driver.identities where identity.matches(meter) {
                return driver
            }
        }
        return nil
    }

    /// The row of a driver.
    /// - Parameter id: The driver.
    /// - Returns: Its row in ``all``.
    public static func row(_ id: MBusDriverID) -> MBusDriver? {
        all.first { $0.id == id }
    }
}

/// Which drivers the decoder may run: a set of ``MBusDriverID``s, allocation-free.
///
/// ``documented`` (the default) holds the drivers whose layout and scale come from the manufacturer; drivers of
/// ``MBusDriverCertainty/inferred`` certainty run only when named (`meters.mbus_drivers`), because a wrong bill is
/// worse than a reading kept in quarantine.
public struct MBusDriverSet: Sendable, Hashable {
    private var bits: UInt64

    /// An empty set: proprietary payloads are refused as today.
    public static let none = MBusDriverSet(bits: 0)
    /// Every driver of ``MBusDriverCertainty/documented`` certainty (today: none).
    public static let documented = MBusDriverSet(MBusDriver.all.filter { $0.certainty == .documented }.map(\.id))
    /// Every driver (the decode tool and the fuzzer).
    public static let all = MBusDriverSet(MBusDriverID.allCases)

    private init(bits: UInt64) {
        self.bits = bits
    }

    /// A set of the given drivers.
    /// - Parameter ids: The drivers.
    public init(_ ids: some Sequence<MBusDriverID>) {
        var bits: UInt64 = 0
        for id in ids {
            bits |= id.bit
        }
        self.bits = bits
    }

    /// Parses a comma-separated list of driver names (spaces around names ignored; empty gives ``documented``).
    /// - Parameter names: e.g. `"apator08"`.
    /// - Returns: ``documented`` plus the named drivers, or `nil` when a name is not a driver.
    public init?(names: String) {
        var set = MBusDriverSet.documented
        for part in names.split(separator: ",") {
            let name = part.trimmingCharacters(in: " ")
            guard !name.isEmpty else { continue }
            guard let id = MBusDriverID(rawValue: name) else { return nil }
            set.bits |= id.bit
        }
        self = set
    }

    /// Whether the set holds a driver.
    /// - Parameter id: The driver.
    /// - Returns: `true` when the decoder may run it.
    public func contains(_ id: MBusDriverID) -> Bool {
        bits & id.bit != 0
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in character: Character) -> String {
        var text = self
        while text.first == character { text.removeFirst() }
        while text.last == character { text.removeLast() }
        return String(text)
    }
}
