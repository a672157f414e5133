/// The one JSON body of every failed request:
/// `{"error":{"code":"bad_cursor_or_limit","message":"…","retryable":true}}`.
///
/// `code` is stable and meant for programs; `message` is for people and is present only when there is more to
/// say; `retryable` is present, and `true`, only when the same request may succeed later (the database was
/// unreachable or busy).
struct ErrorResponse: Encodable, Sendable, Equatable {
    /// The error member.
    struct Body: Encodable, Sendable, Equatable {
        var code: String
        var message: String?
        var retryable: Bool?
    }

    var error: Body
}
