import GatewayCore
import GatewayDomain
import Testing

/// Next deadline and escalation on a fixed "now".
@Suite struct TicketDeadlinesTests {
    static let opened = Timestamp(secondsSinceEpoch: 1_780_000_000)
    /// P0 urban: acknowledge 5 min, arrive 30 min, make safe 6 h, repair 24 h.
    static let deadlines = TicketDeadlines([
        .acknowledge: opened.adding(seconds: 300),
        .arrive: opened.adding(seconds: 1800),
        .makeSafe: opened.adding(seconds: 6 * 3600),
        .repair: opened.adding(seconds: 24 * 3600),
    ])

    @Test func nextDeadlineIsThatOfTheNextPendingStep() {
        let d = Self.deadlines
        #expect(d.next(for: .open)?.deadline == .acknowledge)
        #expect(d.next(for: .acknowledged)?.deadline == .arrive)
        #expect(d.next(for: .acknowledged)?.at == Self.opened.adding(seconds: 1800))
        #expect(d.next(for: .dispatched)?.deadline == .arrive)
        #expect(d.next(for: .onSite)?.deadline == .makeSafe)
        #expect(d.next(for: .madeSafe)?.deadline == .repair)
        #expect(d.next(for: .resolved) == nil)
        #expect(d.next(for: .closed) == nil)
    }

    @Test func nextDeadlineSkipsMissingDeadlines() {
        let d = TicketDeadlines([.repair: Self.opened.adding(seconds: 60)])
        #expect(d.next(for: .open)?.deadline == .repair)
        #expect(TicketDeadlines([:]).next(for: .open) == nil)
    }

    @Test func escalatesEachPassedPendingDeadlineOnce() {
        let d = Self.deadlines
        let now = Self.opened.adding(seconds: 3600)
        #expect(d.escalationsDue(status: .open, escalated: [], now: now) == [.acknowledge, .arrive])
        #expect(d.escalationsDue(status: .open, escalated: [.acknowledge], now: now) == [.arrive])
        #expect(d.escalationsDue(status: .acknowledged, escalated: [], now: now) == [.arrive])
        #expect(d.escalationsDue(status: .onSite, escalated: [], now: now).isEmpty)
    }

    @Test func aDeadlineIsDueOnlyAfterItsInstant() {
        let d = Self.deadlines
        #expect(d.escalationsDue(status: .open, escalated: [], now: Self.opened.adding(seconds: 300)).isEmpty)
        #expect(
            d.escalationsDue(status: .open, escalated: [], now: Self.opened.adding(seconds: 301)) == [.acknowledge]
        )
    }

    @Test func closedTicketsNeverEscalate() {
        let late = Self.opened.adding(seconds: 48 * 3600)
        #expect(Self.deadlines.escalationsDue(status: .resolved, escalated: [], now: late).isEmpty)
        #expect(
            Self.deadlines.escalationsDue(status: .madeSafe, escalated: [], now: late) == [.repair]
        )
    }

    @Test func pendingStatusesFollowTheLifecycle() {
        #expect(TicketDeadline.acknowledge.pendingStatuses == [.open])
        #expect(TicketDeadline.arrive.pendingStatuses == [.open, .acknowledged, .dispatched])
        #expect(TicketDeadline.makeSafe.pendingStatuses == [.open, .acknowledged, .dispatched, .onSite])
        #expect(TicketDeadline.repair.pendingStatuses == TicketStatus.active)
    }
}
