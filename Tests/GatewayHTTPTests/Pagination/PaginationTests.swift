import Foundation
import GatewayCore
import GatewayHTTP
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresSink
import Testing

/// Every list of the APIs, walked page by page against a real database (`GATEWAY_TEST_PG`) by following the `Link`
/// header: every item arrives once, none is missed, `next_cursor` is `null` exactly on the last page; and the one
/// error shape for a bad cursor or limit and for database failures.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["GATEWAY_TEST_PG"] != nil), .serialized)
struct PaginationTests {
    private static let meters = Dictionary(uniqueKeysWithValues: (1...7).map { ("p\($0)", "d\($0 % 2)") })

    /// Follows `Link: <…>; rel="next"` from `uri` to the end; returns the items of every page (the `key` array) and
    /// the page sizes.
    private func walk(
        _ client: some TestClientProtocol,
        _ uri: String,
        key: String,
        role: Role
    ) async throws -> (items: [[String: Any]], pages: [Int]) {
        var next: String? = uri
        var items: [[String: Any]] = []
        var pages: [Int] = []
        while let uri = next {
            next = try await client.execute(uri: uri, method: .get, headers: TestCredentials.bearer(role)) {
                response in
                #expect(response.status == .ok, "\(uri)")
                let body = try jsonObject(response.body)
                let page = try #require(body[key] as? [[String: Any]], "\(uri)")
                items += page
                pages.append(page.count)
                let cursor = body["next_cursor"] as? String
                #expect(body.keys.contains("next_cursor"), "next_cursor is always present")
                let link = response.headers[HTTPField.Name("Link")!]
                #expect((link == nil) == (cursor == nil), "a Link header exactly when there is a next page")
                guard let link, let cursor else { return nil }
                #expect(link.hasSuffix(#">; rel="next""#) && link.contains("cursor=\(cursor)"))
                return String(link.dropFirst().prefix { $0 != ">" })
            }
            #expect(pages.count < 50, "the walk ends")
            if pages.count >= 50 { break }
        }
        return (items, pages)
    }

