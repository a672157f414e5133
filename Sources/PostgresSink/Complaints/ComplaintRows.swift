public import GatewayCore
public import GatewayDomain

/// What the desk records when a complaint comes in.
public struct ComplaintIntake: Sendable, Equatable {
    public var channel: ComplaintChannel
    public var category: ComplaintCategory
    /// The household's meter, when the complaint concerns one (required for a billing dispute).
    public var meter: (protocol: FrameProtocol, address: String)?
    /// The district, when there is no meter (a meter's district is taken from the registry).
    public var district: String?
    public var complainant: String
    public var contact: String?
    /// The complainant asked that their name not be passed on.
    public var isConfidential: Bool
    /// What the complaint is about.
    public var summary: String
    /// What the customer asked for.
    public var request: String?
    /// The days in question of a billing dispute, both included.
    public var disputedDays: ClosedRange<CivilDate>?

    /// Creates an intake.
    public init(
        channel: ComplaintChannel,
        category: ComplaintCategory,
        meter: (protocol: FrameProtocol, address: String)?,
        district: String? = nil,
        complainant: String,
        contact: String? = nil,
        isConfidential: Bool = false,
        summary: String,
        request: String? = nil,
        disputedDays: ClosedRange<CivilDate>? = nil
    ) {
        self.channel = channel
        self.category = category
        self.meter = meter
        self.district = district
        self.complainant = complainant
        self.contact = contact
        self.isConfidential = isConfidential
        self.summary = summary
        self.request = request
        self.disputedDays = disputedDays
    }

    public static func == (lhs: ComplaintIntake, rhs: ComplaintIntake) -> Bool {
        lhs.channel == rhs.channel && lhs.category == rhs.category && lhs.meter?.protocol == rhs.meter?.protocol
            && lhs.meter?.address == rhs.meter?.address && lhs.district == rhs.district
            && lhs.complainant == rhs.complainant && lhs.contact == rhs.contact
            && lhs.isConfidential == rhs.isConfidential && lhs.summary == rhs.summary && lhs.request == rhs.request
            && lhs.disputedDays == rhs.disputedDays
    }
}

/// One complaint as stored.
public struct Complaint: Sendable, Equatable {
    public var id: Int64
    public var channel: ComplaintChannel
    public var category: ComplaintCategory
    public var `protocol`: FrameProtocol?
    public var meter: String?
    public var district: String?
    public var complainant: String
    public var contact: String?
    public var isConfidential: Bool
    public var summary: String
    public var request: String?
    public var disputedFrom: CivilDate?
    public var disputedTo: CivilDate?
    public var status: ComplaintStatus
    public var receivedAt: Timestamp
    public var receivedBy: String
    /// The end of the last working day allowed for the answer.
    public var answerBy: Timestamp
    /// Whether a year of the count had no calendar file (counted by weekends alone).
    public var isAnswerByProvisional: Bool
    /// When each step was reached, by step name.
    public var steps: [String: Timestamp]
    public var notAcceptedReason: String?
    public var proposal: String?
    public var answer: String?
    public var outcome: ComplaintOutcome?
    public var escalationLevel: Int
}

extension Complaint: PostgresRowDecodable {
    /// Decodes the columns of `ComplaintSQL.columns`.
    public init(row: PostgresRow) throws {
        var steps: [String: Timestamp] = [:]
        for (offset, step) in ComplaintStep.allCases.enumerated() {
            if let at = try row.decode(18 + offset, as: Timestamp?.self) { steps[step.rawValue] = at }
        }
        func date(_ column: Int) throws -> CivilDate? {
            guard let text = try row.decode(column, as: String?.self) else { return nil }
            guard let date = CivilDate(iso: text) else {
                throw PostgresError(code: .unexpectedResult, message: "column \(column) is not a date: \(text)")
            }
            return date
        }
        self.init(
            id: try row.decode(0),
            channel: try row.decode(1),
            category: try row.decode(2),
            protocol: try row.decode(3, as: FrameProtocol?.self),
            meter: try row.decode(4, as: String?.self),
            district: try row.decode(5, as: String?.self),
            complainant: try row.decode(6),
            contact: try row.decode(7, as: String?.self),
            isConfidential: try row.decode(8),
            summary: try row.decode(9),
            request: try row.decode(10, as: String?.self),
            disputedFrom: try date(11),
            disputedTo: try date(12),
            status: try row.decode(13),
            receivedAt: try row.decode(14),
            receivedBy: try row.decode(15),
            answerBy: try row.decode(16),
            isAnswerByProvisional: try row.decode(17),
            steps: steps,
            notAcceptedReason: try row.decode(24, as: String?.self),
            proposal: try row.decode(25, as: String?.self),
            answer: try row.decode(26, as: String?.self),
            outcome: try row.decode(27, as: ComplaintOutcome?.self),
            escalationLevel: try row.decode(28)
        )
    }
}

/// One `complaint_events` row.
public struct ComplaintEvent: Sendable, Equatable, PostgresRowDecodable {
    public var id: Int64
    public var complaintID: Int64
    public var at: Timestamp
    public var kind: String
    public var actor: String
    public var detail: String?

    /// Decodes `id, complaint_id, at (µs), kind, actor, detail`.
    public init(row: PostgresRow) throws {
        id = try row.decode(0)
        complaintID = try row.decode(1)
        at = try row.decode(2)
        kind = try row.decode(3)
        actor = try row.decode(4)
        detail = try row.decode(5, as: String?.self)
    }
}

/// One `return_calls` row (of a ticket or a complaint).
public struct ReturnCallRecord: Sendable, Equatable, PostgresRowDecodable {
    public var outcome: ReturnCallOutcome
    public var attempts: Int
    public var remarks: String?
    public var actor: String
    public var at: Timestamp

    /// Decodes `outcome, attempts, remarks, actor, at (µs)`.
    public init(row: PostgresRow) throws {
        outcome = try row.decode(0)
        attempts = try row.decode(1)
        remarks = try row.decode(2, as: String?.self)
        actor = try row.decode(3)
        at = try row.decode(4)
    }
}

/// Which complaints ``ComplaintStore/complaints(_:)`` lists.
public struct ComplaintFilter: Sendable, Equatable {
    public var status: ComplaintStatus?
    public var category: ComplaintCategory?
    public var district: String?
    /// Closed complaints too.
    public var includeClosed = false
    public var limit = 100
    /// Keyset pagination: complaints with a larger id.
    public var afterComplaint: Int64?

    public init() {}
}

extension ComplaintChannel: PostgresDecodable, PostgresEncodable {}
extension ComplaintCategory: PostgresDecodable, PostgresEncodable {}
extension ComplaintStatus: PostgresDecodable, PostgresEncodable {}
extension ComplaintOutcome: PostgresDecodable, PostgresEncodable {}
extension ReturnCallOutcome: PostgresDecodable, PostgresEncodable {}
