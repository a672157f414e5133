public import GatewayCore

/// A meter row from `meters`, as decoders need it to attribute frames and decrypt payloads.
///
/// `description` never shows the key: it prints `aesKey: <redacted>` or `aesKey: nil`.
public struct RegisteredMeter: Sendable, Equatable, CustomStringConvertible {
    /// `meters.id`, the key every stored row uses.
    public var id: Int64
    /// The protocol the meter speaks.
    public var `protocol`: FrameProtocol
    /// The meter's address as its protocol writes it (unique per protocol).
    public var address: String
    /// The district, for grouping and outage areas.
    public var district: String?
    /// Whether the meter is in a rural district (longer P0 arrival deadline).
    public var isRural: Bool
    /// The 16-byte AES-128 key, when the protocol encrypts.
    public var aesKey: [UInt8]?
    /// The least protection the meter's frames must carry (`meters.min_protection`).
    public var minProtection: ProtectionLevel

    /// Creates a meter value.
    /// - Parameters:
    ///   - id: The database id.
    ///   - protocol: The protocol.
    ///   - address: The protocol address.
    ///   - district: The district.
    ///   - isRural: Whether rural.
    ///   - aesKey: The AES-128 key, if any.
    ///   - minProtection: The minimum protection, or `nil` for the default of the key.
    public init(
        id: Int64,
        protocol: FrameProtocol,
        address: String,
        district: String?,
        isRural: Bool,
        aesKey: [UInt8]?,
        minProtection: ProtectionLevel? = nil
    ) {
        self.id = id
        self.protocol = `protocol`
        self.address = address
        self.district = district
        self.isRural = isRural
        self.aesKey = aesKey
        self.minProtection = minProtection ?? .defaultMinimum(for: `protocol`, hasKey: aesKey != nil)
    }

    public var description: String {
        "RegisteredMeter(id: \(id), protocol: \(self.protocol.rawValue), address: \(address), "
            + "district: \(district ?? "nil"), isRural: \(isRural), aesKey: \(aesKey == nil ? "nil" : "<redacted>"), "
            + "minProtection: \(minProtection))"
    }
}

/// A meter to create or update in `meters`, keyed by (protocol, address).
///
/// `description` never shows the key.
public struct MeterRegistration: Sendable, Equatable, CustomStringConvertible {
    /// The protocol the meter speaks.
    public var `protocol`: FrameProtocol
    /// The meter's address as its protocol writes it.
    public var address: String
    /// The district.
    public var district: String?
    /// Whether the meter is in a rural district.
    public var isRural: Bool
    /// The 16-byte AES-128 key, or nil for none. Registering replaces the stored key.
    public var aesKey: [UInt8]?
    /// The minimum protection, or nil for the default of the key (``ProtectionLevel/defaultMinimum(for:hasKey:)``).
    public var minProtection: ProtectionLevel?

    /// Creates a registration.
    /// - Parameters:
    ///   - protocol: The protocol.
    ///   - address: The protocol address.
    ///   - district: The district.
    ///   - isRural: Whether rural.
    ///   - aesKey: The AES-128 key (exactly 16 bytes), or nil.
    ///   - minProtection: The minimum protection, or nil for the default of the key.
    public init(
        protocol: FrameProtocol,
        address: String,
        district: String? = nil,
        isRural: Bool = false,
        aesKey: [UInt8]? = nil,
        minProtection: ProtectionLevel? = nil
    ) {
        self.protocol = `protocol`
        self.address = address
        self.district = district
        self.isRural = isRural
        self.aesKey = aesKey
        self.minProtection = minProtection
    }

    public var description: String {
        "MeterRegistration(protocol: \(self.protocol.rawValue), address: \(address), district: \(district ?? "nil"), "
            + "isRural: \(isRural), aesKey: \(aesKey == nil ? "nil" : "<redacted>"))"
    }
}

/// One meter assigned to one collector (`collector_meters`), as `meters collectors list` shows it.
public struct CollectorAssignment: Sendable, Equatable {
    /// The collector id (the last level of `<prefix>/up/collector/<collector id>`).
    public var collector: String
    /// The meter's protocol.
    public var `protocol`: FrameProtocol
    /// The meter's address as its protocol writes it.
    public var address: String
    /// The meter's registry id.
    public var meterID: Int64

    /// Creates an assignment value.
    /// - Parameters:
    ///   - collector: The collector id.
    ///   - protocol: The meter's protocol.
    ///   - address: The meter's address.
    ///   - meterID: The meter's registry id.
    public init(collector: String, protocol: FrameProtocol, address: String, meterID: Int64) {
        self.collector = collector
        self.protocol = `protocol`
        self.address = address
        self.meterID = meterID
    }
}
