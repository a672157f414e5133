/// The one vocabulary of alarm conditions that every protocol's codes and status bits map to.
///
/// The raw protocol code is always stored beside the condition, so a mapping can be corrected
/// later without losing what the meter said.
public enum AlarmCondition: String, Sendable, CaseIterable, Hashable {
    case methaneDetector = "methane_detector"
    case overFlow = "over_flow"
    case continuousFlowTimeout = "continuous_flow_timeout"
    case tinyFlowLeak = "tiny_flow_leak"
    case uncontrolledFlowAfterReopen = "uncontrolled_flow_after_reopen"
    case flowWithValveClosed = "flow_with_valve_closed"
    case tiltOrRemoval = "tilt_or_removal"
    case magneticAttack = "magnetic_attack"
    case seismicShutOff = "seismic_shut_off"
    case pressureLow = "pressure_low"
    case valveFault = "valve_fault"
    case batteryLow = "battery_low"
    case batteryLock = "battery_lock"
    case clockFault = "clock_fault"
    /// The meter reports an error of its own (M-Bus permanent/temporary/application error): a device fault.
    case meterFault = "meter_fault"
    /// A caller reported smelling gas at the premises (hotline ticket).
    case gasSmellReported = "gas_smell_reported"
    /// Derived: a full day without a zero-flow interval (a warning; no ticket).
    case continuousFlowWarning = "continuous_flow_warning"
    /// Derived: 7 days in a row without a zero-flow interval (escalated warning; no ticket).
    case continuousFlowEscalated = "continuous_flow_escalated"
    /// Derived: 30 days in a row without a zero-flow interval: a suspected leak (ticket).
    case continuousFlowLeak = "continuous_flow_leak"
    /// Derived: flow rose between two intervals by more than the increased-flow cut-off.
    case suddenIncrease = "sudden_increase"
    /// Derived: the minimum night flow rose night after night.
    case nightFlowRising = "night_flow_rising"
    /// Derived: a district's supply exceeds the sum of its customers' meters beyond their combined tolerance.
    case networkLeakSuspected = "network_leak_suspected"
    /// A code the gateway does not know. It is never dropped: it opens a ticket for a person to look at.
    case unrecognised = "unrecognised_alarm"
}

/// Ticket priority classes (reference: domain rules §4.4).
public enum TicketPriority: String, Sendable, CaseIterable, Comparable {
    /// Uncontrolled escape or emergency: dispatch at once.
    case p0 = "P0"
    /// Controlled escape: arrive within 2 h.
    case p1 = "P1"
    /// Suspected leak without immediate hazard: visit within 24 h.
    case p2 = "P2"
    /// Metering or device fault: schedule.
    case p3 = "P3"

    public static func < (lhs: TicketPriority, rhs: TicketPriority) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Valve position as a meter reports it.
public enum ValveState: Int16, Sendable, Hashable, CaseIterable {
    case open = 0
    case closed = 1
    case moving = 2
    case fault = 3
    case unknown = 255

    /// The lower-case word used in JSON and SQL.
    public var name: String {
        switch self {
        case .open: "open"
        case .closed: "closed"
        case .moving: "moving"
        case .fault: "fault"
        case .unknown: "unknown"
        }
    }
}
