/// The zones meter clocks run in, per protocol family (settings `meters.*_clock_utc_offset_minutes`).
public struct MeterClocks: Sendable, Equatable {
    /// CJ/T 188 meters.
    public var cjt188: MeterClock
    /// Wireless and wired M-Bus.
    public var mbus: MeterClock

    /// Creates the zones.
    /// - Parameters:
    ///   - cjt188: The zone of CJ/T 188 meter clocks.
    ///   - mbus: The zone of M-Bus meter clocks.
    public init(cjt188: MeterClock, mbus: MeterClock) {
        self.cjt188 = cjt188
        self.mbus = mbus
    }
}

/// The registered meters the decoders may accept frames from, per protocol, keyed by the address each protocol's
/// frames carry, so that a lookup is one hash probe of an integer and never formats a string.
///
/// A plain value: the app loads it from the `meters` and `collector_meters` tables; tests build it from ``Meter``
/// values and (meter id, collector id) pairs.
public struct MeterRegistry: Sendable {
    /// A registered meter as the registry is loaded from.
    public struct Meter: Sendable, Equatable {
        /// The meter's registry id (`meters.id`).
        public var id: Int64
        /// The meter's address as its protocol writes it.
        public var address: String
        /// The 16-byte AES-128 key, if any.
        public var aesKey: [UInt8]?
        /// The least protection the meter's frames must carry (`meters.min_protection`); `nil` for the default
        /// (``ProtectionLevel/defaultMinimum(for:hasKey:)``).
        public var minProtection: ProtectionLevel?

        /// Creates a meter.
        /// - Parameters:
        ///   - id: The registry id.
        ///   - address: The protocol address.
        ///   - aesKey: The key bytes, if any.
        ///   - minProtection: The meter's minimum protection, or `nil` for the default.
        public init(id: Int64, address: String, aesKey: [UInt8]?, minProtection: ProtectionLevel? = nil) {
            self.id = id
            self.address = address
            self.aesKey = aesKey
            self.minProtection = minProtection
        }
    }

    /// A native meter: frames must carry a MAC made with its key.
    public struct NativeEntry: Sendable {
        public var meterID: Int64
        public var key: AES128Key
        /// Built once at load, so an ack never formats a topic.
        public var downlinkTopic: String
    }

    /// A CJ/T 188 or M-Bus meter. A frame whose protected content is below ``minimum`` is quarantined.
    public struct Entry: Sendable {
        public var meterID: Int64
        public var key: AES128Key?
        /// The least protection the meter's frames must carry.
        public var minimum: ProtectionLevel
    }

    /// An empty registry.
    public init() {}

    public private(set) var native: [UInt64: NativeEntry] = [:]
    /// By ``CJT188Address/rawValue``.
    public private(set) var cjt188: [UInt64: Entry] = [:]
    /// By ``MBusAddress/registryKey``.
    public private(set) var wmbus: [UInt64: Entry] = [:]
    /// By ``MBusAddress/registryKey``.
    public private(set) var mbus: [UInt64: Entry] = [:]
    /// Which collectors may speak for which meters (by ``Meter/id``), whatever their protocol: a frame on a
    /// collector topic whose meter is not assigned to that collector is quarantined `collector_not_assigned`.
    public var collectors = CollectorAssignments()
    /// The M-Bus record layouts known per meter, for compact frames (``FormatLayoutBook``).
    public var formats = FormatLayoutBook()

    /// Replaces one protocol's table with `meters`.
    /// - Returns: The meters skipped because their address or key is unusable for that protocol (a native meter
    ///   needs a decimal id and a key; a CJ/T 188 meter 14 digits; an M-Bus meter `MFR-12345678-<ver>-<type>`).
    public mutating func replace(_ frameProtocol: FrameProtocol, with meters: [Meter], topics: TopicScheme) -> Int {
        var skipped = 0
        switch frameProtocol {
        case .native:
            var fresh: [UInt64: NativeEntry] = [:]
            fresh.reserveCapacity(meters.count)
            for meter in meters {
                guard let id = UInt64(meter.address), let keyBytes = meter.aesKey, let key = AES128Key(bytes: keyBytes)
                else {
                    skipped += 1
                    continue
                }
                fresh[id] = NativeEntry(
                    meterID: meter.id,
                    key: key,
                    downlinkTopic: topics.downlinkTopic(.native, address: meter.address)
                )
            }
            native = fresh
        case .cjt188:
            cjt188 = Self.table(meters, .cjt188, skipped: &skipped) { CJT188Address(label: $0)?.rawValue }
        case .wmbus:
            wmbus = Self.table(meters, .wmbus, skipped: &skipped) { MBusAddress(registryAddress: $0)?.registryKey }
        case .mbus:
            mbus = Self.table(meters, .mbus, skipped: &skipped) { MBusAddress(registryAddress: $0)?.registryKey }
        }
        return skipped
    }

    private static func table(
        _ meters: [Meter],
        _ frameProtocol: FrameProtocol,
        skipped: inout Int,
        key address: (String) -> UInt64?
    ) -> [UInt64: Entry] {
        var fresh: [UInt64: Entry] = [:]
        fresh.reserveCapacity(meters.count)
        for meter in meters {
            guard let packed = address(meter.address) else {
                skipped += 1
                continue
            }
            let key = meter.aesKey.flatMap { AES128Key(bytes: $0) }
            if meter.aesKey != nil && key == nil {
                skipped += 1
                continue
            }
            let minimum =
                meter.minProtection ?? ProtectionLevel.defaultMinimum(for: frameProtocol, hasKey: key != nil)
            fresh[packed] = Entry(meterID: meter.id, key: key, minimum: minimum)
        }
        return fresh
    }

    /// The M-Bus table of a protocol (``FrameProtocol/wmbus`` or ``FrameProtocol/mbus``).
    public func mbusTable(_ frameProtocol: FrameProtocol) -> [UInt64: Entry] {
        frameProtocol == .mbus ? mbus : wmbus
    }
}

extension MBusAddress {
    /// The four identity fields packed into one integer: manufacturer, id, version, device type.
    ///
    /// The manufacturer is its three letters (bits 14–0): bit 15, which some meters set on the wire (Apator's
    /// AT-WMBUS-08 sends `14 86`, `APT` = `0x0614`), is not part of ``registryAddress``, so a meter registered as
    /// `APT-…` is found whichever way it sends it.
    public var registryKey: UInt64 {
        UInt64(manufacturerCode & 0x7FFF) << 48 | UInt64(id) << 16 | UInt64(version) << 8 | UInt64(deviceType)
    }

    /// Whether a topic's address names this meter: either its 8-digit identification number or its full
    /// ``registryAddress``. Reads the bytes in place; only the long form builds a string.
    public func isNamed(byTopicAddress bytes: UnsafeRawBufferPointer) -> Bool {
        if bytes.count == 8 {
            var value: UInt32 = 0
            for byte in bytes {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return false
                }
                value = value << 4 | UInt32(digit)
            }
            return value == id
        }
        return MBusAddress(registryAddress: String(decoding: bytes, as: UTF8.self)) == self
    }
}
