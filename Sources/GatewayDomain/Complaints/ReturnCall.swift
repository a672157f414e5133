/// What the customer said on the return call (回访) after a repair or a complaint, or its waiver.
public enum ReturnCallOutcome: String, Sendable, Hashable, CaseIterable {
    case satisfied
    case notSatisfied = "not_satisfied"
    /// Nobody answered after the attempts recorded (at least ``ReturnCall/minimumUnreachableAttempts``).
    case unreachable
    /// No call: a supervisor waived it, with the reason as the remarks.
    case waived
}

/// A return call as recorded on a ticket or complaint, checked before it is written.
///
/// A ticket or complaint reaches `follow_up_done`, and so may close, only with one of these.
public struct ReturnCall: Sendable, Equatable {
    /// Why a return call was refused.
    public struct Refusal: Error, Sendable, Equatable {
        public var message: String
    }

    /// Calls without an answer before a customer counts as unreachable.
    public static let minimumUnreachableAttempts = 3

    public var outcome: ReturnCallOutcome
    /// Calls made (0 for a waiver).
    public var attempts: Int
    /// What the customer said; for a waiver, the supervisor's reason.
    public var remarks: String?

    /// Checks a return call.
    /// - Parameters:
    ///   - outcome: Satisfied, not satisfied, unreachable or waived.
    ///   - attempts: Calls made; at least 1 for an answered call, at least ``minimumUnreachableAttempts`` for
    ///     unreachable, 0 for a waiver.
    ///   - remarks: Free text; required for a waiver (its reason).
    ///   - isSupervisor: Whether the person recording it is a supervisor (only a supervisor may waive).
    /// - Throws: ``Refusal`` saying what is missing.
    public init(outcome: ReturnCallOutcome, attempts: Int, remarks: String?, isSupervisor: Bool) throws(Refusal) {
        let trimmed = remarks.map { String($0.drop(while: \.isWhitespace)) }.flatMap { $0.isEmpty ? nil : $0 }
        switch outcome {
        case .waived:
            guard isSupervisor else { throw Refusal(message: "only a supervisor may waive the return call") }
            guard trimmed != nil else { throw Refusal(message: "a waived return call needs the reason as remarks") }
            guard attempts == 0 else { throw Refusal(message: "a waived return call has no attempts") }
        case .unreachable:
            guard attempts >= Self.minimumUnreachableAttempts else {
                throw Refusal(
                    message:
                        "unreachable needs at least \(Self.minimumUnreachableAttempts) attempts; \(attempts) recorded"
                )
            }
        case .satisfied, .notSatisfied:
            guard attempts >= 1 else { throw Refusal(message: "an answered return call needs at least 1 attempt") }
        }
        guard attempts <= 100 else { throw Refusal(message: "at most 100 attempts") }
        self.outcome = outcome
        self.attempts = attempts
        self.remarks = trimmed
    }
}
