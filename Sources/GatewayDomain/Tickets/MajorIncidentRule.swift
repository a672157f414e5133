public import GatewayCore

/// Which alarms an announced planned outage explains (a supply interruption the utility made on purpose).
public enum OutageRule {
    /// The conditions an outage of the meter's district explains: the pressure drop it causes. A gas smell, a
    /// methane detector or a shut-off valve is never explained away.
    public static let explainedConditions: Set<AlarmCondition> = [.pressureLow]

    /// Whether an alarm of `condition` from a district under a planned outage is recorded without opening a ticket.
    public static func explains(_ condition: AlarmCondition) -> Bool {
        explainedConditions.contains(condition)
    }
}

/// When alarms of many meters of one district form a major incident (a network failure or an earthquake rather than
/// many separate faults), so dispatch handles one incident instead of dozens of unrelated tickets.
///
/// Pure: the store counts, this rule decides; "now" is a parameter.
public struct MajorIncidentRule: Sendable, Equatable {
    /// The conditions that form incidents: network pressure loss and seismic shut-off.
    public static let conditions: Set<AlarmCondition> = [.pressureLow, .seismicShutOff]

    /// An open incident without a new alarm for this long closes; the next wave opens a new one.
    public static let staleAfterSeconds: Int64 = 86_400

    /// The window in which the meters' alarms are counted.
    public var windowSeconds: Int64
    /// How many distinct meters of one district make an incident.
    public var minimumMeters: Int

    /// Creates the rule (defaults: 5 meters within 10 minutes).
    public init(windowSeconds: Int64 = 600, minimumMeters: Int = 5) {
        self.windowSeconds = windowSeconds
        self.minimumMeters = minimumMeters
    }

    /// A district and condition whose meters raised alarms.
    public struct Key: Sendable, Hashable, Comparable {
        public var district: String
        public var condition: AlarmCondition

        public init(district: String, condition: AlarmCondition) {
            self.district = district
            self.condition = condition
        }

        public static func < (lhs: Key, rhs: Key) -> Bool {
            (lhs.district, lhs.condition.rawValue) < (rhs.district, rhs.condition.rawValue)
        }
    }

    /// The alarms of one district and condition within the window, as the store counted them.
    public struct Count: Sendable, Equatable {
        public var key: Key
        /// Distinct meters that raised the condition within the window.
        public var meters: Int
        public var firstAlarmAt: Timestamp
        public var lastAlarmAt: Timestamp

        public init(key: Key, meters: Int, firstAlarmAt: Timestamp, lastAlarmAt: Timestamp) {
            self.key = key
            self.meters = meters
            self.firstAlarmAt = firstAlarmAt
            self.lastAlarmAt = lastAlarmAt
        }
    }

    /// The district-condition keys a batch's new alarms may turn into an incident (raised, not cleared, of an
    /// incident condition, from a meter with a district), sorted.
    public func keys(of alarms: [StoredAlarm]) -> [Key] {
        var keys: Set<Key> = []
        for alarm in alarms where !alarm.isCleared && Self.conditions.contains(alarm.condition) {
            if let district = alarm.district { keys.insert(Key(district: district, condition: alarm.condition)) }
        }
        return keys.sorted()
    }

    /// Alarms received at or after this instant count toward an incident at `now`.
    public func windowStart(at now: Timestamp) -> Timestamp {
        now.adding(seconds: -windowSeconds)
    }

    /// Open incidents whose last alarm is older than this instant close at `now`.
    public static func staleBefore(_ now: Timestamp) -> Timestamp {
        now.adding(seconds: -staleAfterSeconds)
    }

    /// The counts that make (or extend) an incident: at least ``minimumMeters`` meters.
    public func incidents(among counts: [Count]) -> [Count] {
        counts.filter { $0.meters >= minimumMeters }
    }
}

/// The rules the writer applies to the alarms it stores: the ticket policy and the major-incident rule.
public struct TicketRules: Sendable, Equatable {
    public var policy: TicketPolicy
    public var incidents: MajorIncidentRule

    /// Creates the rules (defaults: the service commitments and 5 meters within 10 minutes).
    public init(policy: TicketPolicy = .serviceCommitments, incidents: MajorIncidentRule = MajorIncidentRule()) {
        self.policy = policy
        self.incidents = incidents
    }
}
