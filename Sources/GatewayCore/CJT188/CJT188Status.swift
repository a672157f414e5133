/// The status word ST: ST1 (standard bits) then ST2 (manufacturer bits).
///
/// ``rawValue`` = ST1 + 256 × ST2, so bit n is Dn (D0…D7 in ST1, D8…D15 in ST2). The named bits follow the default
/// profile (D0 valve closed, D1 valve abnormal, D2 battery low); ``CJT188StatusProfile`` holds other vendors' maps.
public struct CJT188Status: RawRepresentable, Sendable, Hashable {
    /// The 16-bit word, ST1 in the low byte.
    public var rawValue: UInt16

    /// Wraps a status word.
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// Builds the word from the two bytes as sent.
    public init(st1: UInt8, st2: UInt8) {
        self.rawValue = UInt16(st1) | UInt16(st2) << 8
    }

    /// The first status byte (standard bits).
    public var st1: UInt8 { UInt8(rawValue & 0xFF) }
    /// The second status byte (manufacturer bits).
    public var st2: UInt8 { UInt8(rawValue >> 8) }

    /// D0: the valve is closed (default profile).
    public var isValveClosed: Bool { CJT188StatusProfile.standard.isValveClosed(self) }
    /// D1: the valve is abnormal (default profile).
    public var isValveAbnormal: Bool { CJT188StatusProfile.standard.isValveAbnormal(self) }
    /// D2: the battery is low (default profile).
    public var isBatteryLow: Bool { CJT188StatusProfile.standard.isBatteryLow(self) }
    /// The valve state by the default profile: abnormal ⇒ fault, else closed or open.
    public var valve: ValveState { CJT188StatusProfile.standard.valve(self) }

    /// The JSON name of each bit D0…D15 (default profile): `valve_closed`, `valve_abnormal`, `battery_low`,
    /// `st1_bit3` … `st1_bit7`, `st2_bit0` … `st2_bit7`.
    public static let bitNames: [String] =
        ["valve_closed", "valve_abnormal", "battery_low"] + (3..<8).map { "st1_bit\($0)" }
        + (0..<8).map { "st2_bit\($0)" }

    /// The names of the set bits, D0 first (allocates; for JSON and logs).
    public var names: [String] { (0..<16).filter { rawValue & (1 << UInt16($0)) != 0 }.map { Self.bitNames[$0] } }

    /// The alarm conditions the default profile maps status bits to: D1 → valve fault, D2 → battery low.
    public static let alarmBits: [(bit: Int, condition: AlarmCondition)] = [(1, .valveFault), (2, .batteryLow)]
}

/// Which status bits mean valve closed, valve abnormal and battery low for a meter model.
///
/// A bit group matches when all of its mask's bits are set. The default (``standard``) is the one-bit map of the
/// standard-based drivers; another source uses the masks `0x40` (closed), `0xC0` (abnormal) and `0x20` (battery).
public struct CJT188StatusProfile: Sendable, Hashable {
    /// The mask of "valve closed" in the status word.
    public var valveClosedMask: UInt16
    /// The mask of "valve abnormal" in the status word; checked before ``valveClosedMask``.
    public var valveAbnormalMask: UInt16
    /// The mask of "battery low" in the status word.
    public var batteryLowMask: UInt16

    /// Creates a profile from three masks (each non-zero).
    public init(valveClosedMask: UInt16, valveAbnormalMask: UInt16, batteryLowMask: UInt16) {
        self.valveClosedMask = valveClosedMask
        self.valveAbnormalMask = valveAbnormalMask
        self.batteryLowMask = batteryLowMask
    }

    /// The default: D0 valve closed, D1 valve abnormal, D2 battery low.
    public static let standard = CJT188StatusProfile(
        valveClosedMask: 0x01,
        valveAbnormalMask: 0x02,
        batteryLowMask: 0x04
    )

    /// Whether the status says "valve closed".
    public func isValveClosed(_ status: CJT188Status) -> Bool { matches(status, valveClosedMask) }
    /// Whether the status says "valve abnormal".
    public func isValveAbnormal(_ status: CJT188Status) -> Bool { matches(status, valveAbnormalMask) }
    /// Whether the status says "battery low".
    public func isBatteryLow(_ status: CJT188Status) -> Bool { matches(status, batteryLowMask) }

    /// The valve state: abnormal ⇒ ``ValveState/fault``, else closed ⇒ ``ValveState/closed``, else open.
    public func valve(_ status: CJT188Status) -> ValveState {
        if isValveAbnormal(status) { return .fault }
        return isValveClosed(status) ? .closed : .open
    }

    private func matches(_ status: CJT188Status, _ mask: UInt16) -> Bool {
        mask != 0 && status.rawValue & mask == mask
    }
}
