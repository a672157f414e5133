import Foundation
import GatewayCore
public import Hummingbird

/// Encodes every JSON response of the gateway: compact, `/` unescaped, one trailing newline, served as
/// `application/json`, as the billing and dispatch clients have always received it. Members are written in
/// key order, so the same value always gives the same text (Foundation's encoder on Linux keeps no declaration
/// order; JSON objects are unordered).
public struct GatewayJSONEncoder: ResponseEncoder, Sendable {
    /// Creates the encoder.
    public init() {}

    /// Encodes a value as the JSON body of a `200 OK` response.
    /// - Parameters:
    ///   - value: The response value.
    ///   - request: The request being answered.
    ///   - context: The request context.
    /// - Returns: The response.
    /// - Throws: `EncodingError` when the value cannot be encoded (a non-finite number).
    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response
    {
        try self.response(value, status: .ok)
    }

    /// Encodes a value as a JSON response with the given status.
    /// - Parameters:
    ///   - value: The response value.
    ///   - status: The response status.
    /// - Returns: The response.
    /// - Throws: `EncodingError` when the value cannot be encoded (a non-finite number).
    func response(_ value: some Encodable, status: HTTPResponse.Status) throws -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: try self.text(value) + "\n"))
        )
    }

    /// Encodes a value as the JSON body of a `201 Created` response: what a `POST` that created a record answers.
    /// - Parameters:
    ///   - value: The response value.
    ///   - location: The path of what was created, sent as `Location`, or `nil` when it has no address of its own.
    /// - Returns: The response.
    /// - Throws: `EncodingError` when the value cannot be encoded (a non-finite number).
    func created(_ value: some Encodable, location: String? = nil) throws -> Response {
        var response = try self.response(value, status: .created)
        if let location { response.headers[.location] = location }
        return response
    }

    /// The compact JSON text of a value, without the trailing newline (the `billing export` and `decode` commands
    /// print it). ``ExactDecimal``s are written as exact JSON numbers.
    /// - Parameter value: The value.
    /// - Returns: The JSON text.
    /// - Throws: `EncodingError` when the value cannot be encoded (a non-finite number).
    public func text(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.userInfo[.exactDecimalEncoding] = ExactDecimal.foundationEncoding
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
