import Foundation
import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

/// Complaint events leave the database (v29): every event written is notified on `complaint_events` after its
/// commit and waits in the outbox for the dispatch topic; the message names the complaint but never the person or
/// their words.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct ComplaintEventOutboxTests {
    @Test func everyEventIsNotifiedAndQueuedWithoutThePersonOrTheirWords() async throws {
        try await withMigratedWriter(meters: ["m1"]) { _, database, _ in
            let clock = TestClock(beijing("2026-02-13T16:30:00"))
            let session = PostgresSession(conninfo: database.conninfo, logger: testLogger)
            let store = ComplaintStore(session, calendar: try springFestival2026(), zone: beijingZone) { clock.now }
            let outbox = DispatchOutbox(session)
            let listener = PostgresListener(
                conninfo: database.conninfo,
                channel: "complaint_events",
                logger: testLogger
            )
            try await listener.start()
            let collector = NotificationCollector(listener.notifications)

            let confidential = try await store.receive(
                ComplaintIntake(
                    channel: .hotline,
                    category: .serviceAttitude,
                    meter: (.native, "m1"),
                    complainant: "Ms Li Hua",
                    contact: "138-0000-0000",
                    isConfidential: true,
                    summary: "the fitter was rude at flat 12",
                    request: "an apology from Mr Wang"
                ),
                actor: "desk-1"
            )
            let open = try await store.receive(
                ComplaintIntake(
                    channel: .counter,
                    category: .other,
                    meter: nil,
                    district: "harbour",
                    complainant: "Mr Zhao Lei",
                    summary: "letter never arrived"
                ),
                actor: "desk-2"
            )
            _ = try await store.advance(open.id, to: .notAccepted, text: "not ours", outcome: nil, actor: "desk-2")
            _ = try await store.note(confidential.id, actor: "desk-1", note: "called Ms Li Hua back at 138-0000-0000")
            _ = try await store.advance(
                confidential.id,
                to: .accepted,
                text: "Mr Wang to apologise",
                outcome: nil,
                actor: "desk-1"
            )

            let notes = await collector.wait(forCount: 5)
            try #require(notes.count == 5)
            let messages = try notes.map { note in
                try #require(
                    (try? JSONSerialization.jsonObject(with: Data(note.payload.utf8))) as? [String: Any],
                    "not JSON: \(note.payload)"
                )
            }
            #expect(
                messages.map { $0["event"] as? String } == ["received", "received", "not_accepted", "note", "accepted"]
            )
            #expect(messages.allSatisfy { ($0["version"] as? Int) == 1 })
            let complaints = messages.map { $0["complaint"] as? [String: Any] ?? [:] }
            #expect(
                complaints.map { ($0["id"] as? NSNumber)?.int64Value } == [
                    confidential.id, open.id, open.id, confidential.id, confidential.id,
                ]
            )
            // The status the event's own statement set, not the one before it.
            #expect(
                complaints.map { $0["status"] as? String } == [
                    "received", "received", "not_accepted", "received", "accepted",
                ]
            )
            #expect(complaints[0]["category"] as? String == "service_attitude")
            #expect(complaints[0]["confidential"] as? Bool == true)
            #expect((complaints[0]["meter"] as? [String: Any])?["id"] as? String == "m1")
            #expect(complaints[1]["district"] as? String == "harbour" && complaints[1]["meter"] is NSNull)
            #expect(complaints[0]["answer_by"] as? String == "2026-02-27T16:00:00Z")
            // A step's text goes out for an ordinary complaint; notes and a confidential complaint's texts never do.
            #expect(messages[2]["detail"] as? String == "not ours")
            #expect(messages[3]["detail"] is NSNull && messages[4]["detail"] is NSNull)
            for payload in notes.map(\.payload) {
                for secret in ["Li Hua", "138-0000", "fitter", "apology", "Wang", "Zhao", "letter never"] {
                    #expect(!payload.contains(secret), "\(secret) in \(payload)")
                }
            }

            // The outbox holds the same messages, oldest first, until the broker acknowledged them.
            let pending = try await outbox.undispatchedComplaintEvents(limit: 10)
            #expect(pending.map(\.json) == notes.map(\.payload))
            #expect(
                pending.map(\.category) == [
                    "service_attitude", "other", "other", "service_attitude", "service_attitude",
                ]
            )
            try await outbox.markComplaintEventsDispatched(Array(pending.prefix(3).map(\.eventID)))
            #expect(
                try await outbox.undispatchedComplaintEvents(limit: 10).map(\.eventID)
                    == pending.dropFirst(3).map(\.eventID)
            )
            // Events stay insert-only: the outbox, not the event row, carries the mark.
            #expect(try database.count("complaint_events") == 5)
            listener.stop()
            await collector.finished()
            await session.close()
        }
    }
}
