public import GatewayCore
public import GatewayDomain

/// What one committed ``TelemetryStore/write(_:)`` changed.
///
/// "Duplicate" rows had a natural key that was already stored (or appeared earlier in the same batch); they
/// changed nothing. A replayed batch reports only duplicates, no tickets and no events.
public struct CommitSummary: Sendable, Equatable {
    /// Readings stored by this commit.
    public var readingsInserted = 0
    /// Readings whose (meter, read time, kind) was already stored.
    public var readingsDuplicate = 0
    /// Interval rows stored by this commit.
    public var intervalsInserted = 0
    /// Interval rows whose (meter, interval start) was already stored.
    public var intervalsDuplicate = 0
    /// Alarms stored by this commit.
    public var alarmsInserted = 0
    /// Alarms whose (meter, raised at, raw code, cleared) was already stored.
    public var alarmsDuplicate = 0
    /// Uplink frames stored by this commit.
    public var framesInserted = 0
    /// Quarantine rows stored or counted as a repeat by this commit (replays of a committed batch count nothing).
    public var quarantined = 0
    /// Indices into the batch's ``GatewayCore/SinkBatch/gates`` of frames already stored (same identity, same
    /// bytes): none of their rows was written.
    public var duplicateGates: [Int] = []
    /// Indices into the batch's ``GatewayCore/SinkBatch/gates`` of frames that ``GatewayCore/ReplayRule`` judged
    /// `replayed` (an authenticated counter at or below its meter's mark, not an exact duplicate): none of their
    /// rows was written, and the caller quarantines them with reason `replayed`.
    public var replayedGates: [Int] = []
    /// Frames whose identity was stored with other bytes (a counter or meter time reused with other content):
    /// their rows went on to their natural keys, where a different value is a recorded conflict.
    public var identityConflicts = 0
    /// New `value_conflicts` rows: a stored key arrived with a different volume.
    public var conflicts = 0
    /// Repair tickets opened by this commit.
    public var ticketsOpened = 0
    /// `ticket_events` rows written (each was also sent with `pg_notify('ticket_events', …)`).
    public var ticketEvents = 0
    /// The tickets opened by this commit, for logs and the demo.
    public var openedTickets: [TicketSummary] = []
    /// Every ticket event written by this commit, in event-id order (the same events as the notifications).
    public var events: [TicketEventSummary] = []

    /// Creates an empty summary.
    public init() {}

    /// The same summary with its gate indices translated: gate `i` of the batch it describes is gate `indices[i]`
    /// of another batch (the one a ``GatewayCore/SinkBatchSplit`` came from).
    /// - Parameter indices: For each gate of the committed batch, its index in the other batch.
    /// - Returns: The summary in the other batch's gate indices.
    public func mappingGates(_ indices: [Int]) -> CommitSummary {
        var mapped = self
        mapped.duplicateGates = duplicateGates.map { indices[$0] }
        mapped.replayedGates = replayedGates.map { indices[$0] }
        return mapped
    }

    /// The summary of two commits that together wrote one batch (their gate indices already in that batch's
    /// terms, see ``mappingGates(_:)``): counts add up; gates, tickets and events list `self`'s, then `other`'s.
    /// - Parameter other: The other commit's summary.
    /// - Returns: One summary as if one commit had written the batch.
    public func merging(_ other: CommitSummary) -> CommitSummary {
        var merged = self
        merged.readingsInserted += other.readingsInserted
        merged.readingsDuplicate += other.readingsDuplicate
        merged.intervalsInserted += other.intervalsInserted
        merged.intervalsDuplicate += other.intervalsDuplicate
        merged.alarmsInserted += other.alarmsInserted
        merged.alarmsDuplicate += other.alarmsDuplicate
        merged.framesInserted += other.framesInserted
        merged.quarantined += other.quarantined
        merged.duplicateGates += other.duplicateGates
        merged.replayedGates += other.replayedGates
        merged.identityConflicts += other.identityConflicts
        merged.conflicts += other.conflicts
        merged.ticketsOpened += other.ticketsOpened
        merged.ticketEvents += other.ticketEvents
        merged.openedTickets += other.openedTickets
        merged.events += other.events
        return merged
    }
}

/// A repair ticket as it stands after a commit.
public struct TicketSummary: Sendable, Equatable {
    /// `repair_tickets.id`.
    public var id: Int64
    /// The meter the ticket is for.
    public var meterID: Int64
    /// The alarm condition; one active ticket exists per meter and condition.
    public var condition: AlarmCondition
    /// The ticket's priority (the most urgent of its alarms).
    public var priority: TicketPriority
    /// The receive time of the alarm that opened the ticket.
    public var openedAt: Timestamp
    /// Deadline to acknowledge.
    public var acknowledgeBy: Timestamp
    /// Deadline to arrive on site.
    public var arriveBy: Timestamp
    /// Deadline to make safe.
    public var makeSafeBy: Timestamp
    /// Deadline to repair.
    public var repairBy: Timestamp

    /// Creates a summary.
    /// - Parameters:
    ///   - id: The ticket id.
    ///   - meterID: The meter id.
    ///   - condition: The alarm condition.
    ///   - priority: The priority.
    ///   - openedAt: When the opening alarm was received.
    ///   - acknowledgeBy: Acknowledge deadline.
    ///   - arriveBy: Arrival deadline.
    ///   - makeSafeBy: Make-safe deadline.
    ///   - repairBy: Repair deadline.
    public init(
        id: Int64,
        meterID: Int64,
        condition: AlarmCondition,
        priority: TicketPriority,
        openedAt: Timestamp,
        acknowledgeBy: Timestamp,
        arriveBy: Timestamp,
        makeSafeBy: Timestamp,
        repairBy: Timestamp
    ) {
        self.id = id
        self.meterID = meterID
        self.condition = condition
        self.priority = priority
        self.openedAt = openedAt
        self.acknowledgeBy = acknowledgeBy
        self.arriveBy = arriveBy
        self.makeSafeBy = makeSafeBy
        self.repairBy = repairBy
    }
}

/// One `ticket_events` row written by the gateway.
public struct TicketEventSummary: Sendable, Equatable {
    /// `ticket_events.id`.
    public var id: Int64
    /// The ticket the event belongs to.
    public var ticketID: Int64
    /// `opened`, `alarm`, `alarm_cleared` or `priority_raised`.
    public var kind: TicketEventKind
    /// The ticket's meter.
    public var meterID: Int64
    /// The ticket's condition.
    public var condition: AlarmCondition
    /// The ticket's priority after the commit.
    public var priority: TicketPriority
    /// The alarm that caused the event.
    public var alarmID: Int64?

    /// Creates an event summary.
    /// - Parameters:
    ///   - id: The event id.
    ///   - ticketID: The ticket id.
    ///   - kind: The event kind.
    ///   - meterID: The meter id.
    ///   - condition: The condition.
    ///   - priority: The ticket's priority after the commit.
    ///   - alarmID: The causing alarm's id.
    public init(
        id: Int64,
        ticketID: Int64,
        kind: TicketEventKind,
        meterID: Int64,
        condition: AlarmCondition,
        priority: TicketPriority,
        alarmID: Int64?
    ) {
        self.id = id
        self.ticketID = ticketID
        self.kind = kind
        self.meterID = meterID
        self.condition = condition
        self.priority = priority
        self.alarmID = alarmID
    }
}
