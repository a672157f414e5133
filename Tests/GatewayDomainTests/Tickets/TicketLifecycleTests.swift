import GatewayDomain
import Testing

/// The ticket lifecycle without a database: every step from every status.
@Suite struct TicketLifecycleTests {
    @Test func walksTheWholeLifecycleForward() throws {
        var status = TicketStatus.open
        for step in [TicketStep.acknowledged, .dispatched, .onSite, .madeSafe, .resolved, .followUpDone, .closed] {
            status = try TicketLifecycle.advance(ticket: 1, from: status, by: step)
            #expect(status == step.status)
        }
        #expect(status == .closed)
    }

    @Test func resolvesWithoutMakingSafe() throws {
        #expect(try TicketLifecycle.advance(ticket: 1, from: .onSite, by: .resolved) == .resolved)
    }

    @Test func refusesASkippedStepAndSaysWhy() {
        #expect(throws: TicketLifecycle.Refusal(message: "ticket 7 is open; dispatched follows acknowledged")) {
            try TicketLifecycle.advance(ticket: 7, from: .open, by: .dispatched)
        }
        #expect(
            throws: TicketLifecycle.Refusal(message: "ticket 9 is dispatched; resolved follows on_site or made_safe")
        ) {
            try TicketLifecycle.advance(ticket: 9, from: .dispatched, by: .resolved)
        }
    }

    @Test(arguments: TicketStep.allCases)
    func neverMovesBackwardsOrRepeats(step: TicketStep) {
        let order = TicketStatus.allCases
        for status in order where order.firstIndex(of: status)! >= order.firstIndex(of: step.status)! {
            #expect(throws: TicketLifecycle.Refusal.self) {
                try TicketLifecycle.advance(ticket: 1, from: status, by: step)
            }
        }
    }

    @Test func activeStatusesAreOpenThroughMadeSafe() {
        #expect(TicketStatus.active == [.open, .acknowledged, .dispatched, .onSite, .madeSafe])
        #expect(
            TicketStatus.allCases.map(\.rawValue) == [
                "open", "acknowledged", "dispatched", "on_site", "made_safe", "resolved", "follow_up_done", "closed",
            ]
        )
    }
}
