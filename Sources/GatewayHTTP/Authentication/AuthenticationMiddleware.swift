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
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = GatewayRequestContext

    private let credentials: CredentialStore
    private let role: Role

    /// Creates the middleware.
    /// - Parameters:
    ///   - credentials: The configured credentials.
    ///   - role: The role the routes behind it need.
    public init(_ credentials: CredentialStore, requiring role: Role) {
        self.credentials = credentials
        self.role = role
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
            guard let credential = credentials.authenticate(authorization: request.headers[.authorization]) else {
                throw Self.unauthenticated
            }
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
