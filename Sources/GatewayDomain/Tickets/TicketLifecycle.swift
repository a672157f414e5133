/// Where a repair ticket stands: every status the `repair_tickets.status` check constraint allows, in lifecycle order.
///
/// A ticket is opened by an alarm or a hotline call and moves forward only, one ``TicketStep`` at a time; see
/// ``TicketLifecycle``.
public enum TicketStatus: String, Sendable, Hashable, CaseIterable {
    /// Opened; nobody has taken it yet.
    case open
    /// A dispatcher took it.
    case acknowledged
    /// A crew is on its way.
    case dispatched
    /// The crew arrived.
    case onSite = "on_site"
    /// The escape is under control (valve closed, area ventilated); the repair may still be pending.
    case madeSafe = "made_safe"
    /// Repaired; the follow-up call is pending.
    case resolved
    /// The follow-up call (回访) was made.
    case followUpDone = "follow_up_done"
    /// Done.
    case closed

    /// Whether the ticket still needs a crew: open up to made safe. At most one active ticket exists per meter and
    /// condition (the partial unique index `repair_tickets_one_active_idx` has the same list).
    public var isActive: Bool {
        switch self {
        case .open, .acknowledged, .dispatched, .onSite, .madeSafe: true
        case .resolved, .followUpDone, .closed: false
        }
    }

    /// The active statuses, in lifecycle order.
    public static let active: [TicketStatus] = allCases.filter(\.isActive)
}

/// A step of the ticket lifecycle: open → acknowledged → dispatched → on site → made safe → resolved → follow-up
/// call done → closed. Steps move forward only; `made_safe` may be skipped (a fault that was never an escape).
public enum TicketStep: String, Sendable, Hashable, CaseIterable {
    case acknowledged
    case dispatched
    case onSite = "on_site"
    case madeSafe = "made_safe"
    case resolved
    case followUpDone = "follow_up_done"
    case closed

    /// The status a ticket has once this step was reached (the same word).
    public var status: TicketStatus {
        switch self {
        case .acknowledged: .acknowledged
        case .dispatched: .dispatched
        case .onSite: .onSite
        case .madeSafe: .madeSafe
        case .resolved: .resolved
        case .followUpDone: .followUpDone
        case .closed: .closed
        }
    }

    /// The statuses a ticket may be in for this step to apply.
    public var allowedFrom: [TicketStatus] {
        switch self {
        case .acknowledged: [.open]
        case .dispatched: [.acknowledged]
        case .onSite: [.dispatched]
        case .madeSafe: [.onSite]
        case .resolved: [.onSite, .madeSafe]
        case .followUpDone: [.resolved]
        case .closed: [.followUpDone]
        }
    }
}

/// The ticket lifecycle as a pure transition function: given where a ticket stands and the step a person records,
/// the new status or a refusal that says why.
///
/// The store locks the ticket, reads its status, asks ``advance(ticket:from:by:)`` and writes what it answers.
public enum TicketLifecycle {
    /// Why a step was refused; ``message`` is shown to the dispatcher as is.
    public struct Refusal: Error, Sendable, Equatable {
        /// For example "ticket 7 is open; dispatched follows acknowledged".
        public var message: String

        /// Creates a refusal.
        /// - Parameter message: The text shown to the dispatcher.
        public init(message: String) {
            self.message = message
        }
    }

    /// The status a ticket moves to when `step` is recorded.
    /// - Parameters:
    ///   - ticket: The ticket's id (for the refusal's message).
    ///   - status: Its current status.
    ///   - step: The step being recorded.
    /// - Returns: The new status (``TicketStep/status``).
    /// - Throws: ``Refusal`` when the step does not follow the current status; the ticket is left as it is.
    public static func advance(
        ticket: Int64,
        from status: TicketStatus,
        by step: TicketStep
    ) throws(Refusal) -> TicketStatus {
        guard step.allowedFrom.contains(status) else {
            throw Refusal(
                message: "ticket \(ticket) is \(status.rawValue); \(step.rawValue) follows "
                    + step.allowedFrom.map(\.rawValue).joined(separator: " or ")
            )
        }
        return step.status
    }
}
