import Foundation
import GatewayCore
import GatewayDomain
import GatewayHTTP
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresSink
import Testing

/// The complaint routes against a real database: a complaint is received (201 + Location), listed page by page,
/// stepped forward only, its return call recorded, and a waiver refused without the supervisor role; a ticket closes
/// only after its return call; the service-quality report answers JSON and CSV.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["GATEWAY_TEST_PG"] != nil), .serialized)
struct ComplaintsAPITests {
    private func object(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: buffer).utf8)) as? [String: Any])
    }

    private func errorCode(_ response: TestResponse) -> String? {
        ((try? object(response.body))?["error"] as? [String: Any])?["code"] as? String
    }

    @Test func aComplaintIsReceivedListedSteppedAndFollowedUp() async throws {
        try await APIFixture.with(meters: ["777": "harbour"]) { fixture in
            try await Application(router: fixture.router).test(.router) { client in
                let desk = TestCredentials.bearer(.dispatch)
                var ids: [Int64] = []
                for summary in ["gas bill too high", "rude fitter", "no gas"] {
                    try await client.execute(
                        uri: "/dispatch/v1/complaints",
                        method: .post,
                        headers: desk,
                        body: ByteBuffer(
                            string: #"{"channel":"hotline","category":"service_attitude","protocol":"native","#
                                + #""meter":"777","complainant":"Ms Li","confidential":true,"summary":""#
                                + summary + #""}"#
                        )
                    ) { response in
                        #expect(response.status == .created)
                        let body = try object(response.body)
                        let id = try #require(body["id"] as? Int)
                        ids.append(Int64(id))
                        #expect(response.headers[.location] == "/dispatch/v1/complaints/\(id)")
                        #expect(body["district"] as? String == "harbour" && body["status"] as? String == "received")
                        #expect(body["complainant"] is NSNull && body["received_by"] as? String == "desk-3")
                        #expect(body["answer_by"] is String)
                    }
                }
                try await client.execute(
                    uri: "/dispatch/v1/complaints",
                    method: .post,
                    headers: desk,
                    body: ByteBuffer(
                        string: #"{"channel":"web","category":"billing_dispute","complainant":"x","summary":"y"}"#
                    )
                ) { response in
                    #expect(response.status == .badRequest && errorCode(response) == "bad_complaint")
                }
                try await client.execute(
                    uri: "/dispatch/v1/complaints",
                    method: .post,
                    headers: desk,
                    body: ByteBuffer(
                        string: #"{"channel":"web","category":"other","protocol":"native","meter":"1","#
                            + #""complainant":"x","summary":"y"}"#
                    )
                ) { response in
                    #expect(response.status == .notFound && errorCode(response) == "no_such_meter")
                }
                var next: String?
                try await client.execute(uri: "/dispatch/v1/complaints?limit=2", method: .get, headers: desk) {
                    response in
                    #expect(response.status == .ok)
                    let body = try object(response.body)
                    #expect(
                        (body["complaints"] as? [[String: Any]])?.compactMap { $0["id"] as? Int }
                            == ids.prefix(2).map { Int($0) }
                    )
                    next = body["next_cursor"] as? String
                    #expect(response.headers[HTTPField.Name("Link")!]?.contains("rel=\"next\"") == true)
                }
                try await client.execute(
                    uri: "/dispatch/v1/complaints?limit=2&cursor=\(try #require(next))",
                    method: .get,
                    headers: desk
                ) { response in
                    let body = try object(response.body)
                    #expect((body["complaints"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } == [Int(ids[2])])
                    #expect(body["next_cursor"] is NSNull)
                }
                let id = ids[0]
                func step(_ json: String, _ status: HTTPResponse.Status, code: String? = nil) async throws {
                    try await client.execute(
                        uri: "/dispatch/v1/complaints/\(id)/steps",
                        method: .post,
                        headers: desk,
                        body: ByteBuffer(string: json)
                    ) { response in
                        #expect(response.status == status, "\(json)")
                        if let code { #expect(errorCode(response) == code) }
                    }
                }
                try await step(#"{"step":"proposed","text":"x"}"#, .conflict, code: "step_not_allowed")
                try await step(#"{"step":"follow_up_done"}"#, .badRequest, code: "bad_step")
                try await step(#"{"step":"accepted"}"#, .created)
                try await step(#"{"step":"proposed","text":"an apology visit"}"#, .created)
                try await step(#"{"step":"answered","text":"apologised on the phone"}"#, .created)
                try await step(#"{"step":"closed"}"#, .conflict, code: "step_not_allowed")
                // A waiver needs a supervisor.
                try await client.execute(
                    uri: "/dispatch/v1/complaints/\(id)/return-call",
                    method: .post,
                    headers: desk,
                    body: ByteBuffer(string: #"{"outcome":"waived","remarks":"customer asked not to be called"}"#)
                ) { response in
                    #expect(response.status == .forbidden)
                }
                try await client.execute(
                    uri: "/dispatch/v1/complaints/\(id)/return-call",
                    method: .post,
                    headers: desk,
                    body: ByteBuffer(string: #"{"outcome":"unreachable","attempts":1}"#)
                ) { response in
                    #expect(response.status == .badRequest && errorCode(response) == "bad_return_call")
                }
                try await client.execute(
                    uri: "/dispatch/v1/complaints/\(id)/return-call",
                    method: .post,
                    headers: TestCredentials.bearer(.supervisor),
                    body: ByteBuffer(string: #"{"outcome":"waived","remarks":"customer asked not to be called"}"#)
                ) { response in
                    #expect(response.status == .created)
                    let body = try object(response.body)
                    #expect(body["kind"] as? String == "follow_up_done" && body["actor"] as? String == "sup-1")
                }
                try await step(#"{"step":"closed"}"#, .created)
                try await client.execute(uri: "/dispatch/v1/complaints/\(id)", method: .get, headers: desk) {
                    response in
                    let body = try object(response.body)
                    let events = try #require(body["events"] as? [[String: Any]])
                    #expect(
                        events.compactMap { $0["kind"] as? String } == [
                            "received", "accepted", "proposed", "answered", "follow_up_done", "closed",
                        ]
                    )
                    let call = try #require(body["return_call"] as? [String: Any])
                    #expect(call["outcome"] as? String == "waived" && call["attempts"] as? Int == 0)
                }
                try await client.execute(uri: "/dispatch/v1/complaints/999999", method: .get, headers: desk) {
                    response in
                    #expect(response.status == .notFound && errorCode(response) == "no_such_complaint")
                }
                try await client.execute(
                    uri: "/dispatch/v1/complaints?status=sideways",
                    method: .get,
                    headers: desk
                ) { response in
                    #expect(response.status == .badRequest && errorCode(response) == "bad_status")
                }
                try await client.execute(uri: "/dispatch/v1/complaints", method: .get) { response in
                    #expect(response.status == .unauthorized)
                }
            }
        }
    }

    @Test func aTicketClosesOnlyAfterItsReturnCallAndTheReportAnswersJSONAndCSV() async throws {
        try await APIFixture.with(meters: ["777": "harbour"]) { fixture in
            let ticket = try await fixture.dispatch.openManualTicket(
                meter: (.native, "777"),
                condition: .gasSmellReported,
                reporter: "caller",
                actor: "hotline",
                note: nil
            ).ticketID
            for step in [TicketStep.acknowledged, .dispatched, .onSite, .resolved] {
                _ = try await fixture.dispatch.advanceTicket(ticket, to: step, actor: "crew", note: nil)
            }
            try await Application(router: fixture.router).test(.router) { client in
                let desk = TestCredentials.bearer(.dispatch)
                for body in [#"{"step":"follow_up_done"}"#, #"{"step":"closed"}"#] {
                    try await client.execute(
                        uri: "/dispatch/v1/tickets/\(ticket)/steps",
                        method: .post,
                        headers: desk,
                        body: ByteBuffer(string: body)
                    ) { response in
                        #expect(response.status == .conflict, "\(body)")
                    }
                }
                try await client.execute(
                    uri: "/dispatch/v1/tickets/\(ticket)/return-call",
                    method: .post,
                    headers: desk,
                    body: ByteBuffer(string: #"{"outcome":"satisfied","attempts":1,"remarks":"fixed fast"}"#)
                ) { response in
                    #expect(response.status == .created)
                    #expect(response.headers[.location] == "/dispatch/v1/tickets/\(ticket)")
                    let body = try object(response.body)
                    #expect(body["event"] as? String == "follow_up_done")
                }
                try await client.execute(
                    uri: "/dispatch/v1/tickets/\(ticket)/steps",
                    method: .post,
                    headers: desk,
                    body: ByteBuffer(string: #"{"step":"closed"}"#)
                ) { response in
                    #expect(response.status == .created)
                }
                let month = String("\(CivilDate(WallClock.now()))".prefix(7))
                try await client.execute(
                    uri: "/dispatch/v1/reports/service-quality?month=\(month)",
                    method: .get,
                    headers: desk
                ) { response in
                    #expect(response.status == .ok)
                    let body = try object(response.body)
                    #expect(body["month"] as? String == month && body["zone"] as? String == "+00:00")
                    let districts = try #require(body["districts"] as? [[String: Any]])
                    let harbour = try #require(districts.first { $0["district"] as? String == "harbour" })
                    #expect(harbour["households"] as? Int == 1 && harbour["emergencies"] as? Int == 1)
                    #expect(harbour["return_calls_satisfied"] as? Int == 1 && harbour["satisfaction_rate"] as? Int == 1)
                    #expect(harbour["complaints_per_10k_households"] as? Int == 0)
                }
                try await client.execute(
                    uri: "/dispatch/v1/reports/service-quality.csv?month=\(month)&district=harbour",
                    method: .get,
                    headers: desk
                ) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                    let lines = String(buffer: response.body).split(separator: "\r\n").map(String.init)
                    #expect(lines.first == ServiceQualityColumns.names.joined(separator: ","))
                    #expect(lines.count == 2 && lines[1].hasPrefix("harbour,1,1,"))
                }
                try await client.execute(
                    uri: "/dispatch/v1/reports/service-quality?month=2026-13",
                    method: .get,
                    headers: desk
                ) { response in
                    #expect(response.status == .badRequest && errorCode(response) == "bad_month")
                }
            }
        }
    }
}
