public import Hummingbird

/// The request context of every gateway route: JSON responses through ``GatewayJSONEncoder`` and request bodies
/// of at most 64 KiB.
public struct GatewayRequestContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage

    /// Creates the context for one request.
    /// - Parameter source: The channel the request arrived on.
    public init(source: Source) {
        self.coreContext = .init(source: source)
    }

    /// The largest request body a route decodes.
    public var maxUploadSize: Int { 64 * 1024 }

    /// The encoder of every JSON response.
    public var responseEncoder: GatewayJSONEncoder { GatewayJSONEncoder() }
}
