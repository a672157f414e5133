public import GatewayCore

/// One of the four service-commitment deadlines of a ticket, named as its `repair_tickets` column.
public enum TicketDeadline: String, Sendable, Hashable, CaseIterable {
    /// Someone must take the ticket (step `acknowledged`).
    case acknowledge = "acknowledge_by"
    /// A crew must be on site (step `on_site`).
    case arrive = "arrive_by"
    /// The escape must be under control (step `made_safe`, or `resolved` when it was never an escape).
    case makeSafe = "make_safe_by"
    /// The fault must be repaired (step `resolved`).
    case repair = "repair_by"

    /// Whether a ticket in `status` has not yet reached the step this deadline is for, so the deadline still counts.
    ///
    /// - Parameter status: The ticket's status.
    /// - Returns: `true` while the step is pending; never for a ticket that is no longer active.
    public func isPending(in status: TicketStatus) -> Bool {
        switch self {
        case .acknowledge: status == .open
        case .arrive: [.open, .acknowledged, .dispatched].contains(status)
        case .makeSafe: [.open, .acknowledged, .dispatched, .onSite].contains(status)
        case .repair: status.isActive
        }
    }

    /// The statuses in which this deadline is pending, in lifecycle order (for set-based statements).
    public var pendingStatuses: [TicketStatus] {
        TicketStatus.allCases.filter { isPending(in: $0) }
    }
}

/// The deadlines of one ticket and the rules over them: which one comes next, which escalations are due.
///
/// Pure: "now" is always a parameter (ARCHITECTURE decision 7).
public struct TicketDeadlines: Sendable, Equatable {
    /// The instant of each deadline the ticket has (a ticket opened without settings may lack some).
    public var instants: [TicketDeadline: Timestamp]

    /// Creates the deadlines of a ticket.
    /// - Parameter instants: The instant of each deadline the ticket has.
    public init(_ instants: [TicketDeadline: Timestamp]) {
        self.instants = instants
    }

    /// The deadline of the ticket's next pending step: the earliest deadline whose step a ticket in `status` has not
    /// reached. An acknowledged ticket's next deadline is its arrival, never its passed `acknowledge_by`.
    /// - Parameter status: The ticket's status.
    /// - Returns: The deadline and its instant, or `nil` when none is pending (a resolved or closed ticket).
    public func next(for status: TicketStatus) -> (deadline: TicketDeadline, at: Timestamp)? {
        var best: (deadline: TicketDeadline, at: Timestamp)?
        for deadline in TicketDeadline.allCases where deadline.isPending(in: status) {
            guard let at = instants[deadline] else { continue }
            if let current = best, current.at <= at { continue }
            best = (deadline, at)
        }
        return best
    }

    /// The escalations due at `now`: every pending deadline that passed and was not escalated before, in deadline
    /// order. Each deadline escalates a ticket once.
    /// - Parameters:
    ///   - status: The ticket's status.
    ///   - escalated: The deadlines already escalated.
    ///   - now: The instant to judge at.
    /// - Returns: The deadlines to escalate now.
    public func escalationsDue(
        status: TicketStatus,
        escalated: Set<TicketDeadline>,
        now: Timestamp
    ) -> [TicketDeadline] {
        TicketDeadline.allCases.filter { deadline in
            guard deadline.isPending(in: status), !escalated.contains(deadline), let at = instants[deadline] else {
                return false
            }
            return at < now
        }
    }
}
