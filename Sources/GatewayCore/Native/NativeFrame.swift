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

/// One decoded frame of the native protocol v1: header, typed body and whether its MAC was verified.
///
/// A plain value with no heap storage (fixed-capacity `InlineArray`s hold the variable parts), so decoding into it
/// never allocates. Frames from ``NativeDecoder`` have passed every range check of the specification; frames built
/// by hand are checked by ``NativeEncoder`` before they are sent.
public struct NativeFrame: Sendable, Equatable {
    /// The header flags byte. Bits 2–7 are reserved and must be 0.
    public struct Flags: OptionSet, Sendable, Hashable {
        /// The raw flags byte.
        public var rawValue: UInt8

        /// Wraps a raw flags byte.
        public init(rawValue: UInt8) {
            self.rawValue = rawValue
        }

        /// Bit 0: the meter wants an ack after the gateway committed the frame.
        public static let ackRequested = Flags(rawValue: 1 << 0)
        /// Bit 1: this uplink repeats an earlier one (same frame counter and content).
        public static let retransmission = Flags(rawValue: 1 << 1)
        /// The bits v1 defines; all others are reserved.
        public static let defined: Flags = [.ackRequested, .retransmission]
    }

    /// The 23-byte frame header.
    public struct Header: Sendable, Hashable {
        /// The protocol version (1).
        public var version: UInt8
        /// The raw frame type byte (see ``NativeFrameType``).
        public var frameType: UInt8
        /// The flags byte.
        public var flags: Flags
        /// The meter id (non-zero); its label form is the decimal number.
        public var meterID: UInt64
        /// The frame counter: per meter for uplinks, the command counter or acked counter for downlinks.
        public var frameCounter: UInt32
        /// The meter's clock in seconds since 1970-01-01 UTC; 0 means the clock is not set.
        public var meterTime: UInt32
        /// The payload length N in bytes (0…479).
        public var payloadLength: Int

        /// Creates a header.
        public init(
            version: UInt8 = NativeDecoder.version,
            frameType: UInt8,
            flags: Flags,
            meterID: UInt64,
            frameCounter: UInt32,
            meterTime: UInt32,
            payloadLength: Int
        ) {
            self.version = version
            self.frameType = frameType
            self.flags = flags
            self.meterID = meterID
            self.frameCounter = frameCounter
            self.meterTime = meterTime
            self.payloadLength = payloadLength
        }

        /// The frame type, if it is one v1 defines.
        public var knownFrameType: NativeFrameType? { NativeFrameType(rawValue: frameType) }

        /// Whether the meter's clock was set when it sent the frame.
        public var isClockSet: Bool { meterTime != 0 }

        /// The total frame size, 33 + N bytes.
        public var frameSize: Int { NativeDecoder.minimumFrameSize + payloadLength }
    }

    /// Whether the frame's MAC was checked against the meter's key.
    public enum MACStatus: Sendable, Hashable {
        /// The MAC verified with the meter's key.
        case verified
        /// The frame was decoded without a key; its content is not authenticated.
        case notVerified

        /// `verified` or `not_verified`, as in JSON.
        public var name: String {
            switch self {
            case .verified: "verified"
            case .notVerified: "not_verified"
            }
        }
    }

    /// A gas volume register value: raw count × 10^exponent m³, rolling over at 10^digits m³.
    public struct Register: Sendable, Hashable {
        /// The raw register count.
        public var raw: UInt64
        /// The decimal exponent, −6…0 (m³ = raw × 10^exponent).
        public var exponent: Int8
        /// The number of integer digits of the register in m³, 4…10.
        public var digits: UInt8

        /// Creates a register value.
        public init(raw: UInt64, exponent: Int8, digits: UInt8) {
            self.raw = raw
            self.exponent = exponent
            self.digits = digits
        }

        /// The number of raw counts after which the register rolls over: 10^(digits − exponent).
        public var rawModulus: UInt64 { NativeDecoder.powerOfTen(Int(digits) - Int(exponent)) }

        /// Millilitres per raw count: 10^(exponent + 6).
        public var millilitresPerCount: Int64 { Int64(NativeDecoder.powerOfTen(Int(exponent) + 6)) }

        /// The register value in millilitres (exact; valid for decoded, range-checked values).
        public var millilitres: Int64 { Int64(truncatingIfNeeded: raw) &* millilitresPerCount }

