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

    /// A native meter: frames must carry a MAC made with its key; ``MeterTable/Meter/extra`` is its downlink topic,
    /// built once at load so that an ack never formats one.
    public typealias NativeEntry = MeterTable<String>.Meter

    /// A CJ/T 188 or M-Bus meter. A frame whose protected content is below ``MeterTable/Meter/minimum`` is
    /// quarantined.
    public typealias Entry = MeterTable<Void>.Meter

    /// An empty registry.
    public init() {}

    /// By the native meter id.
    public private(set) var native = MeterTable<String>()
    /// By ``CJT188Address/rawValue``.
    public private(set) var cjt188 = MeterTable<Void>()
    /// By ``MBusAddress/registryKey``.
    public private(set) var wmbus = MeterTable<Void>()
    /// By ``MBusAddress/registryKey``.
    public private(set) var mbus = MeterTable<Void>()
    /// Which collectors may speak for which meters (by ``Meter/id``), whatever their protocol: a frame on a
    /// collector topic whose meter is not assigned to that collector is quarantined `collector_not_assigned`.
    public var collectors = CollectorAssignments()
    /// The M-Bus record layouts known per meter, for compact frames (``FormatLayoutBook``).
    public var formats = FormatLayoutBook()

    /// The number of meters in every protocol's table.
    public var count: Int { native.count + cjt188.count + wmbus.count + mbus.count }

    /// Replaces one protocol's table with `meters`.
    /// - Returns: The meters skipped because their address or key is unusable for that protocol (a native meter
    ///   needs a decimal id and a key; a CJ/T 188 meter 14 digits; an M-Bus meter `MFR-12345678-<ver>-<type>`).
    public mutating func replace(_ frameProtocol: FrameProtocol, with meters: [Meter], topics: TopicScheme) -> Int {
        switch frameProtocol {
        case .native: native = MeterTable()
        case .cjt188: cjt188 = MeterTable()
        case .wmbus: wmbus = MeterTable()
        case .mbus: mbus = MeterTable()
        }
        reserveCapacity(meters.count, for: frameProtocol)
        return meters.count(where: { !upsert(frameProtocol, $0, topics: topics) })
    }

    /// Reserves room for `count` meters of one protocol (before a full load).
    /// - Parameters:
    ///   - count: The number of meters expected.
    ///   - frameProtocol: Their protocol.
    public mutating func reserveCapacity(_ count: Int, for frameProtocol: FrameProtocol) {
        switch frameProtocol {
        case .native: native.reserveCapacity(count)
        case .cjt188: cjt188.reserveCapacity(count)
        case .wmbus: wmbus.reserveCapacity(count)
        case .mbus: mbus.reserveCapacity(count)
        }
    }

    /// Adds a meter, or replaces the one with the same address.
    /// - Parameters:
    ///   - frameProtocol: The meter's protocol.
    ///   - meter: The meter.
    ///   - topics: The topic scheme (for a native meter's downlink topic).
    /// - Returns: `false` when the meter's address or key is unusable for its protocol (it is not in the table
    ///   then; a meter already there under the same address is removed, since its row no longer describes it).
    @discardableResult
    public mutating func upsert(_ frameProtocol: FrameProtocol, _ meter: Meter, topics: TopicScheme) -> Bool {
        guard let identity = Self.identity(of: meter.address, frameProtocol) else { return false }
        var block: AES128.Block?
        if let bytes = meter.aesKey {
            guard let parsed = AES128.Block(bytes: bytes) else {
                remove(frameProtocol, address: meter.address)
                return false
            }
            block = parsed
        }
        let minimum = meter.minProtection ?? ProtectionLevel.defaultMinimum(for: frameProtocol, hasKey: block != nil)
        switch frameProtocol {
        case .native:
            guard block != nil else {
                native.remove(identity)
                return false
            }
            let topic = topics.downlinkTopic(.native, address: meter.address)
            native.insert(identity, .init(meterID: meter.id, keyBlock: block, minimum: minimum, extra: topic))
        case .cjt188:
            cjt188.insert(identity, .init(meterID: meter.id, keyBlock: block, minimum: minimum, extra: ()))
        case .wmbus:
            wmbus.insert(identity, .init(meterID: meter.id, keyBlock: block, minimum: minimum, extra: ()))
        case .mbus:
            mbus.insert(identity, .init(meterID: meter.id, keyBlock: block, minimum: minimum, extra: ()))
        }
        return true
    }

    /// Removes the meter registered under `address`, if it is the meter `meterID` (or any meter when `nil`).
    /// - Parameters:
    ///   - frameProtocol: The protocol.
    ///   - address: The address as the protocol writes it.
    ///   - meterID: The registry id of the removed meter (a deleted or re-addressed row), or `nil`.
    /// - Returns: Whether a meter was removed.
    @discardableResult
    public mutating func remove(_ frameProtocol: FrameProtocol, address: String, meterID: Int64? = nil) -> Bool {
        guard let identity = Self.identity(of: address, frameProtocol) else { return false }
        switch frameProtocol {
        case .native: return native.remove(identity, meterID: meterID)
        case .cjt188: return cjt188.remove(identity, meterID: meterID)
        case .wmbus: return wmbus.remove(identity, meterID: meterID)
        case .mbus: return mbus.remove(identity, meterID: meterID)
        }
    }

    /// Whether a meter is registered under `address` in this registry.
    /// - Parameters:
    ///   - frameProtocol: The protocol.
    ///   - address: The address as the protocol writes it.
    public func contains(_ frameProtocol: FrameProtocol, address: String) -> Bool {
        guard let identity = Self.identity(of: address, frameProtocol) else { return false }
        switch frameProtocol {
        case .native: return native.contains(identity)
        case .cjt188: return cjt188.contains(identity)
        case .wmbus: return wmbus.contains(identity)
        case .mbus: return mbus.contains(identity)
        }
    }

    /// The identity a protocol's frames carry for a registry address, or `nil` when the address does not fit the
    /// protocol.
    /// - Parameters:
    ///   - address: The address as the registry stores it.
    ///   - frameProtocol: The protocol.
    public static func identity(of address: String, _ frameProtocol: FrameProtocol) -> UInt64? {
        switch frameProtocol {
        case .native: UInt64(address)
        case .cjt188: CJT188Address(label: address)?.rawValue
        case .wmbus, .mbus: MBusAddress(registryAddress: address)?.registryKey
        }
    }

    /// The bytes the protocol tables hold (array capacities; strings of native topics not included).
    public var tableBytes: Int {
        native.allocatedBytes + cjt188.allocatedBytes + wmbus.allocatedBytes + mbus.allocatedBytes
    }

    /// The M-Bus table of a protocol (``FrameProtocol/wmbus`` or ``FrameProtocol/mbus``).
    public func mbusTable(_ frameProtocol: FrameProtocol) -> MeterTable<Void> {
        frameProtocol == .mbus ? mbus : wmbus
    }
}

extension MeterTable<String>.Meter {
    /// A native meter's downlink topic.
    public var downlinkTopic: String { extra }
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
