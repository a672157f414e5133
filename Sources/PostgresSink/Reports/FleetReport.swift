public import GatewayCore

/// What the database holds after a run: the counts, tickets, validation results and leak signatures the `demo`
/// command prints. Read by ``FleetReportStore/report()``.
public struct FleetReport: Sendable, Hashable {
    /// A number of rows under a name (a quarantine reason, a quality, a flag).
    public struct Count: Sendable, Hashable {
        /// The name the rows share.
        public var name: String
        /// How many rows.
        public var count: Int64

        /// Creates a named count.
        /// - Parameters:
        ///   - name: The name the rows share.
        ///   - count: How many rows.
        public init(name: String, count: Int64) {
            self.name = name
            self.count = count
        }
    }

    /// One repair ticket with its deadlines.
    public struct Ticket: Sendable, Hashable {
        /// `repair_tickets.id`.
        public var id: Int64
        /// The meter's address.
        public var meterAddress: String
        /// The condition the ticket is for.
        public var condition: String
        /// Priority, `P0` (most urgent) to `P3`.
        public var priority: String
        /// Lifecycle status.
        public var status: String
        /// Alarms joined to the ticket.
        public var alarmCount: Int
        /// When the ticket was opened.
        public var openedAt: Timestamp
        /// Deadline to arrive on site, if the priority has one.
        public var arriveBy: Timestamp?
        /// Deadline for the repair, if the priority has one.
        public var repairBy: Timestamp?

        /// Creates a ticket line.
        /// - Parameters:
        ///   - id: `repair_tickets.id`.
        ///   - meterAddress: The meter's address.
        ///   - condition: The condition.
        ///   - priority: Priority.
        ///   - status: Lifecycle status.
        ///   - alarmCount: Alarms joined.
        ///   - openedAt: When opened.
        ///   - arriveBy: Arrival deadline.
        ///   - repairBy: Repair deadline.
        public init(
            id: Int64,
            meterAddress: String,
            condition: String,
            priority: String,
            status: String,
            alarmCount: Int,
            openedAt: Timestamp,
            arriveBy: Timestamp?,
            repairBy: Timestamp?
        ) {
            self.id = id
            self.meterAddress = meterAddress
            self.condition = condition
            self.priority = priority
            self.status = status
            self.alarmCount = alarmCount
            self.openedAt = openedAt
            self.arriveBy = arriveBy
            self.repairBy = repairBy
        }
    }

    /// A consumption-derived leak signature: how many alarms of one condition, on which meters.
    public struct LeakSignature: Sendable, Hashable {
        /// The alarm condition.
        public var condition: String
        /// How many alarms.
        public var count: Int64
        /// The meters' addresses, distinct and sorted.
        public var meterAddresses: [String]

        /// Creates a leak-signature line.
        /// - Parameters:
        ///   - condition: The alarm condition.
        ///   - count: How many alarms.
        ///   - meterAddresses: The meters' addresses.
        public init(condition: String, count: Int64, meterAddresses: [String]) {
            self.condition = condition
            self.count = count
            self.meterAddresses = meterAddresses
        }
    }

    /// Rows of `uplink_frames`.
    public var framesStored: Int64
    /// Rows of `readings`.
    public var readings: Int64
    /// Rows of `interval_readings`.
    public var intervalPoints: Int64
    /// Rows of `alarms`.
    public var alarms: Int64
    /// Rows of `quarantine`.
    public var quarantined: Int64
    /// Quarantined frames by reason, in reason order.
    public var quarantineByReason: [Count]
    /// Every ticket, by priority then id.
    public var tickets: [Ticket]
    /// Rows of `ticket_events`.
    public var ticketEvents: Int64
    /// Readings by quality (`valid`, `estimated`, `suspect`, `rejected`, then `pending` for not yet validated).
    public var readingsByQuality: [Count]
    /// Suspect and rejected readings by their reasons joined with `+`, in that order.
    public var heldReadingsByReasons: [Count]
    /// Daily reads by quality name, in name order.
    public var daysByQuality: [Count]
    /// Daily reads by each flag they carry, in flag order.
    public var dayFlags: [Count]
    /// Meters whose verification has expired by today.
    public var metersPastVerification: Int64
    /// Consumption-derived leak signatures by condition, in condition order.
    public var leakSignatures: [LeakSignature]

    /// Creates a report.
    /// - Parameters:
    ///   - framesStored: Rows of `uplink_frames`.
    ///   - readings: Rows of `readings`.
    ///   - intervalPoints: Rows of `interval_readings`.
    ///   - alarms: Rows of `alarms`.
    ///   - quarantined: Rows of `quarantine`.
    ///   - quarantineByReason: Quarantine by reason.
    ///   - tickets: The tickets.
    ///   - ticketEvents: Rows of `ticket_events`.
    ///   - readingsByQuality: Readings by quality.
    ///   - heldReadingsByReasons: Suspect and rejected readings by reasons.
    ///   - daysByQuality: Daily reads by quality.
    ///   - dayFlags: Daily reads by flag.
    ///   - metersPastVerification: Meters past verification.
    ///   - leakSignatures: Leak signatures.
    public init(
        framesStored: Int64,
        readings: Int64,
        intervalPoints: Int64,
        alarms: Int64,
        quarantined: Int64,
        quarantineByReason: [Count],
        tickets: [Ticket],
        ticketEvents: Int64,
        readingsByQuality: [Count],
        heldReadingsByReasons: [Count],
        daysByQuality: [Count],
        dayFlags: [Count],
        metersPastVerification: Int64,
        leakSignatures: [LeakSignature]
    ) {
        self.framesStored = framesStored
        self.readings = readings
        self.intervalPoints = intervalPoints
        self.alarms = alarms
        self.quarantined = quarantined
        self.quarantineByReason = quarantineByReason
        self.tickets = tickets
        self.ticketEvents = ticketEvents
        self.readingsByQuality = readingsByQuality
        self.heldReadingsByReasons = heldReadingsByReasons
        self.daysByQuality = daysByQuality
        self.dayFlags = dayFlags
        self.metersPastVerification = metersPastVerification
        self.leakSignatures = leakSignatures
    }
}
