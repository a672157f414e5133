public import Hummingbird
import PostgresSink

/// A failed request as the client sees it: a status and the ``ErrorResponse`` body.
///
/// Routes throw it for what they know (a bad cursor, a refused step, an unknown ticket); ``init(mapping:)`` is the
/// one place that turns every other error, a database failure included, into one.
public struct APIError: HTTPResponseError, Sendable, Equatable {
    /// The response status.
    public var status: HTTPResponse.Status
    /// The stable error code, e.g. `bad_cursor_or_limit`.
    public var code: String
    /// Detail for people, or `nil`.
    public var message: String?
    /// Whether the same request may succeed later (sent as `"retryable":true` and a `Retry-After` header).
    public var isRetryable: Bool

    /// Creates an error.
    /// - Parameters:
    ///   - status: The response status.
    ///   - code: The stable error code.
    ///   - message: Detail for people, or `nil`.
    ///   - isRetryable: Whether the same request may succeed later.
    public init(_ status: HTTPResponse.Status, _ code: String, message: String? = nil, isRetryable: Bool = false) {
        self.status = status
        self.code = code
        self.message = message
        self.isRetryable = isRetryable
    }

    /// `400 Bad Request` with the given code.
    /// - Parameters:
    ///   - code: The stable error code, e.g. `bad_limit`.
    ///   - message: Detail for people, or `nil`.
    /// - Returns: The error.
    public static func badRequest(_ code: String, message: String? = nil) -> APIError {
        APIError(.badRequest, code, message: message)
    }

    /// `404 Not Found` with the given code.
    /// - Parameters:
    ///   - code: The stable error code, e.g. `no_such_ticket`.
    ///   - message: Detail for people, or `nil`.
    /// - Returns: The error.
    public static func notFound(_ code: String, message: String? = nil) -> APIError {
        APIError(.notFound, code, message: message)
    }

    /// The error a client sees for any error thrown while answering a request.
    ///
    /// * ``APIError``: itself.
    /// * `PostgresError` (the store failed): `503 Service Unavailable`, code `database_unavailable`, retryable,
    ///   when retrying may succeed (connection lost or refused, serialization failure, statement timeout, server
    ///   shutting down); `400 Bad Request`, code `bad_value`, for a value that cannot be stored (a NUL character in
    ///   a text, refused before it is sent; SQLSTATE class `22`, data exception, e.g. a number out of range), which
    ///   only a request's own values cause; else `500 Internal Server Error`, code `database_error`. The database's
    ///   message is not sent; it is logged.
    /// * Hummingbird's errors (no such route, body too large): their status, the code named after it
    ///   (`not_found`, `content_too_large`).
    /// * Anything else: `500 Internal Server Error`, code `internal_error`.
    /// - Parameter error: The thrown error.
    public init(mapping error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as PostgresError where error.isRetryable:
            self.init(
                .serviceUnavailable,
                "database_unavailable",
                message: "the database is unavailable; retry later",
                isRetryable: true
            )
        case let error as PostgresError where error.code == .invalidArgument || error.sqlState?.hasPrefix("22") == true:
            self.init(.badRequest, "bad_value", message: "a value of the request cannot be stored")
        case is PostgresError:
            self.init(.internalServerError, "database_error", message: "the database refused the request")
        case let error as HTTPError:
            self.init(error.status, Self.code(for: error.status), message: error.body)
        case let error as any HTTPResponseError:
            self.init(error.status, Self.code(for: error.status))
        default:
            self.init(.internalServerError, "internal_error")
        }
    }

    /// The response body.
    var body: ErrorResponse {
        ErrorResponse(error: .init(code: code, message: message, retryable: isRetryable ? true : nil))
    }

    /// The JSON response: the status, ``ErrorResponse``, `Retry-After: 5` when retryable and
    /// `WWW-Authenticate: Bearer` for a `401`.
    /// - Parameters:
    ///   - request: The request being answered.
    ///   - context: The request context.
    /// - Returns: The response.
    /// - Throws: Never in practice; the body holds only strings and a boolean.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try GatewayJSONEncoder().response(body, status: status)
        if isRetryable { response.headers[.retryAfter] = "5" }
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }

    /// `not_found`, `content_too_large`, …: the reason phrase in lower snake case.
    static func code(for status: HTTPResponse.Status) -> String {
        let words = status.reasonPhrase.lowercased().split { !$0.isLetter && !$0.isNumber }
        return words.isEmpty ? "http_\(status.code)" : words.joined(separator: "_")
    }
}