        /// The rollover modulus 10^digits m³ in millilitres.
        public var modulusMillilitres: Int64 { Int64(NativeDecoder.powerOfTen(Int(digits) + 6)) }

        /// The value in m³ as exact decimal text with the register's resolution, e.g. `"1234.567"`.
        public var cubicMetresText: String {
            DecimalText.format(magnitude: raw, isNegative: false, scale: -Int(exponent), trimTrailingZeros: false)
        }
    }

    /// Body of a periodic reading (type 0x01, 25 bytes).
    public struct Reading: Sendable, Hashable {
        /// The volume register.
        public var register: Register
        /// Flow in mL/h, or `nil` when not measured (wire 0xFFFFFFFF).
        public var flowMillilitresPerHour: UInt32?
        /// The valve position (wire 0 open, 1 closed, 2 moving, 3 fault, 0xFF unknown / no valve).
        public var valve: ValveState
        /// Battery voltage in mV, or `nil` when not measured (wire 0xFFFF).
        public var batteryMillivolts: UInt16?
        /// Temperature in 0.01 °C (−4000…8500), or `nil` when not measured (wire 0x8000).
        public var temperatureCentiCelsius: Int16?
        /// Radio signal strength in dBm (−150…0), or `nil` when not measured (wire 0x8000).
        public var signalDBm: Int16?
        /// The status word as sent.
        public var status: NativeStatus

        /// Creates a reading body.
        public init(
            register: Register,
            flowMillilitresPerHour: UInt32?,
            valve: ValveState,
            batteryMillivolts: UInt16?,
            temperatureCentiCelsius: Int16?,
            signalDBm: Int16?,
            status: NativeStatus
        ) {
            self.register = register
            self.flowMillilitresPerHour = flowMillilitresPerHour
            self.valve = valve
            self.batteryMillivolts = batteryMillivolts
            self.temperatureCentiCelsius = temperatureCentiCelsius
            self.signalDBm = signalDBm
            self.status = status
        }
    }

    /// A register total frozen by the meter at a point in time (part of a daily report).
    public struct FrozenTotal: Sendable, Hashable {
        /// The meter's clock at the freeze, seconds since 1970 UTC (non-zero).
        public var time: UInt32
        /// The raw register count, in the daily report's exponent and digits.
        public var raw: UInt64

        /// Creates a frozen total.
        public init(time: UInt32, raw: UInt64) {
            self.time = time
            self.raw = raw
        }
    }

    /// Body of a daily report (type 0x02, 17 + 4n + 12k bytes).
    public struct DailyReport: Sendable, Equatable {
        /// The most interval points a report carries.
        public static let maximumPointCount = 48
        /// The most frozen totals a report carries.
        public static let maximumFrozenCount = 7

        /// Start of the first interval, meter clock seconds since 1970 UTC (non-zero, a multiple of the interval).
        public var intervalStart: UInt32
        /// Interval length: 15, 30 or 60 minutes.
        public var intervalMinutes: UInt8
        /// The register at the start of the first interval (its exponent and digits apply to the whole report).
        public var startRegister: Register
        /// The number of valid entries in ``points`` (0…48).
        public var pointCount: Int
        /// Consumption per interval in raw register counts; entries from ``pointCount`` on are unused.
        public var points: InlineArray<48, UInt32>
        /// The number of valid entries in ``frozenTotals`` (0…7).
        public var frozenCount: Int
        /// Frozen register totals; entries from ``frozenCount`` on are unused.
        public var frozenTotals: InlineArray<7, FrozenTotal>

        /// Creates a daily report from arrays (at most 48 points and 7 frozen totals are kept).
        public init(
            intervalStart: UInt32,
            intervalMinutes: UInt8,
            startRegister: Register,
            points: [UInt32],
            frozenTotals: [FrozenTotal]
        ) {
            self.intervalStart = intervalStart
            self.intervalMinutes = intervalMinutes
            self.startRegister = startRegister
            self.pointCount = min(points.count, Self.maximumPointCount)
            self.points = InlineArray(repeating: 0)
            for index in 0..<pointCount {
                self.points[index] = points[index]
            }
            self.frozenCount = min(frozenTotals.count, Self.maximumFrozenCount)
            self.frozenTotals = InlineArray(repeating: FrozenTotal(time: 0, raw: 0))
            for index in 0..<frozenCount {
                self.frozenTotals[index] = frozenTotals[index]
            }
        }

