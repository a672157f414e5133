import Foundation
import GatewayCore
import GatewayDomain
import Synchronization
import Testing

@testable import PostgresSink

/// A clock the test moves: "now" of what the stores record.
final class TestClock: Sendable {
    private let micros: Atomic<Int64>

    init(_ start: Timestamp) {
        micros = Atomic(start.microsecondsSinceEpoch)
    }

    func set(_ instant: Timestamp) { micros.store(instant.microsecondsSinceEpoch, ordering: .relaxed) }

    var now: Timestamp { Timestamp(microsecondsSinceEpoch: micros.load(ordering: .relaxed)) }
}

/// China Standard Time.
let beijingZone = TimeZoneRules(fixedOffsetSeconds: 8 * 3600)

/// An instant written in China Standard Time, `2026-02-13T16:30:00` (`Timestamp(iso:)` reads UTC only).
func beijing(_ text: String) -> Timestamp {
    (Timestamp(iso: text + "Z") ?? Timestamp(secondsSinceEpoch: 0)).adding(seconds: -8 * 3600)
}

func civil(_ text: String) -> CivilDate { CivilDate(iso: text) ?? CivilDate(year: 1900, month: 1, day: 1) }

/// The Spring Festival part of the 2026 Chinese official calendar.
func springFestival2026() throws -> WorkingCalendar {
    try WorkingCalendar(years: [
        WorkingYear(
            year: 2026,
            holidays: [.init(name: "春节", from: civil("2026-02-15"), to: civil("2026-02-23"))],
            makeUpDays: [.init(date: civil("2026-02-14"), name: "春节"), .init(date: civil("2026-02-28"), name: "春节")]
        )
    ])
}

