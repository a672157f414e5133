import GatewayCore
import GatewayDomain
import Testing

/// The limits of a planned outage, with "now" given: a bounded window that does not end in the past, and a
/// cancellation only of an outage that stands.
@Suite struct PlannedOutagePolicyTests {
    private let now = Timestamp(secondsSinceEpoch: 1_790_000_000)
    private let policy = PlannedOutagePolicy(maximumHours: 12)

    private func refusal(_ body: () throws(PlannedOutagePolicy.Refusal) -> Void) -> PlannedOutagePolicy.Refusal? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    @Test func aWindowUpToTheMaximumIsAllowedEvenIfItStartedAlready() throws {
        try policy.checkAnnouncement(from: now, to: now.adding(seconds: 12 * 3600), now: now)
        try policy.checkAnnouncement(from: now.adding(seconds: -3600), to: now.adding(seconds: 60), now: now)
        try policy.checkAnnouncement(from: now.adding(seconds: 86_400), to: now.adding(seconds: 90_000), now: now)
    }

    @Test func aLongerWindowIsRefusedSayingHowLongItIsAndMayBe() {
        let start = now.adding(seconds: 3600)
        let refused = refusal { () throws(PlannedOutagePolicy.Refusal) in
            try policy.checkAnnouncement(from: start, to: start.adding(seconds: 12 * 3600 + 1800), now: now)
        }
        #expect(refused?.reason == .tooLong)
        #expect(
            refused?.message
                == "an outage may last at most 12 h (dispatch.max_outage_hours); this one lasts 12 h 30 min"
        )
        #expect(PlannedOutagePolicy(maximumHours: 168).maximumSeconds == 168 * 3600)
    }

    @Test func anEmptyOrPastWindowIsRefused() {
        let empty = refusal { () throws(PlannedOutagePolicy.Refusal) in
            try policy.checkAnnouncement(from: now, to: now, now: now)
        }
        #expect(empty?.reason == .emptyWindow)
        let past = refusal { () throws(PlannedOutagePolicy.Refusal) in
            try policy.checkAnnouncement(from: now.adding(seconds: -7200), to: now, now: now)
        }
        #expect(past?.reason == .endsInThePast)
    }

    @Test func onlyAStandingOutageCanBeCancelled() throws {
        try policy.checkCancellation(of: 1, endingAt: now.adding(seconds: 1), cancelledAt: nil, now: now)
        let twice = refusal { () throws(PlannedOutagePolicy.Refusal) in
            try policy.checkCancellation(of: 1, endingAt: now.adding(seconds: 60), cancelledAt: now, now: now)
        }
        #expect(twice?.reason == .alreadyCancelled)
        let over = refusal { () throws(PlannedOutagePolicy.Refusal) in
            try policy.checkCancellation(of: 1, endingAt: now, cancelledAt: nil, now: now)
        }
        #expect(over?.reason == .alreadyOver)
        #expect(over?.message.contains("nothing to cancel") == true)
    }
}