        /// Creates an empty report to fill in place (used by the decoder).
        init(intervalStart: UInt32, intervalMinutes: UInt8, startRegister: Register) {
            self.intervalStart = intervalStart
            self.intervalMinutes = intervalMinutes
            self.startRegister = startRegister
            self.pointCount = 0
            self.points = InlineArray(repeating: 0)
            self.frozenCount = 0
            self.frozenTotals = InlineArray(repeating: FrozenTotal(time: 0, raw: 0))
        }

        /// The valid points as an array (allocates; for tests and tools).
        public var pointArray: [UInt32] { (0..<min(max(pointCount, 0), Self.maximumPointCount)).map { points[$0] } }

        /// The valid frozen totals as an array (allocates; for tests and tools).
        public var frozenTotalArray: [FrozenTotal] {
            (0..<min(max(frozenCount, 0), Self.maximumFrozenCount)).map { frozenTotals[$0] }
        }

        /// Compares the valid entries only (counts outside 0…48 and 0…7 are clamped).
        public static func == (lhs: DailyReport, rhs: DailyReport) -> Bool {
            guard lhs.intervalStart == rhs.intervalStart, lhs.intervalMinutes == rhs.intervalMinutes,
                lhs.startRegister == rhs.startRegister, lhs.pointCount == rhs.pointCount,
                lhs.frozenCount == rhs.frozenCount
            else { return false }
            for index in 0..<min(max(lhs.pointCount, 0), maximumPointCount)
            where lhs.points[index] != rhs.points[index] {
                return false
            }
            for index in 0..<min(max(lhs.frozenCount, 0), maximumFrozenCount)
            where lhs.frozenTotals[index] != rhs.frozenTotals[index] {
                return false
            }
            return true
        }
    }

    /// Body of an alarm or event (type 0x03, 22 bytes). The event time is the header's meter time.
    public struct Alarm: Sendable, Hashable {
        /// The alarm code (0x0001…0x000E defined; others are kept and map to ``AlarmCondition/unrecognised``).
        public var code: UInt16
        /// `true` when the condition was raised, `false` when it cleared.
        public var isRaised: Bool
        /// The valve position when the event happened.
        public var valve: ValveState
        /// The register at the event.
        public var register: Register
        /// Flow in mL/h at the event, or `nil` when not measured.
        public var flowMillilitresPerHour: UInt32?
        /// A code-specific measurement (methane %LEL × 100, pressure in Pa, …); 0 when the code defines none.
        public var detail: Int32

        /// Creates an alarm body.
        public init(
            code: UInt16,
            isRaised: Bool,
            valve: ValveState,
            register: Register,
            flowMillilitresPerHour: UInt32?,
            detail: Int32
        ) {
            self.code = code
            self.isRaised = isRaised
            self.valve = valve
            self.register = register
            self.flowMillilitresPerHour = flowMillilitresPerHour
            self.detail = detail
        }

        /// The condition the code maps to.
        public var condition: AlarmCondition { AlarmCondition(nativeCode: code) }
    }

    /// Body of a command result (type 0x04, 7 bytes).
    public struct CommandResult: Sendable, Hashable {
        /// What the meter did with the command.
        public enum Outcome: UInt8, Sendable, Hashable, CaseIterable {
            /// The command was carried out.
            case executed = 0
            /// The meter refused, e.g. opening needs a local button press first.
            case refused = 1
            /// The meter tried and failed.
            case failed = 2
            /// The meter does not support the command.
            case unsupported = 3

            /// The snake_case name used in JSON.
            public var name: String {
                switch self {
                case .executed: "executed"
                case .refused: "refused"
                case .failed: "failed"
                case .unsupported: "unsupported"
                }
            }
        }

        /// The frame counter of the command being answered.
        public var commandFrameCounter: UInt32
        /// The type of the command being answered: ``NativeFrameType/valveCommand`` or
        /// ``NativeFrameType/parameterUpdate``.
        public var commandType: NativeFrameType
        /// The outcome.
        public var outcome: Outcome
        /// The valve position after the command.
        public var valve: ValveState

