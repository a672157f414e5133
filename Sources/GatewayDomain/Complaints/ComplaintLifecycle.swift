public import GatewayCore

/// How a complaint reached the company.
public enum ComplaintChannel: String, Sendable, Hashable, CaseIterable {
    case hotline, counter, web, app
}

/// What a complaint is about.
public enum ComplaintCategory: String, Sendable, Hashable, CaseIterable {
    /// The customer doubts a bill (or the meter behind it); see ``ComplaintOutcome``.
    case billingDispute = "billing_dispute"
    case meterAccuracy = "meter_accuracy"
    case serviceAttitude = "service_attitude"
    case supplyInterruption = "supply_interruption"
    case safety
    case other
}

/// What the answer to a billing dispute decided.
public enum ComplaintOutcome: String, Sendable, Hashable, CaseIterable {
    /// The bill stands.
    case billConfirmed = "bill_confirmed"
    /// Days were corrected (the corrections are the billing feed's rows for the disputed days).
    case corrected
    /// The meter was found faulty and replaced.
    case meterReplaced = "meter_replaced"
}

/// Where a complaint stands: every status the `complaints.status` check constraint allows, in lifecycle order.
public enum ComplaintStatus: String, Sendable, Hashable, CaseIterable {
    /// Recorded; the answer deadline runs.
    case received
    /// Accepted for handling.
    case accepted
    /// Not accepted, the reason given to the complainant: this is the answer.
    case notAccepted = "not_accepted"
    /// A proposed resolution was recorded.
    case proposed
    /// The complainant was answered.
    case answered
    /// The return call (回访) was made, or a supervisor waived it.
    case followUpDone = "follow_up_done"
    /// Done.
    case closed

    /// Whether the complainant still awaits the answer, so the answer deadline counts.
    public var awaitsAnswer: Bool { [.received, .accepted, .proposed].contains(self) }
}

/// A step of the complaint lifecycle: received → accepted | not accepted → proposed → answered → follow-up call →
/// closed. Forward only; a not-accepted complaint goes straight to its return call. `follow_up_done` is reached only
/// with a ``ReturnCall`` (or its waiver): the store records the call and the step together.
public enum ComplaintStep: String, Sendable, Hashable, CaseIterable {
    case accepted
    case notAccepted = "not_accepted"
    case proposed
    case answered
    case followUpDone = "follow_up_done"
    case closed

    /// The status a complaint has once this step was reached (the same word).
    public var status: ComplaintStatus {
        switch self {
        case .accepted: .accepted
        case .notAccepted: .notAccepted
        case .proposed: .proposed
        case .answered: .answered
        case .followUpDone: .followUpDone
        case .closed: .closed
        }
    }

    /// The statuses a complaint may be in for this step to apply.
    public var allowedFrom: [ComplaintStatus] {
        switch self {
        case .accepted, .notAccepted: [.received]
        case .proposed: [.accepted]
        case .answered: [.proposed]
        case .followUpDone: [.answered, .notAccepted]
        case .closed: [.followUpDone]
        }
    }

    /// Whether the step needs text: the reason of a refusal, the proposal, the answer.
    public var needsText: Bool { [.notAccepted, .proposed, .answered].contains(self) }
}

/// The complaint lifecycle as pure rules: which step follows which, what each needs, when the answer is due and
/// when a late one escalates.
public enum ComplaintLifecycle {
    /// Why a step was refused; ``message`` is shown as is.
    public struct Refusal: Error, Sendable, Equatable {
        public var message: String

        /// Creates a refusal.
        public init(message: String) {
            self.message = message
        }
    }

    /// The status a complaint moves to when `step` is recorded.
    /// - Parameters:
    ///   - complaint: The complaint's id (for the message).
    ///   - status: Its current status.
    ///   - step: The step.
    ///   - text: The step's text (reason, proposal, answer).
    ///   - category: The complaint's category.
    ///   - outcome: For the answer to a billing dispute, what it decided.
    /// - Returns: The new status.
    /// - Throws: ``Refusal`` when the step does not follow, lacks its text, or a billing dispute's answer lacks
    ///   its outcome (or another complaint's answer has one).
    public static func advance(
        complaint: Int64,
        from status: ComplaintStatus,
        by step: ComplaintStep,
        text: String?,
        category: ComplaintCategory,
        outcome: ComplaintOutcome?
    ) throws(Refusal) -> ComplaintStatus {
        guard step.allowedFrom.contains(status) else {
            throw Refusal(
                message: "complaint \(complaint) is \(status.rawValue); \(step.rawValue) follows "
                    + step.allowedFrom.map(\.rawValue).joined(separator: " or ")
            )
        }
        if step.needsText, (text ?? "").allSatisfy(\.isWhitespace) {
            let what = step == .notAccepted ? "the reason given" : step == .proposed ? "the proposal" : "the answer"
            throw Refusal(message: "\(step.rawValue) needs \(what) as its text")
        }
        if step == .answered {
            if category == .billingDispute, outcome == nil {
                throw Refusal(
                    message: "the answer to a billing dispute needs its outcome: "
                        + ComplaintOutcome.allCases.map(\.rawValue).joined(separator: ", ")
                )
            }
            if category != .billingDispute, outcome != nil {
                throw Refusal(message: "only the answer to a billing dispute has an outcome")
            }
        } else if outcome != nil {
            throw Refusal(message: "only the answer to a billing dispute has an outcome")
        }
        return step.status
    }

    /// The note a `corrected` answer carries: the billing-feed corrections of the disputed days published since the
    /// complaint was received. A bill is not "corrected" until a correction was published.
    /// - Parameter correctionSeqs: The `billing_feed.seq` of those corrections.
    /// - Returns: `corrections: billing feed seq 12, 13`.
    /// - Throws: ``Refusal`` when there is none.
    public static func correctionNote(_ correctionSeqs: [Int64]) throws(Refusal) -> String {
        guard !correctionSeqs.isEmpty else {
            throw Refusal(
                message: "corrected needs a correction of the disputed days published since the complaint was received"
            )
        }
        return "corrections: billing feed seq " + correctionSeqs.map(String.init).joined(separator: ", ")
    }

    /// Whether a late answer escalates now: the complaint still awaits its answer, the deadline passed and it was
    /// not escalated before (a complaint escalates once).
    /// - Parameters:
    ///   - status: The complaint's status.
    ///   - answerBy: Its answer deadline.
    ///   - isEscalated: Whether it was escalated before.
    ///   - now: The instant to judge at.
    public static func isEscalationDue(
        status: ComplaintStatus,
        answerBy: Timestamp,
        isEscalated: Bool,
        now: Timestamp
    ) -> Bool {
        status.awaitsAnswer && !isEscalated && answerBy < now
    }
}
