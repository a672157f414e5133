/// The decode tool's error object, `{"error":{"code":"bad_crc","message":"…"}}`: a frame that does not decode, or
/// input the tool cannot read (`bad_hex`, `bad_key`).
public struct DecodeErrorDocument: Encodable, Sendable, Equatable {
    struct Detail: Encodable, Sendable, Equatable {
        var code: String
        var message: String
    }

    var error: Detail

    /// Creates the object of one error code and its message.
    ///
    /// - Parameters:
    ///   - code: The machine-readable code, e.g. `bad_hex`.
    ///   - message: What is wrong, for a person.
    public init(code: String, message: String) {
        error = Detail(code: code, message: message)
    }

    /// Creates the object of a decoding error (its code and message, never payload bytes or keys).
    ///
    /// - Parameter decodingError: The decoder's error.
    public init(_ decodingError: FrameDecodingError) {
        self.init(code: decodingError.code.description, message: decodingError.message)
    }
}
