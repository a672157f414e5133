import Foundation
import GatewayCore
import GatewayDomain
import GatewayHTTP
import Hummingbird
import HummingbirdTesting
import PostgresSink
import Testing

/// The chart routes against a real database (`GATEWAY_TEST_PG`): a meter with 30 days of a continuous-flow leak and
/// a ticket answers an SVG marking the band; the errors answer the one JSON shape.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["GATEWAY_TEST_PG"] != nil), .serialized)
struct ChartAPITests {
    private let dispatch = TestCredentials.bearer(.dispatch)

    /// Hourly intervals for the 30 UTC days before today: 15 L/h at night (01:00–05:00), 40 L/h otherwise.
    private func seedLeak(_ fixture: APIFixture, meter: Int64) throws {
        let connection = try PostgresConnection.connect(conninfo: fixture.conninfo)
        defer { connection.close() }
        _ = try connection.execute(
            """
            INSERT INTO interval_days (meter_id, day, first_index_ml, offsets_s, minutes, volumes_ml, flags, receipts)
            SELECT $1::bigint, d::date, 0, ARRAY(SELECT h * 3600 FROM generate_series(0, 23) h),
                array_fill(60::smallint, ARRAY[24]),
                ARRAY(SELECT (CASE WHEN h BETWEEN 1 AND 4 THEN 15000 ELSE 40000 END)::bigint FROM generate_series(0, 23) h),
                array_fill(0::smallint, ARRAY[24]), ARRAY[now()]
            FROM generate_series((now() AT TIME ZONE 'UTC')::date - 30, (now() AT TIME ZONE 'UTC')::date - 1,
                interval '1 day') AS d
            """,
            parameters: [String(meter)]
        )
    }

    private func errorCode(_ response: TestResponse) throws -> String? {
        (try jsonObject(response.body)["error"] as? [String: Any])?["code"] as? String
    }

    @Test func aLeakingMetersChartMarksTheBandOfItsTicket() async throws {
        try await APIFixture.with(meters: ["M1": "north", "M2": "north"]) { fixture in
            let meter = try #require(fixture.meters["M1"])
            try seedLeak(fixture, meter: meter)
            let ticket = try await fixture.dispatch.openManualTicket(
                meter: (.native, "M1"),
                condition: .continuousFlowLeak,
                reporter: "validation",
                actor: "desk-3",
                note: nil
            ).ticketID
            let other = try await fixture.dispatch.openManualTicket(
                meter: (.native, "M2"),
                condition: .gasSmellReported,
                reporter: "caller",
                actor: "desk-3",
                note: nil
            ).ticketID
            try await Application(router: fixture.router).test(.router) { client in
                try await client.execute(
                    uri: "/dispatch/v1/meters/native/M1/consumption.svg?ticket=\(ticket)",
                    method: .get,
                    headers: dispatch
                ) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "image/svg+xml")
                    let svg = String(buffer: response.body)
                    #expect(svg.hasPrefix("<?xml"))
                    #expect(svg.contains("class=\"mark-continuous-band\""))
                    #expect(svg.contains("class=\"mark-continuous-floor\""))
                    // The 30 days charted end today, which has no data yet: 29 of the 30 seeded days are in them.
                    #expect(svg.contains("never below 0.015 m³/h for 29 days"))
                    #expect(svg.contains("ticket #\(ticket) opened"))
                    #expect(svg.contains("Consumption of meter native M1"))
                }
                try await client.execute(
                    uri: "/dispatch/v1/meters/native/M1/consumption.svg?days=7",
                    method: .get,
                    headers: dispatch
                ) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("(7 days, UTC)"))
                }
                try await client.execute(
                    uri: "/dispatch/v1/meters/native/M1/consumption.svg?ticket=\(other)",
                    method: .get,
                    headers: dispatch
                ) { response in
                    #expect(response.status == .notFound)
                    let code = try errorCode(response)
                    #expect(code == "no_such_ticket")
                }
            }
        }
    }

    @Test func errorsAnswerTheOneShape() async throws {
        try await APIFixture.with(meters: ["M1": "north"]) { fixture in
            try await Application(router: fixture.router).test(.router) { client in
                for (uri, status, code) in [
                    ("/dispatch/v1/meters/native/NOPE/consumption.svg", HTTPResponse.Status.notFound, "no_such_meter"),
                    ("/dispatch/v1/meters/native/M1/consumption.svg?days=0", .badRequest, "bad_days"),
                    ("/dispatch/v1/meters/native/M1/consumption.svg?days=367", .badRequest, "bad_days"),
                    ("/dispatch/v1/meters/native/M1/consumption.svg?days=ten", .badRequest, "bad_days"),
                    ("/dispatch/v1/meters/gsm/M1/consumption.svg", .badRequest, "bad_protocol"),
                    ("/dispatch/v1/meters/native/M1/consumption.svg?ticket=x", .badRequest, "bad_ticket"),
                    ("/dispatch/v1/districts/nowhere/balance.svg", .notFound, "no_such_district"),
                    ("/dispatch/v1/districts/north/balance.svg?days=400", .badRequest, "bad_days"),
                ] {
                    try await client.execute(uri: uri, method: .get, headers: dispatch) { response in
                        #expect(response.status == status, "\(uri)")
                        #expect(response.headers[.contentType] == "application/json", "\(uri)")
                        let found = try errorCode(response)
                        #expect(found == code, "\(uri)")
                    }
                }
                try await client.execute(uri: "/dispatch/v1/meters/native/M1/consumption.svg", method: .get) {
                    #expect($0.status == .unauthorized)
                    let code = try errorCode($0)
                    #expect(code == "unauthenticated")
                }
                try await client.execute(
                    uri: "/dispatch/v1/districts/north/balance.svg",
                    method: .get,
                    headers: TestCredentials.bearer(.billing)
                ) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(
                    uri: "/dispatch/v1/districts/north/balance.svg",
                    method: .get,
                    headers: dispatch
                ) {
                    #expect($0.status == .ok)
                    #expect($0.headers[.contentType] == "image/svg+xml")
                    #expect(String(buffer: $0.body).contains("no balance data"))
                }
            }
        }
    }
}