    @Test func ticketsOutagesAndReportsWalkPageByPageWithNothingMissedOrRepeated() async throws {
        try await APIFixture.with(meters: Self.meters) { fixture in
            let admin = try PostgresConnection.connect(conninfo: fixture.conninfo)
            defer { admin.close() }
            // Every meter past its verification, two on the same day so the key's tie-breakers count.
            try admin.execute(
                """
                UPDATE meters SET verification_expires_on = CASE WHEN address IN ('p1', 'p2') THEN date '2024-01-01'
                    ELSE date '2023-01-01' + (right(address, 1))::integer END
                """
            )
            let now = Timestamp(microsecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000_000))
            let dispatch = fixture.dispatch
            try await Application(router: fixture.router).test(.router) { client in
                for meter in Self.meters.keys.sorted() {
                    try await client.execute(
                        uri: "/dispatch/v1/tickets",
                        method: .post,
                        headers: TestCredentials.bearer(.dispatch),
                        body: ByteBuffer(string: #"{"protocol":"native","meter":"\#(meter)","reporter":"caller"}"#)
                    ) { response in
                        #expect(response.status == .created)
                        let id = try #require(jsonObject(response.body)["ticket_id"] as? Int)
                        #expect(response.headers[.location] == "/dispatch/v1/tickets/\(id)")
                    }
                }
                for hour in 1...5 {
                    let start = now.adding(seconds: Int64(hour) * 3600)
                    try await client.execute(
                        uri: "/dispatch/v1/outages",
                        method: .post,
                        headers: TestCredentials.bearer(.supervisor),
                        body: ByteBuffer(
                            string:
                                #"{"district":"d\#(hour % 2)","starts_at":"\#(start)","ends_at":"\#(start.adding(seconds: 3600))","reason":"works"}"#
                        )
                    ) { response in
                        #expect(response.status == .created)
                    }
                }

                let tickets = try await walk(client, "/dispatch/v1/tickets?limit=3", key: "tickets", role: .dispatch)
                #expect(tickets.pages == [3, 3, 1])
                let ids = tickets.items.compactMap { $0["id"] as? Int }
                #expect(Set(ids).count == 7 && ids.count == 7)
                let unpaged = try await dispatch.tickets(TicketFilter()).map { Int($0.id) }
                #expect(ids == unpaged, "the pages, joined, are the list in its order")

                let filtered = try await walk(
                    client,
                    "/dispatch/v1/tickets?district=d1&priority=P0&limit=2",
                    key: "tickets",
                    role: .dispatch
                )
                #expect(filtered.pages == [2, 2])
                #expect(filtered.items.allSatisfy { ($0["meter"] as? [String: Any])?["district"] as? String == "d1" })

                let outages = try await walk(client, "/dispatch/v1/outages?limit=2", key: "outages", role: .supervisor)
                #expect(outages.pages == [2, 2, 1])
                #expect(Set(outages.items.compactMap { $0["id"] as? Int }).count == 5)

                let expired = try await walk(
                    client,
                    "/meters/v1/verification-expired?as_of=2030-01-01&limit=3",
                    key: "meters",
                    role: .billing
                )
                #expect(expired.pages == [3, 3, 1])
                // p3 … p7 expired on 2023-01-04 … 2023-01-08, p1 and p2 both on 2024-01-01.
                #expect(
                    expired.items.compactMap { $0["meter"] as? String } == ["p3", "p4", "p5", "p6", "p7", "p1", "p2"]
                )

                let due = try await walk(
                    client,
                    "/dispatch/v1/reports/inspections-due?as_of=2100-01-01&limit=4",
                    key: "due",
                    role: .dispatch
                )
                #expect(due.pages == [4, 3])
                #expect(due.items.compactMap { $0["meter"] as? String }.sorted() == Self.meters.keys.sorted())
                #expect(Set(due.items.compactMap { $0["meter"] as? String }).count == 7)
            }
        }
    }

    /// A ticket moves in the list when its next deadline or priority changes. The last ticket of a page is
    /// acknowledged (its next deadline becomes the later `arrive_by`) and another resolved (no deadline pending: it
    /// sorts last) before the next page is read: every ticket that was after the page is still listed after it.
    /// With the ticket's id alone in the cursor, the next page started after the ticket's new place and skipped them.
    @Test func aTicketThatMovesBetweenPagesSkipsNoOther() async throws {
        try await APIFixture.with(meters: Self.meters) { fixture in
            try await Application(router: fixture.router).test(.router) { client in
                for meter in Self.meters.keys.sorted() {
                    try await client.execute(
                        uri: "/dispatch/v1/tickets",
                        method: .post,
                        headers: TestCredentials.bearer(.dispatch),
                        body: ByteBuffer(string: #"{"protocol":"native","meter":"\#(meter)","reporter":"caller"}"#)
                    ) { response in
                        #expect(response.status == .created)
                    }
                }
                func page(_ uri: String) async throws -> (ids: [Int], next: String?) {
                    try await client.execute(uri: uri, method: .get, headers: TestCredentials.bearer(.dispatch)) {
                        response in
                        #expect(response.status == .ok)
                        let body = try jsonObject(response.body)
                        let ids = try #require(body["tickets"] as? [[String: Any]]).compactMap { $0["id"] as? Int }
                        return (ids, body["next_cursor"] as? String)
                    }
                }
                func step(_ ticket: Int, _ body: String) async throws {
                    try await client.execute(
                        uri: "/dispatch/v1/tickets/\(ticket)/steps",
                        method: .post,
                        headers: TestCredentials.bearer(.dispatch),
                        body: ByteBuffer(string: body)
                    ) { response in
                        #expect(response.status == .created)
                    }
                }
                let all = try await page("/dispatch/v1/tickets").ids
                #expect(all.count == 7)
                let first = try await page("/dispatch/v1/tickets?limit=3")
                #expect(first.ids == Array(all.prefix(3)))
                let cursor = try #require(first.next)
                try await step(all[2], #"{"step":"acknowledged"}"#)
                let second = try await page("/dispatch/v1/tickets?limit=3&cursor=\(cursor)")
                #expect(
                    Array(second.ids.prefix(3)) == Array(all[3..<6]),
                    "the tickets after the page, not those after the acknowledged ticket's new place"
                )
                let cursor2 = try #require(second.next)
                for next in ["acknowledged", "dispatched", "on_site", "resolved"] {
                    try await step(all[5], #"{"step":"\#(next)"}"#)
                }
                var rest: [Int] = []
                var next: String? = cursor2
                while let cursor = next {
                    let later = try await page("/dispatch/v1/tickets?limit=3&cursor=\(cursor)")
                    rest += later.ids
                    next = later.next
                }
                #expect(rest.contains(all[6]), "the ticket after a resolved one (which left the list) is still listed")
                #expect(!rest.contains(all[5]))
                #expect(rest.contains(all[2]), "the acknowledged ticket is listed again at its new place")
            }
        }
    }

    @Test func heldItemsWalkAcrossPages() async throws {
        try await APIFixture.with(meters: Self.meters) { fixture in
            let admin = try PostgresConnection.connect(conninfo: fixture.conninfo)
            defer { admin.close() }
            // 7 meters × 2 days, two bases on one meter's day: 15 held days.
            try admin.execute(
                """
                INSERT INTO daily_reads (meter_id, basis, day, day_start, start_index_ml, end_index_ml, volume_ml,
                    quality, reasons, valve, version, protection)
                SELECT m.id, 0, (d AT TIME ZONE 'UTC')::date, d, 0, 9, 9, 2, '{zero_consumption}', 0, 1, 'plain'
                FROM meters m, generate_series(timestamptz '2026-03-01 00:00Z', '2026-03-02 00:00Z', '1 day') AS d
                """
            )
            try admin.execute(
                """
                INSERT INTO daily_reads (meter_id, basis, day, day_start, start_index_ml, end_index_ml, volume_ml,
                    quality, reasons, valve, version, protection)
                SELECT m.id, 1, date '2026-03-01', timestamptz '2026-03-01 00:00Z', 0, 9, 9, 2, '{zero_consumption}', 0,
                    1, 'plain'
                FROM meters m WHERE m.address = 'p3'
                """
            )
            try await Application(router: fixture.router).test(.router) { client in
                let held = try await walk(client, "/review/v1/held?limit=4", key: "held", role: .review)
                #expect(held.pages == [4, 4, 4, 3])
                let keys = held.items.map { "\($0["meter"] ?? "")/\($0["day"] ?? "")/\($0["basis"] ?? "")" }
                #expect(Set(keys).count == 15 && keys.count == 15)
                #expect(keys.map { $0.split(separator: "/")[1] } == keys.map { $0.split(separator: "/")[1] }.sorted())
            }
        }
    }

    @Test func aMalformedCursorOrLimitIsRefusedInTheOneShape() async throws {
        try await APIFixture.with(meters: [:]) { fixture in
            try await Application(router: fixture.router).test(.router) { client in
                for uri in [
                    "/dispatch/v1/tickets?limit=0", "/dispatch/v1/tickets?limit=1001", "/dispatch/v1/tickets?limit=x",
                    "/dispatch/v1/tickets?cursor=%21%21", "/dispatch/v1/tickets?cursor=WyJvdXRhZ2VzIiwiMSJd",
                    "/dispatch/v1/tickets?include_closed=yes",
                ] {
                    try await client.execute(uri: uri, method: .get, headers: TestCredentials.bearer(.dispatch)) {
                        response in
                        #expect(response.status == .badRequest, "\(uri)")
                        let error = try jsonObject(response.body)["error"] as? [String: Any]
                        let code = error?["code"] as? String
                        #expect(code == "bad_cursor_or_limit" || code == "bad_include_closed", "\(uri)")
                    }
                }
            }
        }
    }

    @Test func anUnreachableDatabaseIsA503InTheOneShape() async throws {
        // Nothing listens on port 1 of the loopback: every connection is refused, as when the database is down.
        let database = PostgresSession(
            conninfo: "host=127.0.0.1 port=1 connect_timeout=2",
            logger: Logger(label: "pagination-test")
        )
        let router = GatewayHTTPServer.makeRouter(readiness: { [] })
        DispatchAPI(
            store: DispatchStore(database),
            inspections: InspectionStore(database),
            credentials: TestCredentials.store,
            residentialMonths: 12,
            nonResidentialMonths: 6
        ).register(on: router)
        try await Application(router: router).test(.router) { client in
            try await client.execute(
                uri: "/dispatch/v1/tickets",
                method: .get,
                headers: TestCredentials.bearer(.dispatch)
            ) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.headers[.retryAfter] == "5")
                let error = try jsonObject(response.body)["error"] as? [String: Any]
                #expect(error?["code"] as? String == "database_unavailable")
                #expect(error?["retryable"] as? Bool == true)
            }
        }
        await database.close()
    }

    @Test func aQueryTheDatabaseRefusesIsA500InTheOneShapeWithoutItsMessage() async throws {
        try await APIFixture.with(meters: Self.meters) { fixture in
            let admin = try PostgresConnection.connect(conninfo: fixture.conninfo)
            defer { admin.close() }
            // A broken deployment: the table is gone (SQLSTATE 42P01, not retryable).
            try admin.execute("DROP TABLE planned_outages CASCADE")
            try await Application(router: fixture.router).test(.router) { client in
                try await client.execute(
                    uri: "/dispatch/v1/outages",
                    method: .get,
                    headers: TestCredentials.bearer(.supervisor)
                ) { response in
                    #expect(response.status == .internalServerError)
                    #expect(response.headers[.contentType] == "application/json")
                    let error = try jsonObject(response.body)["error"] as? [String: Any]
                    #expect(error?["code"] as? String == "database_error")
                    #expect(!String(buffer: response.body).contains("planned_outages"))
                }
            }
        }
    }

    @Test func aValueTheDatabaseCannotHoldIsA400() async throws {
        try await APIFixture.with(meters: Self.meters) { fixture in
            try await Application(router: fixture.router).test(.router) { client in
                // A NUL character cannot be in a PostgreSQL text: the request's fault, not the server's.
                try await client.execute(
                    uri: "/dispatch/v1/tickets?district=a%00b",
                    method: .get,
                    headers: TestCredentials.bearer(.dispatch)
                ) { response in
                    #expect(response.status == .badRequest)
                    let error = try jsonObject(response.body)["error"] as? [String: Any]
                    #expect(error?["code"] as? String == "bad_value")
                }
                // In a JSON body too, before the store could mistake it for an unknown meter.
                try await client.execute(
                    uri: "/dispatch/v1/tickets",
                    method: .post,
                    headers: TestCredentials.bearer(.dispatch),
                    body: ByteBuffer(string: #"{"protocol":"native","meter":"p1","reporter":"a\u0000b"}"#)
                ) { response in
                    #expect(response.status == .badRequest)
                    let error = try jsonObject(response.body)["error"] as? [String: Any]
                    #expect(error?["code"] as? String == "bad_value")
                }
            }
        }
    }
}
