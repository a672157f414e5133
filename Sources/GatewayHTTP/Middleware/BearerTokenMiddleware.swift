public import Hummingbird

/// Lets a request through only when it carries `Authorization: Bearer <token>`; otherwise answers
/// `401 Unauthorized` with the configured error code. An empty token closes the routes behind it.
///
/// The comparison takes the same time wherever the first differing byte is (for headers of the expected length),
/// so response times do not reveal how much of a guessed token is right.
public struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    private let expected: [UInt8]?
    private let errorCode: String

    /// Creates the middleware.
    /// - Parameters:
    ///   - token: The token clients must send; empty refuses every request.
    ///   - errorCode: The code of the `401` error body, e.g. `review_token_required`.
    public init(token: String, errorCode: String) {
        self.expected = token.isEmpty ? nil : Array("Bearer \(token)".utf8)
        self.errorCode = errorCode
    }

    /// Passes an authorised request on, refuses any other.
    /// - Parameters:
    ///   - request: The request.
    ///   - context: The request context.
    ///   - next: The rest of the chain.
    /// - Returns: The response of the rest of the chain.
    /// - Throws: ``APIError`` `401` with the configured code when the token is missing or wrong; whatever the
    ///   rest of the chain throws.
    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard isAuthorised(request) else { throw APIError(.unauthorized, errorCode) }
        return try await next(request, context)
    }

    /// Whether the request carries the token.
    /// - Parameter request: The request.
    /// - Returns: `true` when the `Authorization` header is `Bearer <token>` and a token is configured.
    func isAuthorised(_ request: Request) -> Bool {
        guard let expected, let header = request.headers[.authorization] else { return false }
        let given = Array(header.utf8)
        // Compare in constant time for equal lengths.
        guard given.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<given.count { difference |= given[index] ^ expected[index] }
        return difference == 0
    }
}