        /// Creates a command result body.
        public init(commandFrameCounter: UInt32, commandType: NativeFrameType, outcome: Outcome, valve: ValveState) {
            self.commandFrameCounter = commandFrameCounter
            self.commandType = commandType
            self.outcome = outcome
            self.valve = valve
        }
    }

    /// Body of an ack (type 0x81, 10 bytes). The header's frame counter equals ``ackedFrameCounter``.
    public struct Ack: Sendable, Hashable {
        /// The frame counter of the uplink being acknowledged.
        public var ackedFrameCounter: UInt32
        /// The raw frame type of the uplink being acknowledged.
        public var ackedFrameType: UInt8
        /// What the gateway did with it.
        public var result: NativeAckResult
        /// The gateway's clock, seconds since 1970 UTC, for the meter's clock synchronisation.
        public var serverTime: UInt32

        /// Creates an ack body.
        public init(ackedFrameCounter: UInt32, ackedFrameType: UInt8, result: NativeAckResult, serverTime: UInt32) {
            self.ackedFrameCounter = ackedFrameCounter
            self.ackedFrameType = ackedFrameType
            self.result = result
            self.serverTime = serverTime
        }
    }

    /// Body of a valve command (type 0x82, 3 bytes).
    public struct ValveCommand: Sendable, Hashable {
        /// What the meter should do with its valve.
        public enum Action: UInt8, Sendable, Hashable, CaseIterable {
            /// Close the valve now.
            case close = 1
            /// Permit opening: the meter opens only after a local button press.
            case permitOpen = 2

            /// The snake_case name used in JSON.
            public var name: String {
                switch self {
                case .close: "close"
                case .permitOpen: "permit_open"
                }
            }
        }

        /// The action.
        public var action: Action
        /// The alarm code that caused the command, or 0.
        public var reason: UInt16

        /// Creates a valve command body.
        public init(action: Action, reason: UInt16) {
            self.action = action
            self.reason = reason
        }
    }

    /// The parameters a parameter update (type 0x83) can set.
    public enum ParameterID: UInt8, Sendable, Hashable, CaseIterable {
        /// 1: minutes between periodic readings (5…1440).
        case reportingIntervalMinutes = 1
        /// 2: minutes of uninterrupted flow before the continuous-flow alarm (1…1440).
        case continuousFlowTimeoutMinutes = 2
        /// 3: flow above which the over-flow alarm trips, mL/h (1…4294967294).
        case overFlowThreshold = 3
        /// 4: flow below which steady use counts as a tiny-flow leak, mL/h (1…4294967294).
        case tinyFlowThreshold = 4
        /// 5: days without use before the meter closes its valve (0 = never, 1…365).
        case noUseDaysBeforeValveClose = 5
        /// 6: clock difference to the ack's server time the meter tolerates before it sets its clock, s (1…86400).
        case clockToleranceSeconds = 6
        /// 7: seconds to wait for an ack before retransmitting (10…3600).
        case retransmitTimeoutSeconds = 7
        /// 8: retransmissions of one frame before giving up until the next reporting slot (0…10).
        case retransmitMaxAttempts = 8

        /// The snake_case name used in JSON.
        public var name: String {
            switch self {
            case .reportingIntervalMinutes: "reporting_interval_minutes"
            case .continuousFlowTimeoutMinutes: "continuous_flow_timeout_minutes"
            case .overFlowThreshold: "over_flow_threshold_ml_h"
            case .tinyFlowThreshold: "tiny_flow_threshold_ml_h"
            case .noUseDaysBeforeValveClose: "no_use_days_before_valve_close"
            case .clockToleranceSeconds: "clock_tolerance_seconds"
            case .retransmitTimeoutSeconds: "retransmit_timeout_seconds"
            case .retransmitMaxAttempts: "retransmit_max_attempts"
            }
        }

        /// The values the parameter accepts.
        public var validRange: ClosedRange<UInt32> {
            switch self {
            case .reportingIntervalMinutes: 5...1440
            case .continuousFlowTimeoutMinutes: 1...1440
            case .overFlowThreshold, .tinyFlowThreshold: 1...0xFFFF_FFFE
            case .noUseDaysBeforeValveClose: 0...365
            case .clockToleranceSeconds: 1...86_400
            case .retransmitTimeoutSeconds: 10...3600
            case .retransmitMaxAttempts: 0...10
            }
        }
    }

