public import Hummingbird
import Logging

/// Answers every error thrown by the routes behind it with one JSON shape (``APIError`` and ``ErrorResponse``),
/// and logs the errors the client is not told about (a database failure, an unexpected error).
///
/// Add it to the router before any route: Hummingbird applies a router's middleware to the routes added after it.
public struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    /// Runs the rest of the chain and turns a thrown error into its JSON response.
    /// - Parameters:
    ///   - request: The request.
    ///   - context: The request context.
    ///   - next: The rest of the chain.
    /// - Returns: The route's response, or the error response.
    /// - Throws: Only if the error response cannot be built, which does not happen.
    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let mapped = APIError(mapping: error)
            if mapped.status.kind == .serverError {
                // `description` only: a PostgresError's detail can quote row values.
                context.logger.error(
                    "request failed",
                    metadata: [
                        "http.path": "\(request.uri.path)", "http.status": "\(mapped.status.code)",
                        "error": "\(String(describing: error))",
                    ]
                )
            }
            return try mapped.response(from: request, context: context)
        }
    }
}
