import Foundation
import GatewayCore
import GatewayHTTP
import Hummingbird
import HummingbirdTesting
import PostgresSink
import Testing

/// Planned outages over HTTP against a real database (`GATEWAY_TEST_PG`): only a supervisor announces and cancels;
/// the window is bounded by `dispatch.max_outage_hours` and may not end in the past; both ends are audited with the
/// credential's name; and a cancelled outage stops explaining pressure-loss alarms at once.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["GATEWAY_TEST_PG"] != nil), .serialized)
struct OutageAPITests {
    private let supervisor = TestCredentials.bearer(.supervisor)
    private let now = Timestamp(microsecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000_000))

    private func announcement(from start: Timestamp, to end: Timestamp, extra: String = "") -> ByteBuffer {
        ByteBuffer(
            string: #"{"district":"harbour","starts_at":"\#(start)","ends_at":"\#(end)","reason":"main renewal""#
                + extra + "}"
        )
    }

    private func error(_ response: TestResponse) throws -> (code: String?, message: String?) {
        let error = try jsonObject(response.body)["error"] as? [String: Any]
        return (error?["code"] as? String, error?["message"] as? String)
    }

    @Test func windowsAreBoundedAndNotInThePast() async throws {
        try await APIFixture.with(maximumOutageHours: 12) { fixture in
            try await Application(router: fixture.router).test(.router) { client in
                let start = now.adding(seconds: 3600)
                // 13 h when at most 12 h are allowed: refused, saying so.
                try await client.execute(
                    uri: "/dispatch/v1/outages",
                    method: .post,
                    headers: supervisor,
                    body: announcement(from: start, to: start.adding(seconds: 13 * 3600))
                ) { response in
                    #expect(response.status == .badRequest)
                    let (code, message) = try error(response)
                    #expect(code == "outage_too_long")
                    #expect(
                        message == "an outage may last at most 12 h (dispatch.max_outage_hours); this one lasts 13 h"
                    )
                }
                try await client.execute(
                    uri: "/dispatch/v1/outages",
                    method: .post,
                    headers: supervisor,
                    body: announcement(from: now.adding(seconds: -7200), to: now.adding(seconds: -3600))
                ) { response in
                    #expect(response.status == .badRequest)
                    let code = try error(response).code
                    #expect(code == "outage_in_the_past")
                }
                try await client.execute(
                    uri: "/dispatch/v1/outages",
                    method: .post,
                    headers: supervisor,
                    body: announcement(from: start, to: start)
                ) { response in
                    #expect(response.status == .badRequest)
                    let code = try error(response).code
                    #expect(code == "bad_outage")
                }
                // Exactly 12 h is allowed.
                try await client.execute(
                    uri: "/dispatch/v1/outages",
                    method: .post,
                    headers: supervisor,
                    body: announcement(from: start, to: start.adding(seconds: 12 * 3600))
                ) { response in
                    #expect(response.status == .created)
                }
            }
            #expect(try await fixture.dispatch.currentOutages().count == 1)
        }
    }

    @Test func announcingAndCancellingAreAuditedWithTheCredentialsName() async throws {
        try await APIFixture.with { fixture in
            try await Application(router: fixture.router).test(.router) { client in
                let id = try await client.execute(
                    uri: "/dispatch/v1/outages",
                    method: .post,
                    headers: supervisor,
                    body: announcement(
                        from: now.adding(seconds: -600),
                        to: now.adding(seconds: 3600),
                        extra: #","announced_by":"planning""#
                    )
                ) { response in
                    #expect(response.status == .created)
                    return try #require(try jsonObject(response.body)["outage_id"] as? Int)
                }
                try await client.execute(
                    uri: "/dispatch/v1/outages/\(id)/cancel",
                    method: .post,
                    headers: TestCredentials.bearer(.dispatch),
                    body: ByteBuffer(string: #"{"reason":"postponed"}"#)
                ) { response in
                    #expect(response.status == .forbidden)
                }
                try await client.execute(
                    uri: "/dispatch/v1/outages/\(id)/cancel",
                    method: .post,
                    headers: supervisor,
                    body: ByteBuffer(string: "{}")
                ) { response in
                    #expect(response.status == .badRequest)
                    let code = try error(response).code
                    #expect(code == "bad_cancellation")
                }
                try await client.execute(
                    uri: "/dispatch/v1/outages/\(id + 1000)/cancel",
                    method: .post,
                    headers: supervisor,
                    body: ByteBuffer(string: #"{"reason":"postponed"}"#)
                ) { response in
                    #expect(response.status == .notFound)
                    let code = try error(response).code
                    #expect(code == "no_such_outage")
                }
                try await client.execute(
                    uri: "/dispatch/v1/outages/\(id)/cancel",
                    method: .post,
                    headers: TestCredentials.bearer(.admin),
                    body: ByteBuffer(string: #"{"reason":"crew needed elsewhere","cancelled_by":"someone"}"#)
                ) { response in
                    #expect(response.status == .ok)
                    let outage = try jsonObject(response.body)
                    #expect(outage["announced_by"] as? String == "sup-1")
                    #expect(outage["cancelled_by"] as? String == "ops-admin")
                    #expect(outage["cancel_reason"] as? String == "crew needed elsewhere")
                    #expect(outage["cancelled_at"] is String)
                }
                try await client.execute(
                    uri: "/dispatch/v1/outages/\(id)/cancel",
                    method: .post,
                    headers: supervisor,
                    body: ByteBuffer(string: #"{"reason":"again"}"#)
                ) { response in
                    #expect(response.status == .conflict)
                    let code = try error(response).code
                    #expect(code == "outage_already_cancelled")
                }
                try await client.execute(uri: "/dispatch/v1/outages", method: .get, headers: supervisor) { response in
                    #expect(response.status == .ok)
                    let outages = try #require(try jsonObject(response.body)["outages"] as? [[String: Any]])
                    #expect(outages.map { $0["id"] as? Int } == [id])
                    #expect(outages.first?["cancelled_by"] as? String == "ops-admin")
                }
            }
            let database = try PostgresConnection.connect(conninfo: fixture.conninfo)
            defer { database.close() }
            #expect(
                try database.query("SELECT announced_by, reason, cancelled_by, cancel_reason FROM planned_outages")
                    .map { $0.map { $0 ?? "" } }
                    == [["sup-1", "main renewal", "ops-admin", "crew needed elsewhere"]]
            )
        }
    }

    @Test func aCancelledOutageNoLongerExplainsAPressureLossAlarm() async throws {
        try await APIFixture.with(meters: ["501": "harbour", "502": "harbour"]) { fixture in
            let id = try await Application(router: fixture.router).test(.router) { client in
                try await client.execute(
                    uri: "/dispatch/v1/outages",
                    method: .post,
                    headers: supervisor,
                    body: announcement(from: now.adding(seconds: -600), to: now.adding(seconds: 3 * 3600))
                ) { response in
                    #expect(response.status == .created)
                    return try #require(try jsonObject(response.body)["outage_id"] as? Int)
                }
            }
            // While it stands, the pressure loss it causes is recorded with it and opens no ticket.
            var batch = SinkBatch()
            batch.alarms = [APIFixture.pressureLoss(meter: try #require(fixture.meters["501"]), at: now)]
            _ = try await fixture.writer.write(batch)
            #expect(try await fixture.dispatch.tickets(TicketFilter()).isEmpty)

            try await Application(router: fixture.router).test(.router) { client in
                try await client.execute(
                    uri: "/dispatch/v1/outages/\(id)/cancel",
                    method: .post,
                    headers: supervisor,
                    body: ByteBuffer(string: #"{"reason":"works called off"}"#)
                ) { response in
                    #expect(response.status == .ok)
                }
            }
            // Cancelled: the next pressure loss in the same window opens a ticket.
            batch.alarms = [
                APIFixture.pressureLoss(meter: try #require(fixture.meters["502"]), at: now.adding(seconds: 1))
            ]
            _ = try await fixture.writer.write(batch)
            let tickets = try await fixture.dispatch.tickets(TicketFilter())
            #expect(tickets.map(\.meter) == ["502"])
            #expect(tickets.first?.condition == "pressure_low")
            let database = try PostgresConnection.connect(conninfo: fixture.conninfo)
            defer { database.close() }
            #expect(try database.query("SELECT count(*) FROM alarms WHERE outage_id IS NOT NULL") == [["1"]])
        }
    }
}
