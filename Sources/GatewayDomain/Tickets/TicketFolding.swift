public import GatewayCore

/// An alarm the writer has just stored, with what the ticket rules need to know about its meter.
public struct StoredAlarm: Sendable, Equatable {
    /// `alarms.id`.
    public var id: Int64
    public var meterID: Int64
    public var condition: AlarmCondition
    /// The priority the decoder's ``GatewayCore/TicketPolicy`` gave the alarm (valve position included).
    public var priority: TicketPriority
    public var raisedAt: Timestamp
    public var receivedAt: Timestamp
    public var isCleared: Bool
    /// The policy's ``GatewayCore/TicketPolicy/opensTicket(_:isCleared:)`` when the alarm was staged.
    public var opensTicket: Bool
    /// Whether the meter is in a rural district (longer P0 arrival deadline).
    public var isRural: Bool
    /// The meter's district, if the registry knows it.
    public var district: String?
    /// The planned outage announced for the meter's district that covers the receive time, if any.
    public var outageID: Int64?

    public init(
        id: Int64,
        meterID: Int64,
        condition: AlarmCondition,
        priority: TicketPriority,
        raisedAt: Timestamp,
        receivedAt: Timestamp,
        isCleared: Bool = false,
        opensTicket: Bool = true,
        isRural: Bool = false,
        district: String? = nil,
        outageID: Int64? = nil
    ) {
        self.id = id
        self.meterID = meterID
        self.condition = condition
        self.priority = priority
        self.raisedAt = raisedAt
        self.receivedAt = receivedAt
        self.isCleared = isCleared
        self.opensTicket = opensTicket
        self.isRural = isRural
        self.district = district
        self.outageID = outageID
    }

    /// The order alarms are folded in: arrival, then the meter's raise time, then storage order.
    public static func arrivalOrder(_ lhs: StoredAlarm, _ rhs: StoredAlarm) -> Bool {
        (lhs.receivedAt, lhs.raisedAt, lhs.id) < (rhs.receivedAt, rhs.raisedAt, rhs.id)
    }
}

/// The active ticket of a meter and condition as stored (locked by the writer while it folds).
public struct ActiveTicket: Sendable, Equatable {
    public var id: Int64
    public var meterID: Int64
    public var condition: AlarmCondition
    public var priority: TicketPriority
    public var status: TicketStatus
    public var openedAt: Timestamp
    public var lastAlarmAt: Timestamp
    public var alarmCount: Int32
    public var deadlines: TicketDeadlines

    public init(
        id: Int64,
        meterID: Int64,
        condition: AlarmCondition,
        priority: TicketPriority,
        status: TicketStatus,
        openedAt: Timestamp,
        lastAlarmAt: Timestamp,
        alarmCount: Int32,
        deadlines: TicketDeadlines
    ) {
        self.id = id
        self.meterID = meterID
        self.condition = condition
        self.priority = priority
        self.status = status
        self.openedAt = openedAt
        self.lastAlarmAt = lastAlarmAt
        self.alarmCount = alarmCount
        self.deadlines = deadlines
    }
}

/// What the ticket rules decided for one batch of stored alarms: the final state of every ticket they touched, the
/// events to record, and the alarms a planned outage explains. The store writes it as it is.
public struct TicketPlan: Sendable, Equatable {
    /// A ticket the plan refers to: one already stored, or the n-th ticket the plan opens (the store gives it an id).
    public enum Reference: Sendable, Hashable {
        case stored(Int64)
        case new(Int)
    }

    /// A ticket as it must stand after the batch.
    public struct Ticket: Sendable, Equatable {
        public var reference: Reference
        public var meterID: Int64
        public var condition: AlarmCondition
        public var priority: TicketPriority
        public var status: TicketStatus
        public var openedAt: Timestamp
        /// The alarm that opened it (set for new tickets only).
        public var firstAlarmID: Int64?
        public var lastAlarmAt: Timestamp
        public var alarmCount: Int32
        public var deadlines: TicketDeadlines
        /// When the gateway resolved it (a cleared device fault), else nil.
        public var resolvedAt: Timestamp?

        /// Whether the plan opens this ticket.
        public var isNew: Bool {
            if case .new = reference { true } else { false }
        }
    }

    /// A `ticket_events` row, written by the actor `gateway`.
    public struct Event: Sendable, Equatable {
        public var ticket: Reference
        public var at: Timestamp
        public var kind: TicketEventKind
        public var alarmID: Int64?
        public var detail: String?
    }

