/// The frame types of the native protocol v1 (see `firmware-protocols/native-v1.md`).
///
/// Types below 0x80 are uplinks (meter → gateway); types from 0x80 are downlinks (gateway → meter).
public enum NativeFrameType: UInt8, Sendable, Hashable, CaseIterable {
    /// 0x01: a periodic register reading with flow, valve, battery, temperature, signal and status.
    case reading = 0x01
    /// 0x02: a daily report with an interval consumption log and frozen register totals.
    case dailyReport = 0x02
    /// 0x03: an alarm raised or cleared.
    case alarm = 0x03
    /// 0x04: the meter's answer to a valve command or parameter update.
    case commandResult = 0x04
    /// 0x81: the gateway's acknowledgement of a committed uplink.
    case ack = 0x81
    /// 0x82: close the valve, or permit opening it after a local button press.
    case valveCommand = 0x82
    /// 0x83: change meter parameters.
    case parameterUpdate = 0x83

    /// Whether frames of this type travel from the meter to the gateway.
    public var isUplink: Bool { rawValue < 0x80 }

    /// The snake_case name used in JSON, e.g. `daily_report`.
    public var name: String {
        switch self {
        case .reading: "reading"
        case .dailyReport: "daily_report"
        case .alarm: "alarm"
        case .commandResult: "command_result"
        case .ack: "ack"
        case .valveCommand: "valve_command"
        case .parameterUpdate: "parameter_update"
        }
    }
}

/// The result an ack (frame type 0x81) reports for an uplink.
public enum NativeAckResult: UInt8, Sendable, Hashable, CaseIterable {
    /// The frame is durably committed; the meter may forget it.
    case stored = 0
    /// The frame (meter, frame counter) was already committed earlier; the meter may forget it.
    case duplicate = 1
    /// The frame was authenticated but is invalid and was quarantined; the meter must not retransmit it.
    case rejected = 2

    /// The snake_case name used in JSON.
    public var name: String {
        switch self {
        case .stored: "stored"
        case .duplicate: "duplicate"
        case .rejected: "rejected"
        }
    }
}
