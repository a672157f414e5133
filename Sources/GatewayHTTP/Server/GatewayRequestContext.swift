public import Hummingbird
public import NIOCore

/// The request context of every gateway route: JSON responses through ``GatewayJSONEncoder``, request bodies of at
/// most 64 KiB, and the ``Credential`` the ``AuthenticationMiddleware`` found for the request.
public struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage

    /// The authenticated credential; `nil` before ``AuthenticationMiddleware`` ran, and on the open routes
    /// (`/healthz`, `/readyz`, `/metrics`, `/openapi.json`).
    public var credential: Credential?

    /// The peer's address, when the channel has one.
    public let remoteAddress: SocketAddress?

    /// The credential and role ``AuthenticationMiddleware`` let the request through with, for the access log.
    public let access = RequestAccessNote()

    /// Creates the context for one request.
    /// - Parameter source: The channel the request arrived on.
    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The largest request body a route decodes.
    public var maxUploadSize: Int { 64 * 1024 }

    /// The encoder of every JSON response.
    public var responseEncoder: GatewayJSONEncoder { GatewayJSONEncoder() }

    /// The name of the authenticated credential: the actor recorded for what the request writes.
    /// - Throws: ``APIError`` `401` `unauthenticated` when no ``AuthenticationMiddleware`` guards the route (a
    ///   programming error the tests catch; it refuses rather than record an unknown actor).
    public func actor() throws(APIError) -> String {
        guard let credential else { throw AuthenticationMiddleware.unauthenticated }
        return credential.name
    }
}
