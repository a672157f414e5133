import Hummingbird
public import Prometheus

/// What `GET /metrics` exports: one gateway's ``Prometheus/PrometheusCollectorRegistry``, and the step that brings
/// its mirrored values (counters kept as atomics on the hot path, gauges read from their sources) up to date just
/// before each scrape.
///
/// The registry is passed explicitly, one per gateway, rather than bootstrapped into swift-metrics' global
/// `MetricsSystem`: the global bootstrap can happen once per process, and the tests run many gateways in one process,
/// each of which must export only its own numbers. swift-metrics' factory API also carries no help text, and every
/// family here has a `# HELP` line.
public struct MetricsExport: Sendable {
    /// The registry every family of this gateway is registered in.
    public let registry: PrometheusCollectorRegistry
    private let update: @Sendable () -> Void

    /// Creates the export.
    /// - Parameters:
    ///   - registry: The gateway's registry.
    ///   - update: Called before each scrape, on an event loop: brings the mirrored values up to date. Must be cheap
    ///     (atomics and small locks; never the database).
    public init(
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        update: @escaping @Sendable () -> Void = {}
    ) {
        self.registry = registry
        self.update = update
    }

    /// The Prometheus text (format 0.0.4) of every family, with `# HELP` and `# TYPE` lines.
    /// - Returns: The UTF-8 bytes.
    public func exposition() -> [UInt8] {
        update()
        return registry.emitToBuffer()
    }
}

/// `GET /metrics`: the gateway's families in the Prometheus text format (0.0.4), each named `meter_gateway_…`.
struct MetricsRoutes: Sendable {
    let metrics: MetricsExport

    /// Adds the route to a router.
    /// - Parameter router: The router.
    func register(on router: Router<GatewayRequestContext>) {
        let metrics = metrics
        router.get("metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition()))
            )
        }
    }
}
