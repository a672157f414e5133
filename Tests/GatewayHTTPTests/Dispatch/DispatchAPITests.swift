import Foundation
import GatewayCore
import GatewayHTTP
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresSink
import Testing

/// The dispatch routes against a real database (`GATEWAY_TEST_PG`): a hotline ticket is opened, shown, stepped and
/// noted, each event by the credential's name whatever the body claims; inspections are recorded; the reports
/// answer; and what the store refuses comes back in the one error shape with the status of its kind (404 unknown
/// ticket or meter, 409 step not allowed). Planned outages are `OutageAPITests`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["GATEWAY_TEST_PG"] != nil), .serialized)
struct DispatchAPITests {
    private struct Database {
        let name = "h_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let base = ProcessInfo.processInfo.environment["GATEWAY_TEST_PG"] ?? ""
        var conninfo: String { base + " dbname=\(name)" }

        func create() throws {
            let admin = try PostgresConnection.connect(conninfo: base)
            defer { admin.close() }
            try admin.execute("CREATE DATABASE \(name)")
        }

        func drop() {
            guard let admin = try? PostgresConnection.connect(conninfo: base) else { return }
            _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            admin.close()
        }
    }

    private func object(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: buffer).utf8)) as? [String: Any])
    }

    private func errorCode(_ response: TestResponse) -> String? {
        ((try? object(response.body))?["error"] as? [String: Any])?["code"] as? String
    }

    @Test func hotlineTicketLifecycleAndRefusalsInTheOneErrorShape() async throws {
        let database = Database()
        try database.create()
        defer { database.drop() }
        let logger = Logger(label: "dispatch-api-test")
        let writer = TelemetryStore(conninfo: database.conninfo, logger: logger)
        _ = try await writer.migrate()
        var profile = MeterProfile(protocol: .native, address: "777")
        profile.district = "harbour"
        _ = try await MeterStore(writer.database).importMeters([profile], columns: [.district])

        let router = GatewayHTTPServer.makeRouter(readiness: { [] })
        let apiDatabase = PostgresSession(conninfo: database.conninfo, logger: logger)
        DispatchAPI(
            store: DispatchStore(apiDatabase),
            inspections: InspectionStore(apiDatabase),
            credentials: TestCredentials.store,
            residentialMonths: 12,
            nonResidentialMonths: 6
        ).register(on: router)
        let auth = TestCredentials.bearer(.dispatch)
        try await Application(router: router).test(.router) { client in
            // A hotline call about an unknown meter is refused; about a known one it opens a P0 ticket.
            try await client.execute(
                uri: "/dispatch/v1/tickets",
                method: .post,
                headers: auth,
                body: ByteBuffer(
                    string: #"{"protocol":"native","meter":"999","reporter":"caller"}"#
                )
            ) { response in
                #expect(response.status == .notFound)
                #expect(errorCode(response) == "no_such_meter")
            }
            var ticketID = 0
            try await client.execute(
                uri: "/dispatch/v1/tickets",
                method: .post,
                headers: auth,
                body: ByteBuffer(
                    string: #"{"protocol":"native","meter":"777","reporter":"caller","actor":"hotline-2","#
                        + #""note":"smell"}"#  // "actor" is ignored: the credential took the call
                )
            ) { response in
                #expect(response.status == .created)
                let answer = try object(response.body)
                #expect(answer["opened"] as? Bool == true)
                ticketID = try #require(answer["ticket_id"] as? Int)
                #expect(response.headers[.location] == "/dispatch/v1/tickets/\(ticketID)")
            }
            // A second call about the same meter joins the active ticket: 200, not a second ticket.
            try await client.execute(
                uri: "/dispatch/v1/tickets",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"protocol":"native","meter":"777","reporter":"neighbour"}"#)
            ) { response in
                #expect(response.status == .ok)
                let answer = try object(response.body)
                #expect(answer["opened"] as? Bool == false)
                #expect(answer["ticket_id"] as? Int == ticketID)
                #expect(response.headers[.location] == "/dispatch/v1/tickets/\(ticketID)")
            }
            try await client.execute(uri: "/dispatch/v1/tickets/\(ticketID)", method: .get, headers: auth) {
                response in
                #expect(response.status == .ok)
                let detail = try object(response.body)
                let ticket = try #require(detail["ticket"] as? [String: Any])
                #expect(ticket["condition"] as? String == "gas_smell_reported")
                #expect(ticket["priority"] as? String == "P0")
                #expect(ticket["reporter"] as? String == "caller")
                #expect(ticket["incident_id"] is NSNull)
                let deadlines = try #require(ticket["deadlines"] as? [String: Any])
                #expect(Set(deadlines.keys) == ["acknowledge_by", "arrive_by", "make_safe_by", "repair_by"])
                #expect((ticket["steps"] as? [String: Any])?.isEmpty == true)
                let opened = try #require((detail["events"] as? [[String: Any]])?.first)
                #expect(opened["event"] as? String == "opened" && opened["version"] as? Int == 1)
                #expect(opened["actor"] as? String == "desk-3")
                #expect((opened["ticket"] as? [String: Any])?["id"] as? Int == ticketID)
                let household = try #require(detail["household"] as? [String: Any])
                #expect(household["customer_class"] is NSNull)
            }
            try await client.execute(uri: "/dispatch/v1/tickets/\(ticketID + 1000)", method: .get, headers: auth) {
                response in
                #expect(response.status == .notFound)
                #expect(errorCode(response) == "no_such_ticket")
            }

            // Steps follow the lifecycle; one out of order is a conflict that says why.
            try await client.execute(
                uri: "/dispatch/v1/tickets/\(ticketID)/steps",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"step":"on_site"}"#)
            ) { response in
                #expect(response.status == .conflict)
                let error = try #require(try object(response.body)["error"] as? [String: Any])
                #expect(error["code"] as? String == "step_not_allowed")
                #expect((error["message"] as? String)?.contains("on_site follows") == true)
            }
            try await client.execute(
                uri: "/dispatch/v1/tickets/\(ticketID)/steps",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"step":"acknowledged","actor":"desk-9"}"#)
            ) { response in
                #expect(response.status == .created)
                let answer = try object(response.body)
                #expect(answer["event"] as? String == "acknowledged")
                // The credential's name, not the body's "actor".
                #expect(answer["actor"] as? String == "desk-3")
                #expect(answer["version"] as? Int == 1)
                let ticket = try #require(answer["ticket"] as? [String: Any])
                #expect(ticket["id"] as? Int == ticketID)
                #expect(ticket["status"] as? String == "acknowledged")
                #expect(answer["event_id"] is Int)
            }
            try await client.execute(
                uri: "/dispatch/v1/tickets/\(ticketID)/notes",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"note":"crew 3 on the way"}"#)
            ) { response in
                #expect(response.status == .created)
                let answer = try object(response.body)
                #expect(answer["event"] as? String == "note")
                #expect(answer["actor"] as? String == "desk-3")
                #expect(answer["detail"] as? String == "crew 3 on the way")
                #expect((answer["ticket"] as? [String: Any])?["id"] as? Int == ticketID)
            }
            try await client.execute(
                uri: "/dispatch/v1/tickets/\(ticketID + 1000)/notes",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"note":"wrong ticket"}"#)
            ) { response in
                #expect(response.status == .notFound)
                #expect(errorCode(response) == "no_such_ticket")
            }

            // Inspections: only of known meters; the report lists the meter as due.
            try await client.execute(
                uri: "/dispatch/v1/inspections",
                method: .post,
                headers: auth,
                body: ByteBuffer(
                    string: #"{"protocol":"native","meter":"999","date":"2026-01-10","inspector":"i.k","#
                        + #""result":"pass"}"#
                )
            ) { response in
                #expect(response.status == .notFound)
                #expect(errorCode(response) == "no_such_meter")
            }
            try await client.execute(
                uri: "/dispatch/v1/inspections",
                method: .post,
                headers: auth,
                body: ByteBuffer(
                    string: #"{"protocol":"native","meter":"777","date":"2026-01-10","inspector":"i.k","#
                        + #""result":"pass","recorded_by":"someone-else"}"#  // ignored: the credential records
                )
            ) { response in
                #expect(response.status == .created)
                #expect(String(buffer: response.body) == #"{"recorded":true}"# + "\n")
            }
            let audit = try PostgresConnection.connect(conninfo: database.conninfo)
            defer { audit.close() }
            let recorded = try audit.rows("SELECT inspector, recorded_by FROM inspections")
            #expect(recorded.map(\.columns) == [["i.k", "desk-3"]])
            try await client.execute(
                uri: "/dispatch/v1/reports/inspections-due?as_of=2030-01-01",
                method: .get,
                headers: auth
            ) { response in
                #expect(response.status == .ok)
                let report = try object(response.body)
                #expect(report["as_of"] as? String == "2030-01-01")
                let due = try #require(report["due"] as? [[String: Any]])
                #expect(due.map { $0["meter"] as? String } == ["777"])
                #expect(due.first?["last_inspection"] as? String == "2026-01-10")
                #expect(due.first?["district"] as? String == "harbour")
            }
            try await client.execute(
                uri: "/dispatch/v1/reports/sla?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z",
                method: .get,
                headers: auth
            ) { response in
                #expect(response.status == .ok)
                let rows = try #require(try object(response.body)["rows"] as? [[String: Any]])
                let row = try #require(rows.first { $0["district"] as? String == "harbour" })
                #expect(row["priority"] as? String == "P0")
                #expect(row["tickets"] as? Int == 1)
                #expect(row.keys.contains("arrival_minutes"))
                let acknowledge = try #require(row["acknowledge"] as? [String: Any])
                #expect(Set(acknowledge.keys) == ["met", "decided", "share"])
            }
            try await client.execute(uri: "/dispatch/v1/reports/sla?from=yesterday", method: .get, headers: auth) {
                response in
                #expect(response.status == .badRequest)
                #expect(errorCode(response) == "bad_period")
            }
        }
    }
}
