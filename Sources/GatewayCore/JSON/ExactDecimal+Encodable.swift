extension ExactDecimal: Encodable {
    /// Writes one ``ExactDecimal`` into an encoder as an exact number of that encoder's own, e.g. Foundation's
    /// `Decimal` for `JSONEncoder`, which prints a plain JSON number such as `1234.567`.
    ///
    /// GatewayCore does not import Foundation, so the program that encodes supplies this under
    /// `CodingUserInfoKey.exactDecimalEncoding` (GatewayHTTP's `GatewayJSONEncoder` does). A number type of the
    /// encoder's may drop trailing fractional zeros (`1234.500` becomes `1234.5`): the value stays exact.
    public typealias Encoding = @Sendable (ExactDecimal, any Encoder) throws -> Void

    /// Writes the value through the encoder's ``Encoding``.
    ///
    /// - Parameter encoder: An encoder whose `userInfo` holds an ``Encoding`` under
    ///   `CodingUserInfoKey.exactDecimalEncoding`.
    /// - Throws: `EncodingError.invalidValue` when it holds none: the value is never written as a binary
    ///   floating-point number or as a string instead.
    public func encode(to encoder: any Encoder) throws {
        guard let encoding = encoder.userInfo[.exactDecimalEncoding] as? Encoding else {
            throw EncodingError.invalidValue(
                self,
                EncodingError.Context(
                    codingPath: encoder.codingPath,
                    debugDescription: "no ExactDecimal.Encoding under CodingUserInfoKey.exactDecimalEncoding"
                )
            )
        }
        try encoding(self, encoder)
    }
}

extension CodingUserInfoKey {
    /// Where an encoder's `userInfo` holds the ``ExactDecimal/Encoding`` that writes exact decimals.
    public static let exactDecimalEncoding: CodingUserInfoKey = {
        guard let key = CodingUserInfoKey(rawValue: "GatewayCore.ExactDecimal.Encoding") else {
            // `init?(rawValue:)` accepts every string; it is failable only to satisfy `RawRepresentable`.
            preconditionFailure("CodingUserInfoKey(rawValue:) rejected a string")
        }
        return key
    }()
}
