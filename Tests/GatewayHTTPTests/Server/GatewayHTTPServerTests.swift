import GatewayHTTP
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@Suite struct GatewayHTTPServerTests {
    @Test func readinessFollowsTheGatewayAndMetricsAreServed() async throws {
        let ready = Atomic<Bool>(false)
        let router = GatewayHTTPServer.makeRouter(
            readiness: { ready.load(ordering: .relaxed) ? [] : ["database: read-only (SQLSTATE 25006)"] }
        )
        let application = Application(router: router)
        try await application.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body) == "not ready: database: read-only (SQLSTATE 25006)\n")
            }
            ready.store(true, ordering: .relaxed)
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                // The probes before it were timed, under their route templates.
                let text = String(buffer: response.body)
                #expect(text.contains("# TYPE meter_gateway_http_request_duration_seconds histogram\n"), "\(text)")
                #expect(
                    text.contains(
                        "meter_gateway_http_request_duration_seconds_count"
                            + "{method=\"GET\",route=\"/readyz\",status=\"503\"} 1\n"
                    ),
                    "\(text)"
                )
            }
        }
    }
}
