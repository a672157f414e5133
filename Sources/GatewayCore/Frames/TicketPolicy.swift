/// Decides the priority and deadlines of the repair ticket an alarm opens.
///
/// Pure and deterministic: the caller passes the alarm's facts and "now"; nothing is read from a clock.
/// The defaults follow the service commitments (ARCHITECTURE.md) and domain rules §4.4.
public struct TicketPolicy: Sendable, Equatable {
    /// Seconds allowed to reach each lifecycle step, counted from the ticket's opening.
    public struct Deadlines: Sendable, Equatable {
        public var acknowledgeSeconds: Int64
        public var arriveSeconds: Int64
        public var makeSafeSeconds: Int64
        public var repairSeconds: Int64

        public init(acknowledgeSeconds: Int64, arriveSeconds: Int64, makeSafeSeconds: Int64, repairSeconds: Int64) {
            self.acknowledgeSeconds = acknowledgeSeconds
            self.arriveSeconds = arriveSeconds
            self.makeSafeSeconds = makeSafeSeconds
            self.repairSeconds = repairSeconds
        }
    }

    /// Deadlines per priority. P0 arrival differs for urban and rural districts.
    public var p0Urban: Deadlines
    public var p0Rural: Deadlines
    public var p1: Deadlines
    public var p2: Deadlines
    public var p3: Deadlines

    public init(p0Urban: Deadlines, p0Rural: Deadlines, p1: Deadlines, p2: Deadlines, p3: Deadlines) {
        self.p0Urban = p0Urban
        self.p0Rural = p0Rural
        self.p1 = p1
        self.p2 = p2
        self.p3 = p3
    }

    private static let minute: Int64 = 60
    private static let hour: Int64 = 3600

    /// The service-commitment defaults: P0 arrive 30 min urban / 60 min rural and make safe within 6 h
    /// (network faults handled within 6 h); P1 arrive within 2 h; P2 within 24 h; every fault repaired within 24 h
    /// except P3 device faults, which are scheduled within 72 h.
    public static let serviceCommitments = TicketPolicy(
        p0Urban: Deadlines(
            acknowledgeSeconds: 5 * minute,
            arriveSeconds: 30 * minute,
            makeSafeSeconds: 6 * hour,
            repairSeconds: 24 * hour
        ),
        p0Rural: Deadlines(
            acknowledgeSeconds: 5 * minute,
            arriveSeconds: 60 * minute,
            makeSafeSeconds: 6 * hour,
            repairSeconds: 24 * hour
        ),
        p1: Deadlines(
            acknowledgeSeconds: 15 * minute,
            arriveSeconds: 2 * hour,
            makeSafeSeconds: 6 * hour,
            repairSeconds: 24 * hour
        ),
        p2: Deadlines(
            acknowledgeSeconds: 1 * hour,
            arriveSeconds: 24 * hour,
            makeSafeSeconds: 24 * hour,
            repairSeconds: 24 * hour
        ),
        p3: Deadlines(
            acknowledgeSeconds: 4 * hour,
            arriveSeconds: 72 * hour,
            makeSafeSeconds: 72 * hour,
            repairSeconds: 72 * hour
        )
    )

    /// Whether an alarm of this condition opens (or joins) a repair ticket. Clearing events never open one, nor do the
    /// continuous-flow warning and escalation (24 h and 7 days), which are recorded for the household file.
    public func opensTicket(_ condition: AlarmCondition, isCleared: Bool) -> Bool {
        !isCleared && condition != .continuousFlowWarning && condition != .continuousFlowEscalated
    }

    /// The priority of the ticket an alarm raises, given the valve position the meter reported with it.
    ///
    /// A shut-off condition whose valve did not confirm closed is an uncontrolled escape (P0).
    public func priority(for condition: AlarmCondition, valve: ValveState) -> TicketPriority {
        switch condition {
        case .methaneDetector, .flowWithValveClosed, .gasSmellReported:
            return .p0
        case .overFlow, .seismicShutOff, .pressureLow:
            return valve == .closed ? .p1 : .p0
        case .uncontrolledFlowAfterReopen, .tiltOrRemoval, .valveFault, .suddenIncrease, .networkLeakSuspected:
            return .p1
        case .continuousFlowTimeout, .tinyFlowLeak, .unrecognised, .continuousFlowWarning, .continuousFlowEscalated,
            .continuousFlowLeak, .nightFlowRising:
            return .p2
        case .magneticAttack, .batteryLow, .batteryLock, .clockFault, .meterFault:
            return .p3
        }
    }

    /// The deadlines that apply to a ticket of this priority.
    public func deadlines(for priority: TicketPriority, isRural: Bool) -> Deadlines {
        switch priority {
        case .p0: isRural ? p0Rural : p0Urban
        case .p1: p1
        case .p2: p2
        case .p3: p3
        }
    }
}