/// Complaints against a real database: the working-day deadline, the forward-only lifecycle in the store and in
/// the database, escalation once, return calls for complaints and tickets, and the billing-dispute file.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct ComplaintStoreTests {
    private func withComplaints(
        clock: TestClock,
        _ body: (ComplaintStore, DispatchStore, TestDatabase, [String: Int64]) async throws -> Void
    ) async throws {
        try await withMigratedWriter(meters: ["m1", "m2"]) { _, database, ids in
            let session = PostgresSession(conninfo: database.conninfo, logger: testLogger)
            let store = ComplaintStore(
                session,
                calendar: try springFestival2026(),
                zone: beijingZone,
                clock: { clock.now }
            )
            do {
                try await body(store, DispatchStore(session, clock: { clock.now }), database, ids)
            } catch {
                await session.close()
                throw error
            }
            await session.close()
        }
    }

    private func refusal(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as PostgresError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    /// Received on Friday 13 February 2026, the last working day before the Spring Festival: the make-up Saturday
    /// is day 1, the nine days off count nothing, Friday 27th is day 5.
    @Test func aComplaintOnTheFridayBeforeTheHolidayIsDueAtTheEndOfThe27th() async throws {
        let clock = TestClock(beijing("2026-02-13T16:30:00"))
        try await withComplaints(clock: clock) { store, _, _, _ in
            let complaint = try await store.receive(
                ComplaintIntake(
                    channel: .hotline,
                    category: .serviceAttitude,
                    meter: (.native, "m1"),
                    complainant: "Ms Li",
                    contact: "138-0000-0000",
                    isConfidential: true,
                    summary: "the fitter was rude",
                    request: "an apology"
                ),
                actor: "desk-1"
            )
            #expect(complaint.answerBy == beijing("2026-02-28T00:00:00"))
            #expect(!complaint.isAnswerByProvisional)
            #expect(complaint.status == .received && complaint.district == "d1" && complaint.isConfidential)
            let (_, events, call) = try #require(try await store.complaint(complaint.id))
            #expect(events.map(\.kind) == ["received"] && events[0].actor == "desk-1")
            #expect(events[0].detail?.contains("last 2026-02-27") == true)
            #expect(call == nil)
        }
    }

    @Test func theLifecycleMovesForwardOnlyInTheStoreAndInTheDatabase() async throws {
        let clock = TestClock(beijing("2026-03-02T09:00:00"))
        try await withComplaints(clock: clock) { store, _, database, _ in
            let id = try await store.receive(
                ComplaintIntake(
                    channel: .counter,
                    category: .supplyInterruption,
                    meter: nil,
                    district: "d9",
                    complainant: "Mr Wang",
                    summary: "no gas for two days"
                ),
                actor: "desk-1"
            ).id
            #expect(
                await refusal { _ = try await store.advance(id, to: .answered, text: "x", outcome: nil, actor: "a") }
                    == "complaint \(id) is received; answered follows proposed"
            )
            #expect(
                await refusal { _ = try await store.advance(id, to: .proposed, text: nil, outcome: nil, actor: "a") }
                    == "complaint \(id) is received; proposed follows accepted"
            )
            _ = try await store.advance(id, to: .accepted, text: nil, outcome: nil, actor: "desk-2")
            #expect(
                await refusal { _ = try await store.advance(id, to: .proposed, text: " ", outcome: nil, actor: "a") }
                    == "proposed needs the proposal as its text"
            )
            _ = try await store.advance(id, to: .proposed, text: "restore by noon", outcome: nil, actor: "desk-2")
            #expect(
                await refusal {
                    _ = try await store.advance(id, to: .answered, text: "done", outcome: .corrected, actor: "a")
                } == "only the answer to a billing dispute has an outcome"
            )
            _ = try await store.advance(id, to: .answered, text: "restored 11:40", outcome: nil, actor: "desk-2")
            // No close without the return call.
            #expect(
                await refusal { _ = try await store.advance(id, to: .closed, text: nil, outcome: nil, actor: "a") }
                    == "complaint \(id) is answered; closed follows follow_up_done"
            )
            // The database refuses the same, whoever writes.
            let connection = try database.connect()
            #expect(throws: PostgresError.self) {
                _ = try connection.execute("UPDATE complaints SET status = 'follow_up_done' WHERE id = \(id)")
            }
            #expect(throws: PostgresError.self) {
                _ = try connection.execute("UPDATE complaints SET status = 'accepted' WHERE id = \(id)")
            }
            #expect(throws: PostgresError.self) {
                _ = try connection.execute("UPDATE complaint_events SET actor = 'someone else'")
            }
            #expect(throws: PostgresError.self) {
                _ = try connection.execute("DELETE FROM complaint_events")
            }
            #expect(throws: PostgresError.self) {
                _ = try connection.execute(
                    "UPDATE complaints SET answer_by = answer_by + interval '1 day' WHERE id = \(id)"
                )
            }
            clock.set(beijing("2026-03-04T10:00:00"))
            _ = try await store.recordReturnCall(
                id,
                try ReturnCall(outcome: .satisfied, attempts: 1, remarks: "thanks", isSupervisor: false),
                actor: "desk-3"
            )
            _ = try await store.advance(id, to: .closed, text: nil, outcome: nil, actor: "desk-3")
            let (closed, events, call) = try #require(try await store.complaint(id))
            #expect(
                closed.status == .closed && closed.proposal == "restore by noon" && closed.answer == "restored 11:40"
            )
            #expect(
                events.map { "\($0.kind)/\($0.actor)" } == [
                    "received/desk-1", "accepted/desk-2", "proposed/desk-2", "answered/desk-2",
                    "follow_up_done/desk-3", "closed/desk-3",
                ]
            )
            #expect(events[4].detail == "satisfied after 1 attempt: thanks")
            #expect(
                call?.outcome == .satisfied && call?.actor == "desk-3" && call?.at == beijing("2026-03-04T10:00:00")
            )
            #expect(try database.count("complaints", where: "closed_at IS NOT NULL") == 1)
        }
    }

    /// The transitions the database allows are exactly those of ``ComplaintStep/allowedFrom`` (the trigger's list is
    /// spelt out in migration v24; this keeps the two the same). Each status is set with the triggers off, then
    /// every change to another status is tried with them on.
    @Test func theDatabaseAllowsExactlyTheTransitionsOfTheSwiftRule() async throws {
        let clock = TestClock(beijing("2026-03-02T09:00:00"))
        try await withComplaints(clock: clock) { store, _, database, _ in
            let id = try await store.receive(
                ComplaintIntake(
                    channel: .web,
                    category: .other,
                    meter: nil,
                    district: "d1",
                    complainant: "c",
                    summary: "s"
                ),
                actor: "desk"
            ).id
            let connection = try database.connect()
            // A return call exists, so that only the transition rule decides.
            _ = try connection.execute(
                "INSERT INTO return_calls (complaint_id, outcome, attempts, actor, at) VALUES (\(id), 'satisfied', 1, 'd', now())"
            )
            for from in ComplaintStatus.allCases {
                for to in ComplaintStatus.allCases where to != from {
                    _ = try connection.execute("SET session_replication_role = replica")
                    _ = try connection.execute("UPDATE complaints SET status = '\(from.rawValue)' WHERE id = \(id)")
                    _ = try connection.execute("SET session_replication_role = origin")
                    _ = try connection.execute("BEGIN")
                    let allowed: Bool
                    do {
                        _ = try connection.execute("UPDATE complaints SET status = '\(to.rawValue)' WHERE id = \(id)")
                        allowed = true
                    } catch {
                        allowed = false
                    }
                    _ = try connection.execute("ROLLBACK")
                    let rule = ComplaintStep.allCases.contains { $0.status == to && $0.allowedFrom.contains(from) }
                    #expect(allowed == rule, "\(from.rawValue) -> \(to.rawValue)")
                }
            }
        }
    }

    @Test func aLateAnswerEscalatesOnceAndAnAnsweredComplaintNever() async throws {
        let clock = TestClock(beijing("2026-02-13T16:30:00"))
        try await withComplaints(clock: clock) { store, _, _, _ in
            func receive() async throws -> Int64 {
                try await store.receive(
                    ComplaintIntake(
                        channel: .web,
                        category: .other,
                        meter: (.native, "m2"),
                        complainant: "c",
                        summary: "s"
                    ),
                    actor: "web"
                ).id
            }
            let late = try await receive()
            let answered = try await receive()
            _ = try await store.advance(
                answered,
                to: .notAccepted,
                text: "not ours: the landlord's pipe",
                outcome: nil,
                actor: "desk-1"
            )
            #expect(try await store.escalateOverdue(now: beijing("2026-02-27T23:59:59")).isEmpty)
            let first = try await store.escalateOverdue(now: beijing("2026-02-28T00:00:01"))
            #expect(first.map(\.complaintID) == [late] && first[0].kind == "escalated" && first[0].actor == "gateway")
            #expect(try await store.escalateOverdue(now: beijing("2026-03-10T00:00:00")).isEmpty)
            let (complaint, events, _) = try #require(try await store.complaint(late))
            #expect(complaint.escalationLevel == 1 && events.filter { $0.kind == "escalated" }.count == 1)
            #expect(try await store.complaint(answered)?.complaint.escalationLevel == 0)
        }
    }

    @Test func aTicketCannotReachFollowUpOrCloseWithoutItsReturnCallUnlessWaived() async throws {
        let clock = TestClock(beijing("2026-03-02T09:00:00"))
        try await withComplaints(clock: clock) { _, tickets, database, _ in
            func resolvedTicket(_ meter: String) async throws -> Int64 {
                let id = try await tickets.openManualTicket(
                    meter: (.native, meter),
                    condition: .gasSmellReported,
                    reporter: "caller",
                    actor: "hotline",
                    note: nil
                ).ticketID
                for step in [TicketStep.acknowledged, .dispatched, .onSite, .resolved] {
                    _ = try await tickets.advanceTicket(id, to: step, actor: "crew", note: nil)
                }
                return id
            }
            let id = try await resolvedTicket("m1")
            #expect(
                await refusal { _ = try await tickets.advanceTicket(id, to: .followUpDone, actor: "d", note: nil) }
                    == "follow_up_done is recorded with the return call's outcome (return-call)"
            )
            #expect(
                await refusal { _ = try await tickets.advanceTicket(id, to: .closed, actor: "d", note: nil) } != nil
            )
            #expect(throws: PostgresError.self) {
                _ = try database.connect().execute(
                    "UPDATE repair_tickets SET status = 'follow_up_done' WHERE id = \(id)"
                )
            }
            #expect(throws: ReturnCall.Refusal.self) {
                _ = try ReturnCall(outcome: .unreachable, attempts: 2, remarks: nil, isSupervisor: false)
            }
            let event = try await tickets.recordReturnCall(
                id,
                try ReturnCall(
                    outcome: .unreachable,
                    attempts: 3,
                    remarks: "no answer 9:00, 12:00, 18:00",
                    isSupervisor: false
                ),
                actor: "desk-4"
            )
            #expect(event.event == "follow_up_done" && event.actor == "desk-4")
            _ = try await tickets.advanceTicket(id, to: .closed, actor: "desk-4", note: nil)
            #expect(try await tickets.returnCall(ofTicket: id)?.attempts == 3)
            // A second call on the same ticket is refused (it is closed; the table holds one per ticket).
            #expect(
                await refusal {
                    _ = try await tickets.recordReturnCall(
                        id,
                        try ReturnCall(outcome: .satisfied, attempts: 1, remarks: nil, isSupervisor: false),
                        actor: "d"
                    )
                } != nil
            )

            // A waiver: only a supervisor, only with a reason.
            let waived = try await resolvedTicket("m2")
            #expect(throws: ReturnCall.Refusal.self) {
                _ = try ReturnCall(outcome: .waived, attempts: 0, remarks: "customer moved away", isSupervisor: false)
            }
            #expect(throws: ReturnCall.Refusal.self) {
                _ = try ReturnCall(outcome: .waived, attempts: 0, remarks: "  ", isSupervisor: true)
            }
            _ = try await tickets.recordReturnCall(
                waived,
                try ReturnCall(outcome: .waived, attempts: 0, remarks: "customer moved away", isSupervisor: true),
                actor: "sup-1"
            )
            _ = try await tickets.advanceTicket(waived, to: .closed, actor: "sup-1", note: nil)
            #expect(try await tickets.returnCall(ofTicket: waived)?.outcome == .waived)
            #expect(try database.count("return_calls") == 2)
        }
    }

    /// A billing dispute: its meter's dispute accuracy test, the disputed days as validated with their flags, and the
    /// billing-feed versions of those days published since the complaint was received.
    @Test func aBillingDisputeShowsItsTestReadsAndOutcomeInOneFile() async throws {
        let clock = TestClock(beijing("2026-03-02T09:00:00"))
        try await withComplaints(clock: clock) { store, _, database, ids in
            let meter = try #require(ids["m1"])
            #expect(
                await refusal {
                    _ = try await store.receive(
                        ComplaintIntake(
                            channel: .app,
                            category: .billingDispute,
                            meter: (.native, "m1"),
                            complainant: "c",
                            summary: "s"
                        ),
                        actor: "app"
                    )
                } == "a billing dispute names the meter and the disputed days (disputed_from, disputed_to)"
            )
            let connection = try database.connect()
            _ = try connection.execute(
                """
                INSERT INTO accuracy_tests (meter_id, tested_on, kind, flow_ml_per_h, error_bp, verdict, band,
                    limit_bp, tester)
                VALUES (\(meter), '2026-03-03', 'dispute', 2500000, 412, 'fail', 'high', 300, 'lab-2'),
                    (\(meter), '2026-03-03', 'field', 2500000, 10, 'pass', 'high', 300, 'lab-2'),
                    (\(meter), '2025-12-01', 'dispute', 2500000, 10, 'pass', 'high', 300, 'lab-2')
                """
            )
            _ = try connection.execute(
                """
                INSERT INTO daily_reads (meter_id, basis, day, day_start, start_index_ml, end_index_ml, volume_ml,
                    quality, reasons, valve, version, published_version, protection)
                VALUES (\(meter), 0, '2026-02-10', '2026-02-09T16:00:00Z', 0, 9000000, 9000000, 2,
                        '{spike,high_usage}', 0, 2, 1, 'plain'),
                    (\(meter), 0, '2026-02-11', '2026-02-10T16:00:00Z', 9000000, 9500000, 500000, 0, '{}', 0,
                        1, 1, 'plain'),
                    (\(meter), 0, '2026-02-20', '2026-02-19T16:00:00Z', 0, 1, 1, 0, '{}', 0, 1, 1, 'plain')
                """
            )
            _ = try connection.execute(
                """
                INSERT INTO billing_feed (meter_id, basis, day, day_start, version, is_correction, start_index_ml,
                    end_index_ml, volume_ml, quality, reasons, published_at, protection)
                VALUES (\(meter), 0, '2026-02-10', '2026-02-09T16:00:00Z', 1, false, 0, 9000000, 9000000, 0,
                        '{}', '2026-02-11T00:00:00Z', 'plain'),
                    (\(meter), 0, '2026-02-10', '2026-02-09T16:00:00Z', 2, true, 0, 600000, 600000, 1,
                        '{}', '2026-03-04T00:00:00Z', 'plain')
                """
            )
            let complaint = try await store.receive(
                ComplaintIntake(
                    channel: .app,
                    category: .billingDispute,
                    meter: (.native, "m1"),
                    complainant: "Mr Zhao",
                    summary: "February bill ten times the usual",
                    request: "check the meter",
                    disputedDays: civil("2026-02-10")...civil("2026-02-11")
                ),
                actor: "app"
            )
            _ = try await store.advance(complaint.id, to: .accepted, text: nil, outcome: nil, actor: "desk-1")
            _ = try await store.advance(
                complaint.id,
                to: .proposed,
                text: "dispute test",
                outcome: nil,
                actor: "desk-1"
            )
            #expect(
                await refusal {
                    _ = try await store.advance(complaint.id, to: .answered, text: "x", outcome: nil, actor: "d")
                } == "the answer to a billing dispute needs its outcome: bill_confirmed, corrected, meter_replaced"
            )
            _ = try await store.advance(
                complaint.id,
                to: .answered,
                text: "meter 4.12 % fast at 2.5 m3/h; 10 Feb corrected",
                outcome: .corrected,
                actor: "desk-1"
            )
            let file = try #require(try await store.disputeFile(complaint.id))
            let feedSeq = try #require(file.billingVersions.first?.seq)
            #expect(file.complaint.outcome == .corrected && file.complaint.status == .answered)
            #expect(file.accuracyTests.map(\.errorBasisPoints) == [412] && file.accuracyTests[0].verdict == "fail")
            #expect(file.days.map(\.day) == ["2026-02-10", "2026-02-11"])
            #expect(file.days[0].quality == "suspect" && file.days[0].reasons == ["spike", "high_usage"])
            #expect(file.days[1].reasons == [])
            #expect(file.billingVersions.map(\.version) == [2] && file.billingVersions[0].isCorrection)
            #expect(file.billingVersions[0].volumeMillilitres == 600_000)
            let events = try #require(try await store.complaint(complaint.id)).events
            #expect(
                events.last?.detail
                    == "corrected: meter 4.12 % fast at 2.5 m3/h; 10 Feb corrected [corrections: billing feed seq \(feedSeq)]"
            )
            // A dispute of days without a correction published since cannot be answered "corrected".
            let other = try await store.receive(
                ComplaintIntake(
                    channel: .app,
                    category: .billingDispute,
                    meter: (.native, "m1"),
                    complainant: "Mr Zhao",
                    summary: "January too",
                    disputedDays: civil("2026-01-01")...civil("2026-01-31")
                ),
                actor: "app"
            )
            _ = try await store.advance(other.id, to: .accepted, text: nil, outcome: nil, actor: "desk-1")
            _ = try await store.advance(other.id, to: .proposed, text: "check", outcome: nil, actor: "desk-1")
            #expect(
                await refusal {
                    _ = try await store.advance(other.id, to: .answered, text: "x", outcome: .corrected, actor: "d")
                } == "corrected needs a correction of the disputed days published since the complaint was received"
            )
            _ = try await store.advance(
                other.id,
                to: .answered,
                text: "bill stands",
                outcome: .billConfirmed,
                actor: "desk-1"
            )
        }
    }
}
