import Hummingbird

extension Request {
    /// Decodes the JSON body with the context's decoder, refusing a body that is not the expected JSON with
    /// `400 Bad Request` and the given code.
    /// - Parameters:
    ///   - type: The request type.
    ///   - context: The request context (its `maxUploadSize` bounds the body).
    ///   - code: The error code of a malformed body, e.g. `bad_step`.
    /// - Returns: The decoded request.
    /// - Throws: ``APIError`` `400` with `code` when the body is not valid JSON of that type, `400` `bad_value` when
    ///   a string in it holds a NUL character; Hummingbird's `413` error when the body is larger than the context
    ///   allows.
    func decodeJSON<T: Decodable>(
        as type: T.Type,
        context: GatewayRequestContext,
        orRefuseWith code: String
    ) async throws -> T {
        var request = self
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        // A NUL character cannot be stored in a PostgreSQL text; refuse it here rather than let a route mistake the
        // store's refusal for an unknown record.
        if String(buffer: body).lowercased().contains(#"\u0000"#) {
            throw APIError.badRequest("bad_value", message: "a text may not contain the NUL character")
        }
        do {
            return try await request.decode(as: type, context: context)
        } catch let error as HTTPError where error.status == .badRequest {
            throw APIError.badRequest(code)
        }
    }
}
