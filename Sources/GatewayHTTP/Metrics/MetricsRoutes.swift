import Hummingbird

/// `GET /metrics`: the gateway's counters and gauges in the Prometheus text format (0.0.4), each named
/// `meter_gateway_<name>` with one `# TYPE` line per family.
struct MetricsRoutes: Sendable {
    /// Name and value pairs. A name may carry Prometheus labels (`frames_duplicate_total{protocol="native"}`);
    /// names ending in `_bytes` or `_seconds` are gauges, all others counters. Called on an event loop: cheap.
    let metrics: @Sendable () -> [(String, Int64)]

    /// Adds the route to a router.
    /// - Parameter router: The router.
    func register(on router: Router<GatewayRequestContext>) {
        let metrics = metrics
        router.get("metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: Self.render(metrics())))
            )
        }
    }

    /// The Prometheus text of the samples.
    /// - Parameter samples: Name and value pairs, in the order they are exported.
    /// - Returns: The text, one `# TYPE` line before the first sample of each family.
    static func render(_ samples: [(String, Int64)]) -> String {
        var text = ""
        var typed = Set<Substring>()
        for (name, value) in samples {
            let family = name.prefix { $0 != "{" }
            if typed.insert(family).inserted {
                let isGauge = family.hasSuffix("_bytes") || family.hasSuffix("_seconds")
                text += "# TYPE meter_gateway_\(family) \(isGauge ? "gauge" : "counter")\n"
            }
            text += "meter_gateway_\(name) \(value)\n"
        }
        return text
    }
}
