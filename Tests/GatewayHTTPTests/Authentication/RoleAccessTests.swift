import Foundation
import GatewayCore
import GatewayHTTP
import Hummingbird
import HummingbirdTesting
import PostgresSink
import Testing

/// Every role against every API group on a real database (`GATEWAY_TEST_PG`): each role is let through where its
/// role table says and refused (403) everywhere else; no credential or a wrong token is 401 everywhere; and what
/// the allowed calls record carries the credential's name.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["GATEWAY_TEST_PG"] != nil), .serialized)
struct RoleAccessTests {
    /// One API group's call: which roles may make it, and the request for the n-th allowed call.
    private struct Call: Sendable {
        var group: String
        var allowed: Set<Role>
        var method: HTTPRequest.Method
        var uri: @Sendable (Int) -> String
        var body: @Sendable (Int) -> String?
        /// The statuses an allowed call may answer (the route ran; some need data this test does not set up).
        var passed: Set<HTTPResponse.Status> = [.ok]
    }

    @Test func eachRoleReachesExactlyItsGroups() async throws {
        let now = Timestamp(microsecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000_000))
        try await APIFixture.with(meters: ["601": "harbour"]) { fixture in
            let hotline = try await fixture.dispatch.openManualTicket(
                meter: (.native, "601"),
                condition: .gasSmellReported,
                reporter: "caller",
                actor: "test",
                note: nil
            )
            // One outage per role to cancel, so every allowed cancellation finds one standing.
            var announced: [Int64] = []
            for _ in Role.allCases {
                announced.append(
                    try await fixture.dispatch.announceOutage(
                        district: "harbour",
                        from: now,
                        to: now.adding(seconds: 3600),
                        reason: "works",
                        by: "test"
                    )
                )
            }
            let outages = announced
            let steps = ["acknowledged", "dispatched", "on_site", "made_safe"]
            let calls = [
                Call(
                    group: "billing read",
                    allowed: [.billing, .admin],
                    method: .get,
                    uri: { _ in "/billing/v1/daily-reads" },
                    body: { _ in nil }
                ),
                Call(
                    group: "dispatch step",
                    allowed: [.dispatch, .supervisor, .admin],
                    method: .post,
                    uri: { _ in "/dispatch/v1/tickets/\(hotline.ticketID)/steps" },
                    body: { #"{"step":"\#(steps[$0])","actor":"not-me"}"# },
                    passed: [.created]
                ),
                Call(
                    group: "hotline",
                    allowed: [.dispatch, .supervisor, .admin],
                    method: .post,
                    uri: { _ in "/dispatch/v1/tickets" },
                    body: { _ in #"{"protocol":"native","meter":"601","reporter":"neighbour"}"# }
                ),
                Call(
                    group: "outage announce",
                    allowed: [.supervisor, .admin],
                    method: .post,
                    uri: { _ in "/dispatch/v1/outages" },
                    body: { _ in
                        #"{"district":"harbour","starts_at":"\#(now)","ends_at":"\#(now.adding(seconds: 600))","#
                            + #""reason":"valve swap"}"#
                    },
                    passed: [.created]
                ),
                Call(
                    group: "outage cancel",
                    allowed: [.supervisor, .admin],
                    method: .post,
                    uri: { "/dispatch/v1/outages/\(outages[$0])/cancel" },
                    body: { _ in #"{"reason":"called off"}"# }
                ),
                // The read routes of each group, so that a route moved to another group is noticed.
                Call(
                    group: "verification expired",
                    allowed: [.billing, .admin],
                    method: .get,
                    uri: { _ in "/meters/v1/verification-expired?as_of=2030-01-01" },
                    body: { _ in nil }
                ),
                Call(
                    group: "held for review",
                    allowed: [.review, .admin],
                    method: .get,
                    uri: { _ in "/review/v1/held" },
                    body: { _ in nil }
                ),
                Call(
                    group: "ticket list",
                    allowed: [.dispatch, .supervisor, .admin],
                    method: .get,
                    uri: { _ in "/dispatch/v1/tickets" },
                    body: { _ in nil }
                ),
                Call(
                    group: "outage list",
                    allowed: [.supervisor, .admin],
                    method: .get,
                    uri: { _ in "/dispatch/v1/outages" },
                    body: { _ in nil }
                ),
                Call(
                    group: "SLA report",
                    allowed: [.dispatch, .supervisor, .admin],
                    method: .get,
                    uri: { _ in "/dispatch/v1/reports/sla?from=\(now.adding(seconds: -86_400))&to=\(now)" },
                    body: { _ in nil }
                ),
                Call(
                    group: "inspections due",
                    allowed: [.dispatch, .supervisor, .admin],
                    method: .get,
                    uri: { _ in "/dispatch/v1/reports/inspections-due" },
                    body: { _ in nil }
                ),
                Call(
                    group: "complaint list",
                    allowed: [.dispatch, .supervisor, .admin],
                    method: .get,
                    uri: { _ in "/dispatch/v1/complaints" },
                    body: { _ in nil }
                ),
                Call(
                    group: "household chart",
                    allowed: [.dispatch, .supervisor, .admin],
                    method: .get,
                    uri: { _ in "/dispatch/v1/meters/native/601/consumption.svg" },
                    body: { _ in nil }
                ),
                // Nothing is held in this database: an allowed decision reaches the store, which says not_held.
                Call(
                    group: "review decision",
                    allowed: [.review, .admin],
                    method: .post,
                    uri: { _ in "/review/v1/decisions" },
                    body: { _ in
                        #"{"protocol":"native","meter":"601","day":"2026-01-01","decision":"accept","reason":"ok"}"#
                    },
                    passed: [.notFound]
                ),
            ]
            try await Application(router: fixture.router).test(.router) { client in
                for call in calls {
                    var allowedSoFar = 0
                    for role in Role.allCases {
                        let index = call.allowed.contains(role) ? allowedSoFar : 0
                        try await client.execute(
                            uri: call.uri(index),
                            method: call.method,
                            headers: TestCredentials.bearer(role),
                            body: call.body(index).map { ByteBuffer(string: $0) }
                        ) { response in
                            if call.allowed.contains(role) {
                                #expect(
                                    call.passed.contains(response.status),
                                    "\(role) → \(call.group): \(response.status) \(String(buffer: response.body))"
                                )
                            } else {
                                #expect(response.status == .forbidden, "\(role) → \(call.group) must be refused")
                            }
                        }
                        if call.allowed.contains(role) { allowedSoFar += 1 }
                    }
                    // No credential, a wrong token, a token of the right length but wrong: 401 in every group.
                    let wrong = String(TestCredentials.token(.admin).reversed())
                    for headers: HTTPFields in [[:], [.authorization: "Bearer \(wrong)"], [.authorization: "Bearer x"]]
                    {
                        try await client.execute(
                            uri: call.uri(0),
                            method: call.method,
                            headers: headers,
                            body: call.body(0).map { ByteBuffer(string: $0) }
                        ) { response in
                            #expect(response.status == .unauthorized, "\(call.group) without a valid credential")
                        }
                    }
                }
            }
            // What the allowed calls recorded names their credentials, never the body's "actor".
            let database = try PostgresConnection.connect(conninfo: fixture.conninfo)
            defer { database.close() }
            #expect(
                try database.query(
                    "SELECT kind, actor FROM ticket_events WHERE ticket_id = \(hotline.ticketID) ORDER BY id"
                ).map { $0.map { $0 ?? "" } }
                    == [
                        ["opened", "test"], ["acknowledged", "desk-3"], ["dispatched", "sup-1"],
                        ["on_site", "ops-admin"],
                        ["note", "desk-3"], ["note", "sup-1"], ["note", "ops-admin"],
                    ]
            )
            #expect(
                try database.query(
                    "SELECT announced_by FROM planned_outages WHERE announced_by <> 'test' ORDER BY id"
                ) == [["sup-1"], ["ops-admin"]]
            )
            #expect(
                try database.query(
                    "SELECT id, cancelled_by FROM planned_outages WHERE cancelled_at IS NOT NULL ORDER BY id"
                ) == [["\(outages[0])", "sup-1"], ["\(outages[1])", "ops-admin"]]
            )
        }
    }
}
