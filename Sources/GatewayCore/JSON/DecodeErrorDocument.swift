/// The decode tool's error object, `{"error":{"code":"bad_crc","message":"…"}}`: a frame that does not decode, or
/// input the tool cannot read (`bad_hex`, `bad_key`). In batch mode it also names the input line,
/// `{"error":{…},"line":7}`.
public struct DecodeErrorDocument: Encodable, Sendable, Equatable {
    struct Detail: Encodable, Sendable, Equatable {
        var code: String
        var message: String
    }

    var error: Detail
    /// The input line (from 1) in batch mode; left out of the JSON when `nil`.
    public var line: Int?

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

extension DecodeErrorDocument: JSONWritable {
    /// Writes `{"error":{"code":…,"message":…}}`, with `"line"` when it names one.
    /// - Parameter writer: The writer.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("error")
        writer.beginObject()
        writer.member("code", error.code)
        writer.member("message", error.message)
        writer.endObject()
        writer.memberIfPresent("line", line)
        writer.endObject()
    }
}
