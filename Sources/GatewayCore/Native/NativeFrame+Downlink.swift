// The payloads the gateway sends: acks, valve commands and parameter updates.

extension NativeFrame {
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
}
