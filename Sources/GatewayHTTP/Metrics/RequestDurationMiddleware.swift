import Hummingbird
import Prometheus

/// Records `meter_gateway_http_request_duration_seconds{method, route, status}` for every request: from the
/// request's arrival until its response body was written. `route` is the matched route's template
/// (`/dispatch/v1/tickets/{id}`), never a concrete path, so the number of series stays bounded; a request no route
/// matched is `route="unmatched"`.
struct RequestDurationMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    /// The family's name and help text.
    static var descriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "meter_gateway",
            metricName: "http_request_duration",
            unitName: "seconds",
            helpText: "Time from an HTTP request's arrival until its response was written, by method, route and status."
        )
    }
    /// Buckets from 1 ms to 10 s.
    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
        .seconds(10),
    ]

    let registry: PrometheusCollectorRegistry

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        return try await respondObservingCompletion(request, context, next: next) { [registry] status, _ in
            Self.record(registry, request, context, status: status, elapsed: ContinuousClock.now - start)
        }
    }

    private static func record(
        _ registry: PrometheusCollectorRegistry,
        _ request: Request,
        _ context: Context,
        status: Int,
        elapsed: Duration
    ) {
        let histogram = registry.makeDurationHistogram(
            descriptor: descriptor,
            labels: [
                ("method", request.method.rawValue), ("route", context.endpointPath ?? "unmatched"),
                ("status", String(status)),
            ],
            buckets: buckets
        )
        histogram.record(elapsed)
    }
}
