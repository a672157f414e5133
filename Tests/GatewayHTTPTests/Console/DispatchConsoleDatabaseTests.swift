import Foundation
import GatewayCore
import GatewayDomain
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresSink
import Testing

@testable import GatewayHTTP

/// The console against a real database (`GATEWAY_TEST_PG`): the ticket page escapes what callers typed and embeds the
/// chart and the household file; steps from the console record the signed-in actor and a refused step answers with
/// the lifecycle's explanation; the event stream sends a ticket event once it is committed.
// No time limit, as DispatchAPITests: at the start of the parallel suite each such test (a fresh database, all
// migrations) took 85-95 s on a loaded 2-core machine, 0.7 s alone.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["GATEWAY_TEST_PG"] != nil), .serialized)
struct DispatchConsoleDatabaseTests {
    @Test func theTicketPageEscapesAndStepsRecordTheSignedInActor() async throws {
        try await APIFixture.with(meters: ["777": "harbour & \"north\""]) { fixture in
            let (router, console) = DispatchConsoleTests.makeRouter(conninfo: fixture.conninfo)
            let opened = try await fixture.dispatch.openManualTicket(
                meter: (.native, "777"),
                condition: .gasSmellReported,
                reporter: "<script>alert('x')</script>",
                actor: "hotline",
                note: "\"><img src=x onerror=alert(1)>"
            )
            let id = opened.ticketID
            try await Application(router: router).test(.router) { client in
                let cookie = try await DispatchConsoleTests.signIn(client)
                let csrf = DispatchConsoleTests.csrf(console, cookie: cookie)
                let session: HTTPFields = [.cookie: "mg_console=\(cookie)"]
                try await client.execute(uri: "/console/tickets/\(id)", method: .get, headers: session) { response in
                    #expect(response.status == .ok)
                    let html = String(buffer: response.body)
                    #expect(!html.contains("<script>alert"))
                    #expect(!html.contains("<img src=x"))
                    #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
                    #expect(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"))
                    #expect(html.contains("harbour &amp; &quot;north&quot;"))
                    #expect(
                        html.contains(
                            "<img id=\"consumption-chart\" src=\"/dispatch/v1/meters/native/777/consumption.svg?days=30&amp;ticket=\(id)\""
                        )
                    )
                    #expect(html.contains("id=\"household\""))
                    #expect(html.contains("data-step=\"acknowledged\""))
                }
                let json: HTTPFields = [
                    .cookie: "mg_console=\(cookie)", DispatchConsole.csrfHeader: csrf, .contentType: "application/json",
                    .origin: "http://localhost:8080",
                ]
                // The router test client sends no Host, so an Origin cannot match: refused.
                try await client.execute(
                    uri: "/console/tickets/\(id)/steps",
                    method: .post,
                    headers: json,
                    body: ByteBuffer(string: #"{"step":"acknowledged"}"#)
                ) { response in
                    #expect(response.status == .forbidden)
                }
                var sameSite = json
                sameSite[.origin] = nil
                try await client.execute(
                    uri: "/console/tickets/\(id)/steps",
                    method: .post,
                    headers: sameSite,
                    body: ByteBuffer(string: #"{"step":"acknowledged","actor":"someone-else"}"#)
                ) { response in
                    #expect(response.status == .created)
                    let event = try jsonObject(response.body)
                    #expect(event["actor"] as? String == TestCredentials.name(.dispatch))
                    #expect(event["event"] as? String == "acknowledged")
                }
                try await client.execute(
                    uri: "/console/tickets/\(id)/steps",
                    method: .post,
                    headers: sameSite,
                    body: ByteBuffer(string: #"{"step":"follow_up_done"}"#)
                ) { response in
                    #expect(response.status == .conflict)
                    let error = try #require(try jsonObject(response.body)["error"] as? [String: Any])
                    #expect(error["code"] as? String == "step_not_allowed")
                    #expect((error["message"] as? String)?.isEmpty == false)
                }
                try await client.execute(
                    uri: "/console/tickets/\(id)/notes",
                    method: .post,
                    headers: sameSite,
                    body: ByteBuffer(string: #"{"note":"crew <b>2</b> called"}"#)
                ) { response in
                    #expect(response.status == .created)
                }
                try await client.execute(uri: "/console/tickets/\(id)", method: .get, headers: session) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("crew &lt;b&gt;2&lt;/b&gt; called"))
                    #expect(html.contains("✓ Acknowledge"))
                }
                try await client.execute(uri: "/console/sla", method: .get, headers: session) { response in
                    #expect(response.status == .ok)
                    let html = String(buffer: response.body)
                    #expect(html.contains("id=\"sla\""))
                    #expect(html.contains("Safety inspections due"))
                }
                try await client.execute(uri: "/console/tickets/999999", method: .get, headers: session) { response in
                    #expect(response.status == .notFound)
                }
            }
        }
    }

    @Test func theEventStreamSendsATicketEventAfterItsCommit() async throws {
        try await APIFixture.with(meters: ["880": "dock"]) { fixture in
            let (router, console) = DispatchConsoleTests.makeRouter(conninfo: fixture.conninfo)
            let feed = console.feed
            let store = fixture.dispatch
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await feed.run() }
                // The feed passes a resync marker on once LISTEN is registered.
                try await Self.waitUntil { feed.deliveredCount >= 1 }
                try await Application(router: router).test(.router) { client in
                    let cookie = try await DispatchConsoleTests.signIn(client)
                    try await client.execute(uri: "/console/events", method: .get) { response in
                        #expect(response.status == .unauthorized)
                    }
                    // Commits once the stream below is subscribed, then ends the stream when the feed passed it on.
                    let committer = Task { () -> Int64 in
                        try await Self.waitUntil { feed.subscriberCount == 1 }
                        let opened = try await store.openManualTicket(
                            meter: (.native, "880"),
                            condition: .gasSmellReported,
                            reporter: "caller",
                            actor: "hotline",
                            note: nil
                        )
                        try await Self.waitUntil { feed.deliveredCount >= 2 }
                        feed.stop()
                        return opened.ticketID
                    }
                    let text = try await client.execute(
                        uri: "/console/events",
                        method: .get,
                        headers: [.cookie: "mg_console=\(cookie)"]
                    ) { response in
                        #expect(response.headers[.contentType] == "text/event-stream; charset=utf-8")
                        return String(buffer: response.body)
                    }
                    let id = try await committer.value
                    #expect(text.hasPrefix("retry: 2000\n"))
                    #expect(text.contains("event: ticket\ndata: {"))
                    #expect(text.contains("\"id\":\(id)"))
                }
                group.cancelAll()
            }
        }
    }

    private static func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<200 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("condition not met within 5 s")
    }
}