    /// One parameter setting.
    public struct Parameter: Sendable, Hashable {
        /// Which parameter.
        public var id: ParameterID
        /// The new value.
        public var value: UInt32

        /// Creates a parameter setting.
        public init(id: ParameterID, value: UInt32) {
            self.id = id
            self.value = value
        }
    }

    /// Body of a parameter update (type 0x83, 1 + 5 × count bytes).
    public struct ParameterUpdate: Sendable, Equatable {
        /// The most parameters one update carries.
        public static let maximumCount = 16

        /// The number of valid entries in ``parameters`` (1…16, each id at most once).
        public var count: Int
        /// The settings; entries from ``count`` on are unused.
        public var parameters: InlineArray<16, Parameter>

        /// Creates an update from an array (at most 16 entries are kept).
        public init(_ parameters: [Parameter]) {
            self.count = min(parameters.count, Self.maximumCount)
            self.parameters = InlineArray(repeating: Parameter(id: .reportingIntervalMinutes, value: 0))
            for index in 0..<count {
                self.parameters[index] = parameters[index]
            }
        }

        /// The valid entries as an array (allocates; for tests and tools).
        public var parameterArray: [Parameter] { (0..<min(max(count, 0), Self.maximumCount)).map { parameters[$0] } }

        /// Compares the valid entries only (a count outside 0…16 is clamped).
        public static func == (lhs: ParameterUpdate, rhs: ParameterUpdate) -> Bool {
            guard lhs.count == rhs.count else { return false }
            for index in 0..<min(max(lhs.count, 0), maximumCount) where lhs.parameters[index] != rhs.parameters[index] {
                return false
            }
            return true
        }
    }

    /// The typed payload of a frame.
    public enum Body: Sendable, Equatable {
        case reading(Reading)
        case dailyReport(DailyReport)
        case alarm(Alarm)
        case commandResult(CommandResult)
        case ack(Ack)
        case valveCommand(ValveCommand)
        case parameterUpdate(ParameterUpdate)

        /// The frame type this body belongs to.
        public var frameType: NativeFrameType {
            switch self {
            case .reading: .reading
            case .dailyReport: .dailyReport
            case .alarm: .alarm
            case .commandResult: .commandResult
            case .ack: .ack
            case .valveCommand: .valveCommand
            case .parameterUpdate: .parameterUpdate
            }
        }

        /// The payload length N this body encodes to.
        public var payloadLength: Int {
            switch self {
            case .reading: 25
            case .dailyReport(let report): 17 + 4 * report.pointCount + 12 * report.frozenCount
            case .alarm: 22
            case .commandResult: 7
            case .ack: 10
            case .valveCommand: 3
            case .parameterUpdate(let update): 1 + 5 * update.count
            }
        }
    }

    /// The header as sent.
    public var header: Header
    /// The typed payload.
    public var body: Body
    /// Whether the MAC was verified.
    public var macStatus: MACStatus
    /// The 8-byte MAC field as sent, byte 0 most significant (0 for frames built by hand).
    public var mac: UInt64

    /// Creates a decoded frame.
    public init(header: Header, body: Body, macStatus: MACStatus, mac: UInt64) {
        self.header = header
        self.body = body
        self.macStatus = macStatus
        self.mac = mac
    }

    /// Creates a frame to encode; the header's type and payload length follow from `body`.
    ///
    /// - Parameters:
    ///   - meterID: The meter id (non-zero).
    ///   - frameCounter: The frame counter (for an ack, the acked frame's counter).
    ///   - meterTime: The meter's clock, seconds since 1970 UTC, or 0 when not set.
    ///   - flags: The flags.
    ///   - body: The payload.
    public init(meterID: UInt64, frameCounter: UInt32, meterTime: UInt32, flags: Flags = [], body: Body) {
        self.header = Header(
            frameType: body.frameType.rawValue,
            flags: flags,
            meterID: meterID,
            frameCounter: frameCounter,
            meterTime: meterTime,
            payloadLength: body.payloadLength
        )
        self.body = body
        self.macStatus = .notVerified
        self.mac = 0
    }

    /// The frame type.
    public var frameType: NativeFrameType { body.frameType }

    /// Whether the frame travels from the meter to the gateway.
    public var isUplink: Bool { body.frameType.isUplink }
}