    /// Every ticket the batch touched, in the order first touched (new tickets in ``Reference/new(_:)`` order).
    public var tickets: [Ticket] = []
    /// The events, grouped by ticket in ``tickets`` order, each ticket's in alarm order.
    public var events: [Event] = []
    /// Alarms a planned outage explains: recorded with the outage, no ticket.
    public var explained: [(alarmID: Int64, outageID: Int64)] = []

    /// How many tickets the plan opens.
    public var newTicketCount: Int { tickets.count { $0.isNew } }

    public static func == (lhs: TicketPlan, rhs: TicketPlan) -> Bool {
        lhs.tickets == rhs.tickets && lhs.events == rhs.events
            && lhs.explained.elementsEqual(rhs.explained) { $0 == $1 }
    }
}

/// The ticket rules for alarms, as one pure fold: per meter and condition, the alarms in arrival order against the
/// active ticket.
///
/// - An alarm whose policy opens a ticket opens one when none is active (event `opened`), else joins it (`alarm`).
///   A joined ticket takes the most urgent priority of its alarms (event `priority_raised`, "P1 -> P0", from the alarm
///   that raised it) and, per deadline, the earliest its alarms imply; each alarm's deadlines count from its receive
///   time with the policy's seconds for its priority and the meter's district (urban or rural).
/// - A planned outage explains ``OutageRule/explainedConditions`` from its district: such an alarm is recorded with
///   the outage and opens or joins nothing.
/// - A cleared alarm adds `alarm_cleared` to the active ticket. Clearing never closes a gas ticket, except a P3
///   device fault no crew was sent to yet (open or acknowledged): the gateway resolves it (event `resolved`), and a
///   later alarm of the same batch opens a new ticket.
///
/// The store locks the batch's meter-condition keys, reads their active tickets, asks ``plan(alarms:active:policy:now:)``
/// and writes the plan in the same transaction.
public enum TicketFolding {
    /// The detail of the `resolved` event the gateway writes.
    public static let autoResolvedDetail = "auto-resolved: the meter reported the condition cleared"

    /// Whether the gateway resolves a ticket whose alarm the meter reports cleared: only a P3 device fault not yet
    /// dispatched. A person closes every gas ticket (P0–P2).
    public static func resolvesWhenCleared(priority: TicketPriority, status: TicketStatus) -> Bool {
        priority == .p3 && (status == .open || status == .acknowledged)
    }

    /// Folds a batch's stored alarms into tickets.
    /// - Parameters:
    ///   - alarms: The alarms the batch stored (any order; folded in ``StoredAlarm/arrivalOrder(_:_:)``).
    ///   - active: The active tickets of the alarms' meter-condition keys.
    ///   - policy: The deadlines per priority and district.
    ///   - now: When the gateway decides (the resolve time of an auto-resolved ticket).
    /// - Returns: The plan to write.
    public static func plan(
        alarms: [StoredAlarm],
        active: [ActiveTicket],
        policy: TicketPolicy,
        now: Timestamp
    ) -> TicketPlan {
        struct Key: Hashable, Comparable {
            var meterID: Int64
            var condition: String
            static func < (lhs: Key, rhs: Key) -> Bool { (lhs.meterID, lhs.condition) < (rhs.meterID, rhs.condition) }
        }
        var activeByKey: [Key: ActiveTicket] = [:]
        for ticket in active {
            activeByKey[Key(meterID: ticket.meterID, condition: ticket.condition.rawValue)] = ticket
        }
        var alarmsByKey: [Key: [StoredAlarm]] = [:]
        var plan = TicketPlan()
        for alarm in alarms {
            if !alarm.isCleared, alarm.opensTicket, let outage = alarm.outageID,
                OutageRule.explains(alarm.condition)
            {
                plan.explained.append((alarm.id, outage))
                continue
            }
            alarmsByKey[Key(meterID: alarm.meterID, condition: alarm.condition.rawValue), default: []].append(alarm)
        }
        var opened = 0
        for key in alarmsByKey.keys.sorted() {
            var fold = KeyFold(stored: activeByKey[key], nextNumber: opened)
            for alarm in alarmsByKey[key, default: []].sorted(by: StoredAlarm.arrivalOrder) {
                fold.apply(alarm, policy: policy, now: now)
            }
            opened = fold.nextNumber
            plan.tickets += fold.tickets
            plan.events += fold.events
        }
        return plan
    }

