import Hummingbird
import Logging
import Synchronization

/// Logs one `http access` line at `info` per request, once its response body was written (`log.http_access`, on by
/// default): `http.method`, `http.path` (the path only: the query string is dropped), `http.status`,
/// `http.duration_ms`, `http.bytes` (body bytes written), `http.actor` and `http.role` when a credential was
/// authenticated (``AuthenticationMiddleware`` notes them in ``RequestAccessNote``), and `http.remote` (the peer's
/// address).
///
/// It never logs a request header, so neither `Authorization` nor a token, nor a body.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        return try await respondObservingCompletion(request, context, next: next) { status, bytes in
            Self.log(request, context, status: status, bytes: bytes, elapsed: ContinuousClock.now - start)
        }
    }

    private static func log(_ request: Request, _ context: Context, status: Int, bytes: Int, elapsed: Duration) {
        let (seconds, attoseconds) = elapsed.components
        let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "http.method": "\(request.method.rawValue)",
            "http.path": "\(request.uri.path)",
            "http.status": "\(status)",
            "http.duration_ms": "\((milliseconds * 1000).rounded() / 1000)",
            "http.bytes": "\(bytes)",
            "http.remote":
                "\(context.remoteAddress.map { "\($0.ipAddress ?? $0.description):\($0.port ?? 0)" } ?? "-")",
        ]
        let (actor, role) = context.access.snapshot
        if let actor { metadata["http.actor"] = "\(actor)" }
        if let role { metadata["http.role"] = "\(role)" }
        context.logger.info("http access", metadata: metadata)
    }
}

/// What ``AuthenticationMiddleware`` learnt about a request, for the access log: the credential's name and the role
/// it was let through with. A reference shared by every copy of the request's context (the middleware passes a
/// changed copy inwards; the access log, outside it, reads this).
public final class RequestAccessNote: Sendable {
    private let state = Mutex<(actor: String?, role: String?)>((nil, nil))

    /// Creates an empty note.
    public init() {}

    /// The credential's name and the role, as noted so far.
    public var snapshot: (actor: String?, role: String?) { state.withLock { $0 } }

    /// Notes the authenticated credential.
    /// - Parameter actor: The credential's name.
    func record(actor: String) { state.withLock { $0.actor = actor } }

    /// Notes the role the request was let through with.
    /// - Parameter role: The role's name.
    func record(role: String) { state.withLock { $0.role = role } }
}
