public import Hummingbird
public import Logging
public import ServiceLifecycle

/// Serves `/healthz` (the process is alive), `/readyz` (broker connected and database migrated) and `/metrics`
/// (Prometheus text format) on a Hummingbird server, and the routes of ``BillingAPI`` and ``DispatchAPI`` when given.
///
/// The closures are called on Hummingbird's event loops; they must be cheap and thread-safe (atomics).
public struct HealthServer: Service {
    private let application: Application<RouterResponder<BasicRequestContext>>

    /// Creates the server; it listens once `run()` is called.
    /// - Parameters:
    ///   - host: Listen address.
    ///   - port: Listen port.
    ///   - logger: Logger for the HTTP server.
    ///   - readiness: Whether the gateway can accept and store frames now.
    ///   - metrics: Counter name and value pairs; exported as `meter_gateway_<name>`.
    ///   - billing: The billing and review API, or `nil` for health and metrics only.
    ///   - dispatch: The dispatch API, or `nil`.
    public init(
        host: String,
        port: Int,
        logger: Logger,
        readiness: @escaping @Sendable () -> Bool,
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
    ///   - readiness: Whether the gateway can accept and store frames now.
    ///   - metrics: Counter name and value pairs; exported as `meter_gateway_<name>`.
    /// - Returns: A router serving `/healthz`, `/readyz` and `/metrics`.
    public static func makeRouter(
        readiness: @escaping @Sendable () -> Bool,
        metrics: @escaping @Sendable () -> [(String, Int64)]
    ) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            let ready = readiness()
            return Response(
                status: ready ? .ok : .serviceUnavailable,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: ready ? "ready\n" : "not ready\n"))
            )
        }
        router.get("metrics") { _, _ -> Response in
            var text = ""
            for (name, value) in metrics() {
                text += "# TYPE meter_gateway_\(name) \(name.hasSuffix("_bytes") ? "gauge" : "counter")\n"
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
