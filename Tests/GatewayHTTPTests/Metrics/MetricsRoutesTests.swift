import Hummingbird
import HummingbirdTesting
import Prometheus
import Synchronization
import Testing

@testable import GatewayHTTP

/// `/metrics` serves the gateway's own registry, brought up to date before each scrape, and times every request.
@Suite struct MetricsRoutesTests {
    @Test func servesTheRegistryUpdatedBeforeEachScrape() async throws {
        let registry = PrometheusCollectorRegistry()
        let stored = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "meter_gateway",
                metricName: "frames_stored",
                unitName: "total",
                helpText: "Frames stored."
            )
        )
        let scrapes = Atomic<Int>(0)
        let router = GatewayHTTPServer.makeRouter(
            readiness: { [] },
            metrics: MetricsExport(registry: registry) {
                scrapes.add(1, ordering: .relaxed)
                stored.increment(by: Int64(21))
            }
        )
        try await Application(router: router).test(.router) { client in
            for expected in [21, 42] {
                try await client.execute(uri: "/metrics", method: .get) { response in
                    #expect(response.status == .ok)
                    let text = String(buffer: response.body)
                    #expect(
                        text.contains(
                            "# HELP meter_gateway_frames_stored_total Frames stored.\n"
                                + "# TYPE meter_gateway_frames_stored_total counter\n"
                                + "meter_gateway_frames_stored_total \(expected)\n"
                        ),
                        "\(text)"
                    )
                }
            }
        }
        #expect(scrapes.load(ordering: .relaxed) == 2)
    }

    @Test func timesRequestsByMethodRouteTemplateAndStatus() async throws {
        let registry = PrometheusCollectorRegistry()
        let router = GatewayHTTPServer.makeRouter(
            readiness: { ["mqtt: not connected"] },
            metrics: MetricsExport(registry: registry)
        )
        router.get("things/{id}") { _, _ in "thing" }
        try await Application(router: router).test(.router) { client in
            for id in ["1", "2", "3"] {
                try await client.execute(uri: "/things/\(id)", method: .get) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
        }
        let text = registry.emitToString()
        #expect(
            text.contains(
                "# HELP meter_gateway_http_request_duration_seconds Time from an HTTP request's arrival until its "
                    + "response was written, by method, route and status.\n"
                    + "# TYPE meter_gateway_http_request_duration_seconds histogram\n"
            ),
            "\(text)"
        )
        // One series per route template, never per concrete path.
        #expect(
            text.contains(
                "meter_gateway_http_request_duration_seconds_count{method=\"GET\",route=\"/things/{id}\",status=\"200\"} 3\n"
            ),
            "\(text)"
        )
        #expect(!text.contains("/things/1"))
        #expect(
            text.contains(
                "meter_gateway_http_request_duration_seconds_count{method=\"GET\",route=\"/readyz\",status=\"503\"} 1\n"
            ),
            "\(text)"
        )
    }
}
