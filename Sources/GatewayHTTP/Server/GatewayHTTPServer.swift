public import Hummingbird
public import Logging
public import ServiceLifecycle

/// Serves `/healthz` (the process is alive), `/readyz` (able to accept and store frames now; when not, the body
/// names every reason, e.g. `database: read-only (SQLSTATE 25006)`) and `/metrics`
/// (Prometheus text format) on a Hummingbird server, and the routes of ``BillingAPI`` and ``DispatchAPI`` when given.
///
/// The closures are called on Hummingbird's event loops; they must be cheap and thread-safe (atomics).
public struct GatewayHTTPServer: Service {
    private let application: Application<RouterResponder<BasicRequestContext>>

    /// Creates the server; it listens once `run()` is called.
    /// - Parameters:
    ///   - host: Listen address.
    ///   - port: Listen port.
    ///   - logger: Logger for the HTTP server.
    ///   - readiness: Why the gateway cannot accept and store frames now; empty when it can.
    ///   - metrics: Name and value pairs, exported as `meter_gateway_<name>`. A name may carry Prometheus labels
    ///     (`frames_duplicate_total{protocol="native"}`); names ending in `_bytes` or `_seconds` are gauges.
    ///   - billing: The billing and review API, or `nil` for health and metrics only.
    ///   - dispatch: The dispatch API, or `nil`.
    public init(
        host: String,
        port: Int,
        logger: Logger,
        readiness: @escaping @Sendable () -> [String],
        metrics: @escaping @Sendable () -> [(String, Int64)],
        billing: BillingAPI? = nil,
        dispatch: DispatchAPI? = nil
    ) {
        let router = Self.makeRouter(readiness: readiness, metrics: metrics)
        billing?.register(on: router)
        dispatch?.register(on: router)
        self.application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "meter-gateway"),
            logger: logger
        )
    }

    /// The routes, separate from the server so tests can drive them without a socket.
    /// - Parameters:
    ///   - readiness: Why the gateway cannot accept and store frames now; empty when it can.
    ///   - metrics: Name and value pairs (see ``init(host:port:logger:readiness:metrics:billing:dispatch:)``).
    /// - Returns: A router serving `/healthz`, `/readyz` and `/metrics`.
    public static func makeRouter(
        readiness: @escaping @Sendable () -> [String],
        metrics: @escaping @Sendable () -> [(String, Int64)]
    ) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            let reasons = readiness()
            let text = reasons.isEmpty ? "ready\n" : "not ready: " + reasons.joined(separator: "; ") + "\n"
            return Response(
                status: reasons.isEmpty ? .ok : .serviceUnavailable,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text))
            )
        }
        router.get("metrics") { _, _ -> Response in
            var text = ""
            var typed = Set<Substring>()
            for (name, value) in metrics() {
                let family = name.prefix { $0 != "{" }
                if typed.insert(family).inserted {
                    let isGauge = family.hasSuffix("_bytes") || family.hasSuffix("_seconds")
                    text += "# TYPE meter_gateway_\(family) \(isGauge ? "gauge" : "counter")\n"
                }
                text += "meter_gateway_\(name) \(value)\n"
            }
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text))
            )
        }
        return router
    }

    public func run() async throws {
        try await application.runService()
    }
}
