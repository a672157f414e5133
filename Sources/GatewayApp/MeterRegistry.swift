import GatewayCore
import PostgresSink

/// The zones meter clocks run in, per protocol family (settings `meters.*_clock_utc_offset_minutes`).
struct MeterClocks: Sendable, Equatable {
    var cjt188: MeterClock
    /// Wireless and wired M-Bus.
    var mbus: MeterClock
}

/// The registered meters the decoders may accept frames from, per protocol, keyed by the address each protocol's
/// frames carry, so that a lookup is one hash probe of an integer and never formats a string.
struct MeterRegistry {
    /// A native meter: frames must carry a MAC made with its key.
    struct NativeEntry {
        var meterID: Int64
        var key: AES128Key
        /// Built once at load, so an ack never formats a topic.
        var downlinkTopic: String
    }

    /// A CJ/T 188 or M-Bus meter. A key, when registered, must have protected the frame.
    struct Entry {
        var meterID: Int64
        var key: AES128Key?
    }

    private(set) var native: [UInt64: NativeEntry] = [:]
    /// By ``CJT188Address/rawValue``.
    private(set) var cjt188: [UInt64: Entry] = [:]
    /// By ``MBusAddress/registryKey``.
    private(set) var wmbus: [UInt64: Entry] = [:]
    /// By ``MBusAddress/registryKey``.
    private(set) var mbus: [UInt64: Entry] = [:]

    /// Replaces one protocol's table with `meters`.
    /// - Returns: The meters skipped because their address or key is unusable for that protocol (a native meter
    ///   needs a decimal id and a key; a CJ/T 188 meter 14 digits; an M-Bus meter `MFR-12345678-<ver>-<type>`).
    mutating func replace(_ frameProtocol: FrameProtocol, with meters: [RegisteredMeter], topics: TopicScheme) -> Int {
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
            cjt188 = Self.table(meters, skipped: &skipped) { CJT188Address(label: $0)?.rawValue }
        case .wmbus:
            wmbus = Self.table(meters, skipped: &skipped) { MBusAddress(registryAddress: $0)?.registryKey }
        case .mbus:
            mbus = Self.table(meters, skipped: &skipped) { MBusAddress(registryAddress: $0)?.registryKey }
        }
        return skipped
    }

    private static func table(
        _ meters: [RegisteredMeter],
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
            fresh[packed] = Entry(meterID: meter.id, key: key)
        }
        return fresh
    }

    /// The M-Bus table of a protocol (``FrameProtocol/wmbus`` or ``FrameProtocol/mbus``).
    func mbusTable(_ frameProtocol: FrameProtocol) -> [UInt64: Entry] {
        frameProtocol == .mbus ? mbus : wmbus
    }
}

extension MBusAddress {
    /// The four identity fields packed into one integer: manufacturer, id, version, device type.
    var registryKey: UInt64 {
        UInt64(manufacturerCode) << 48 | UInt64(id) << 16 | UInt64(version) << 8 | UInt64(deviceType)
    }

    /// Whether a topic's address names this meter: either its 8-digit identification number or its full
    /// ``registryAddress``. Reads the bytes in place; only the long form builds a string.
    func isNamed(byTopicAddress bytes: UnsafeRawBufferPointer) -> Bool {
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
