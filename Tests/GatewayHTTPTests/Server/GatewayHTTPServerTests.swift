import GatewayHTTP
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@Suite struct GatewayHTTPServerTests {
    @Test func readinessFollowsTheGatewayAndMetricsUseThePrometheusTextFormat() async throws {
        let ready = Atomic<Bool>(false)
        let router = GatewayHTTPServer.makeRouter(
            readiness: { ready.load(ordering: .relaxed) ? [] : ["database: read-only (SQLSTATE 25006)"] },
            metrics: {
                [
                    ("frames_stored", 42), ("spool_backlog_bytes", 7),
                    ("frames_duplicate_total{protocol=\"native\"}", 3),
                    ("frames_duplicate_total{protocol=\"wmbus\"}", 4),
                ]
            }
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
                let text = String(buffer: response.body)
                #expect(text.contains("# TYPE meter_gateway_frames_stored counter\nmeter_gateway_frames_stored 42\n"))
                #expect(
                    text.contains(
                        "# TYPE meter_gateway_spool_backlog_bytes gauge\nmeter_gateway_spool_backlog_bytes 7\n"
                    )
                )
                // One TYPE line per family, each labelled sample on its own line.
                #expect(
                    text.contains(
                        "# TYPE meter_gateway_frames_duplicate_total counter\n"
                            + "meter_gateway_frames_duplicate_total{protocol=\"native\"} 3\n"
                            + "meter_gateway_frames_duplicate_total{protocol=\"wmbus\"} 4\n"
                    )
                )
            }
        }
    }
}
