public import Hummingbird
import HummingbirdCore
public import Logging
public import ServiceLifecycle

/// The gateway's HTTP server: health and readiness probes, Prometheus metrics, and the billing, review and
/// dispatch APIs when given, on one Hummingbird server.
///
/// * `GET /healthz`, `GET /readyz`: plain-text probes (see ``makeRouter(readiness:metrics:)``), open.
/// * `GET /openapi.json`: the OpenAPI 3.1 document of every route here (``OpenAPIDocument``), open.
/// * `GET /metrics`: the Prometheus text format (``MetricsExport``), families named `meter_gateway_…` with `# HELP`
///   and `# TYPE`, open: counters, gauges and histograms of the gateway itself (frames, batches, queues, connections,
///   tickets by priority, HTTP request durations), never a meter address, a household's data or a secret.
/// * ``BillingAPI``: `/billing/v1/…` and `/meters/v1/…` (role `billing`), `/review/v1/…` (role `review`).
/// * ``DispatchAPI``: `/dispatch/v1/…` (role `dispatch`; planned outages `supervisor`).
/// * ``ComplaintsAPI``: `/dispatch/v1/complaints…` and ticket return calls (role `dispatch`; waivers `supervisor`).
/// * ``DispatchConsole``: the dispatchers' web pages under `/console` (sign-in with a credential of role `dispatch`;
///   a session cookie then also reads the dispatch API with `GET`).
///
/// Every API route but the four open ones is behind ``AuthenticationMiddleware``: a named ``Credential`` with the
/// route's ``Role``. The console's pages check its session cookie themselves (the sign-in page and the assets are
/// open; everything else redirects to sign-in or answers `401`).
///
/// With ``HTTPServerTLS`` the server speaks HTTPS only (HTTP/1.1 in TLS 1.2 or later), optionally requiring client
/// certificates.
///
/// Every failure is answered with one JSON body, `{"error":{"code":…,"message":…}}` (see ``APIError``), an unknown
/// route included; every list is paginated the same way (``Page``).
/// The closures are called on Hummingbird's event loops; they must be cheap and thread-safe (atomics).
public struct GatewayHTTPServer: Service {
    private let application: Application<RouterResponder<GatewayRequestContext>>
    private let feed: TicketEventFeed?

    /// Creates the server; it listens once `run()` is called.
    /// - Parameters:
    ///   - host: Listen address.
    ///   - port: Listen port.
    ///   - tls: The server's certificate, key and optional client CAs, or `nil` for plain HTTP.
    ///   - logger: Logger for the HTTP server.
    ///   - readiness: Why the gateway cannot accept and store frames now; empty when it can.
    ///   - metrics: The gateway's registry and the step that updates it before a scrape; the server adds
    ///     `meter_gateway_http_request_duration_seconds` to it.
    ///   - billing: The billing and review API, or `nil` for health and metrics only.
    ///   - dispatch: The dispatch API, or `nil`.
    ///   - complaints: Complaints and return calls (``ComplaintsAPI``, beside the dispatch API), or `nil`.
    ///   - console: The dispatch console, or `nil`; its ``TicketEventFeed`` runs with the server.
    ///   - accessLog: Log one `http access` line per request (``AccessLogMiddleware``).
    ///   - onServerRunning: Called once the server listens (the systemd readiness notification waits for it).
    /// - Throws: ``HTTPServerTLSError`` when a TLS file cannot be loaded.
    public init(
        host: String,
        port: Int,
        tls: HTTPServerTLS? = nil,
        logger: Logger,
        readiness: @escaping @Sendable () -> [String],
        metrics: MetricsExport,
        billing: BillingAPI? = nil,
        dispatch: DispatchAPI? = nil,
        complaints: ComplaintsAPI? = nil,
        console: DispatchConsole? = nil,
        accessLog: Bool = false,
        onServerRunning: @escaping @Sendable () async -> Void = {}
    ) throws(HTTPServerTLSError) {
        let router = Self.makeRouter(readiness: readiness, metrics: metrics, accessLog: accessLog)
        billing?.register(on: router)
        dispatch?.register(on: router)
        complaints?.register(on: router)
        console?.register(on: router)
        self.feed = console?.feed
        self.application = Application(
            router: router,
            server: try tls?.makeServerBuilder() ?? .http1(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "meter-gateway"),
            onServerRunning: { _ in await onServerRunning() },
            logger: logger
        )
    }

    /// The router, separate from the server so tests can drive it without a socket: the JSON error middleware,
    /// then the health, readiness and metrics routes. Add ``BillingAPI`` and ``DispatchAPI`` with their
    /// `register(on:)`.
    /// - Parameters:
    ///   - readiness: Why the gateway cannot accept and store frames now; empty when it can.
    ///   - metrics: The gateway's registry (see ``init(host:port:tls:logger:readiness:metrics:billing:dispatch:complaints:accessLog:onServerRunning:)``);
    ///     a new, empty one by default.
    /// - Returns: A router serving `/healthz`, `/readyz`, `/metrics` and `/openapi.json`.
    public static func makeRouter(
        readiness: @escaping @Sendable () -> [String],
        metrics: MetricsExport = MetricsExport()
    ) -> Router<GatewayRequestContext> {
        makeRouter(readiness: readiness, metrics: metrics, accessLog: false)
    }

    /// ``makeRouter(readiness:metrics:)`` with the access log: one `http access` line per request
    /// (``AccessLogMiddleware``), outermost so it logs the status the client got.
    /// - Parameters:
    ///   - readiness: Why the gateway cannot accept and store frames now; empty when it can.
    ///   - metrics: The gateway's registry.
    ///   - accessLog: Whether to add the access log.
    /// - Returns: A router serving `/healthz`, `/readyz` and `/metrics`.
    public static func makeRouter(
        readiness: @escaping @Sendable () -> [String],
        metrics: MetricsExport,
        accessLog: Bool
    ) -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        if accessLog { router.add(middleware: AccessLogMiddleware()) }
        // Outermost, so it times the whole request and sees the status the error middleware answered with.
        router.add(middleware: RequestDurationMiddleware(registry: metrics.registry))
        // Next, so that it wraps every route added after it.
        router.add(middleware: APIErrorMiddleware())
        HealthRoutes(readiness: readiness).register(on: router)
        MetricsRoutes(metrics: metrics).register(on: router)
        OpenAPIRoutes().register(on: router)
        return router
    }

    /// Serves until the service group shuts down; the console's ``TicketEventFeed`` listens meanwhile and ends the
    /// consoles' event streams at shutdown, so open pages do not hold the server up.
    /// - Throws: When the server cannot bind its address.
    public func run() async throws {
        guard let feed else { return try await application.runService() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await feed.run() }
            defer { feed.stop() }
            try await application.runService()
            group.cancelAll()
        }
    }
}
