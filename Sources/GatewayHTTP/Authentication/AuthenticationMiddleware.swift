public import Hummingbird

/// Guards a route group: finds the request's ``Credential`` from `Authorization: Bearer <token>`, puts it into the
/// context, and lets the request through only when the credential has the group's ``Role``.
///
/// * No `Authorization` header, not `Bearer …`, or a token no credential has: `401`, code `unauthenticated`, and a
///   `WWW-Authenticate: Bearer` header.
/// * A known credential without the role: `403`, code `forbidden`, naming the role needed.
///
/// Both in the one JSON error shape (``APIError``). Neither body nor log ever holds the token. A nested group may
/// add a second middleware with a stronger role; the credential found by the first is reused.
///
/// With ``ConsoleSessions``, a `GET` or `HEAD` request without an `Authorization` header may instead carry the
/// dispatch console's session cookie (so the console's pages can load the API's JSON and charts). Every other method
/// needs the bearer token: a write with only the cookie is `401`, so the API has no cross-site request forgery path.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = GatewayRequestContext

    private let credentials: CredentialStore
    private let role: Role
    private let sessions: ConsoleSessions?

    /// Creates the middleware.
    /// - Parameters:
    ///   - credentials: The configured credentials.
    ///   - role: The role the routes behind it need.
    ///   - sessions: The console's sessions, accepted for `GET` and `HEAD`; `nil` for bearer tokens only.
    public init(_ credentials: CredentialStore, requiring role: Role, sessions: ConsoleSessions? = nil) {
        self.credentials = credentials
        self.role = role
        self.sessions = sessions
    }

    /// The `401` answer.
    static let unauthenticated = APIError(
        .unauthorized,
        "unauthenticated",
        message: "send Authorization: Bearer <token> of a configured credential"
    )

    /// Authenticates and authorises the request, then passes it on.
    /// - Parameters:
    ///   - request: The request.
    ///   - context: The request context.
    ///   - next: The rest of the chain.
    /// - Returns: The response of the rest of the chain.
    /// - Throws: ``APIError`` `401` or `403`; whatever the rest of the chain throws.
    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if context.credential == nil {
            let authorization = request.headers[.authorization]
            var found = credentials.authenticate(authorization: authorization)
            if found == nil, authorization == nil, let sessions, request.method == .get || request.method == .head {
                found = sessions.credential(cookieHeader: request.headers[.cookie])
            }
            guard let credential = found else { throw Self.unauthenticated }
            context.credential = credential
            context.access.record(actor: credential.name)
        }
        guard let credential = context.credential, credential.has(role) else {
            throw APIError(.forbidden, "forbidden", message: "this route needs the \(role.rawValue) role")
        }
        context.access.record(role: role.rawValue)
        return try await next(request, context)
    }
}
