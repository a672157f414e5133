/// Status bits of a native reading frame (u32). Bits 13–31 are reserved: kept raw and shown as `bit13` etc.
public struct NativeStatus: OptionSet, Sendable, Hashable {
    /// The raw 32-bit status word.
    public var rawValue: UInt32

    /// Wraps a raw status word; reserved bits are kept.
    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// Bit 0: the meter shut its valve by itself.
    public static let valveShutByMeter = NativeStatus(rawValue: 1 << 0)
    /// Bit 1: battery low.
    public static let batteryLow = NativeStatus(rawValue: 1 << 1)
    /// Bit 2: battery lock (valve closed because the battery is nearly empty).
    public static let batteryLock = NativeStatus(rawValue: 1 << 2)
    /// Bit 3: magnetic interference detected.
    public static let magneticInterference = NativeStatus(rawValue: 1 << 3)
    /// Bit 4: tilt or removal detected.
    public static let tiltOrRemoval = NativeStatus(rawValue: 1 << 4)
    /// Bit 5: the meter's clock is not valid (also set by the gateway when meter time is 0).
    public static let clockInvalid = NativeStatus(rawValue: 1 << 5)
    /// Bit 6: the meter suspects a leak.
    public static let leakSuspected = NativeStatus(rawValue: 1 << 6)
    /// Bit 7: over-flow.
    public static let overFlow = NativeStatus(rawValue: 1 << 7)
    /// Bit 8: supply pressure low.
    public static let pressureLow = NativeStatus(rawValue: 1 << 8)
    /// Bit 9: valve fault.
    public static let valveFault = NativeStatus(rawValue: 1 << 9)
    /// Bit 10: the connected methane detector is active.
    public static let methaneDetectorActive = NativeStatus(rawValue: 1 << 10)
    /// Bit 11: reverse flow.
    public static let reverseFlow = NativeStatus(rawValue: 1 << 11)
    /// Bit 12: the meter's cover is open.
    public static let coverOpen = NativeStatus(rawValue: 1 << 12)

    /// The JSON name of each bit 0…31; reserved bits are `bit13` … `bit31`.
    public static let bitNames: [String] =
        [
            "valve_shut_by_meter", "battery_low", "battery_lock", "magnetic_interference", "tilt_or_removal",
            "clock_invalid", "leak_suspected", "over_flow", "pressure_low", "valve_fault", "methane_detector_active",
            "reverse_flow", "cover_open",
        ] + (13..<32).map { "bit\($0)" }

    /// The names of the set bits, lowest bit first (allocates; for JSON and logs).
    public var names: [String] {
        (0..<32).filter { rawValue & (1 << UInt32($0)) != 0 }.map { Self.bitNames[$0] }
    }
}

extension AlarmCondition {
    /// Maps a native alarm code to the condition vocabulary; unknown codes map to ``unrecognised``.
    ///
    /// - Parameter nativeCode: The alarm code of a native alarm frame (0x0001…0x000E are defined).
    public init(nativeCode: UInt16) {
        switch nativeCode {
        case 0x0001: self = .methaneDetector
        case 0x0002: self = .overFlow
        case 0x0003: self = .continuousFlowTimeout
        case 0x0004: self = .tinyFlowLeak
        case 0x0005: self = .uncontrolledFlowAfterReopen
        case 0x0006: self = .flowWithValveClosed
        case 0x0007: self = .tiltOrRemoval
        case 0x0008: self = .magneticAttack
        case 0x0009: self = .seismicShutOff
        case 0x000A: self = .pressureLow
        case 0x000B: self = .valveFault
        case 0x000C: self = .batteryLow
        case 0x000D: self = .batteryLock
        case 0x000E: self = .clockFault
        default: self = .unrecognised
        }
    }

    /// The native alarm code of this condition, or `nil` for conditions native meters do not report (``meterFault``,
    /// ``unrecognised``).
    public var nativeCode: UInt16? {
        switch self {
        case .methaneDetector: 0x0001
        case .overFlow: 0x0002
        case .continuousFlowTimeout: 0x0003
        case .tinyFlowLeak: 0x0004
        case .uncontrolledFlowAfterReopen: 0x0005
        case .flowWithValveClosed: 0x0006
        case .tiltOrRemoval: 0x0007
        case .magneticAttack: 0x0008
        case .seismicShutOff: 0x0009
        case .pressureLow: 0x000A
        case .valveFault: 0x000B
        case .batteryLow: 0x000C
        case .batteryLock: 0x000D
        case .clockFault: 0x000E
        case .meterFault, .gasSmellReported, .continuousFlowWarning, .continuousFlowEscalated, .continuousFlowLeak,
            .suddenIncrease, .nightFlowRising, .networkLeakSuspected, .unrecognised:
            nil
        }
    }
}