    /// The deadlines one alarm implies.
    public static func deadlines(of alarm: StoredAlarm, policy: TicketPolicy) -> TicketDeadlines {
        deadlines(from: alarm.receivedAt, priority: alarm.priority, isRural: alarm.isRural, policy: policy)
    }

    /// The deadlines of a ticket of `priority` opened at `start` (an alarm's receive time, a hotline call's time).
    public static func deadlines(
        from start: Timestamp,
        priority: TicketPriority,
        isRural: Bool,
        policy: TicketPolicy
    ) -> TicketDeadlines {
        let seconds = policy.deadlines(for: priority, isRural: isRural)
        return TicketDeadlines([
            .acknowledge: start.adding(seconds: seconds.acknowledgeSeconds),
            .arrive: start.adding(seconds: seconds.arriveSeconds),
            .makeSafe: start.adding(seconds: seconds.makeSafeSeconds),
            .repair: start.adding(seconds: seconds.repairSeconds),
        ])
    }
}

/// The fold of one meter-condition key: its current ticket and what happened to it.
private struct KeyFold {
    var current: TicketPlan.Ticket?
    var tickets: [TicketPlan.Ticket] = []
    var events: [TicketPlan.Event] = []
    /// The number the next ticket this fold opens gets: the plan numbers its new tickets 0, 1, … in plan order.
    var nextNumber: Int

    init(stored: ActiveTicket?, nextNumber: Int) {
        self.nextNumber = nextNumber
        current = stored.map {
            TicketPlan.Ticket(
                reference: .stored($0.id),
                meterID: $0.meterID,
                condition: $0.condition,
                priority: $0.priority,
                status: $0.status,
                openedAt: $0.openedAt,
                firstAlarmID: nil,
                lastAlarmAt: $0.lastAlarmAt,
                alarmCount: $0.alarmCount,
                deadlines: $0.deadlines
            )
        }
    }

    mutating func apply(_ alarm: StoredAlarm, policy: TicketPolicy, now: Timestamp) {
        if alarm.isCleared {
            clear(with: alarm, now: now)
        } else if alarm.opensTicket {
            raise(with: alarm, policy: policy)
        }
    }

    private mutating func raise(with alarm: StoredAlarm, policy: TicketPolicy) {
        let implied = TicketFolding.deadlines(of: alarm, policy: policy)
        guard var ticket = current else {
            let ticket = TicketPlan.Ticket(
                reference: .new(nextNumber),
                meterID: alarm.meterID,
                condition: alarm.condition,
                priority: alarm.priority,
                status: .open,
                openedAt: alarm.receivedAt,
                firstAlarmID: alarm.id,
                lastAlarmAt: alarm.receivedAt,
                alarmCount: 1,
                deadlines: implied
            )
            nextNumber += 1
            record(ticket, .opened, alarm, detail: "priority \(alarm.priority.rawValue)")
            current = ticket
            return
        }
        let before = ticket.priority
        ticket.priority = min(ticket.priority, alarm.priority)
        ticket.lastAlarmAt = max(ticket.lastAlarmAt, alarm.receivedAt)
        ticket.alarmCount += 1
        for (deadline, at) in implied.instants {
            ticket.deadlines.instants[deadline] = min(ticket.deadlines.instants[deadline] ?? at, at)
        }
        record(ticket, .alarm, alarm, detail: "priority \(alarm.priority.rawValue)")
        if ticket.priority < before {
            record(ticket, .priorityRaised, alarm, detail: "\(before.rawValue) -> \(ticket.priority.rawValue)")
        }
        current = ticket
    }

    private mutating func clear(with alarm: StoredAlarm, now: Timestamp) {
        guard var ticket = current else { return }
        record(ticket, .alarmCleared, alarm, detail: nil)
        guard TicketFolding.resolvesWhenCleared(priority: ticket.priority, status: ticket.status) else {
            current = ticket
            return
        }
        ticket.status = .resolved
        ticket.resolvedAt = now
        record(ticket, .resolved, alarm, detail: TicketFolding.autoResolvedDetail)
        current = nil
    }

    /// Appends the event and keeps `ticket`'s latest state in ``tickets``.
    private mutating func record(
        _ ticket: TicketPlan.Ticket,
        _ kind: TicketEventKind,
        _ alarm: StoredAlarm,
        detail: String?
    ) {
        events.append(.init(ticket: ticket.reference, at: alarm.receivedAt, kind: kind, alarmID: alarm.id, detail: detail))
        if let index = tickets.firstIndex(where: { $0.reference == ticket.reference }) {
            tickets[index] = ticket
        } else {
            tickets.append(ticket)
        }
    }
}
