import Foundation
public import GatewayCore

extension ExactDecimal {
    /// Writes each ``ExactDecimal`` as Foundation's `Decimal`, which `JSONEncoder` prints as a plain JSON number
    /// with every significant digit (`1234.567`, never a binary floating-point approximation). Trailing fractional
    /// zeros are not printed: `1234.500` is written `1234.5`, the same number.
    ///
    /// The encoding throws `EncodingError.invalidValue` for a power of ten outside `Decimal`'s −128…127 or a value
    /// beyond its range; no decoded frame has one.
    public static let foundationEncoding: Encoding = { value, encoder in
        guard let decimal = value.foundationDecimal else {
            throw EncodingError.invalidValue(
                value,
                EncodingError.Context(
                    codingPath: encoder.codingPath,
                    debugDescription: "\(value) is outside the range of Foundation's Decimal"
                )
            )
        }
        var container = encoder.singleValueContainer()
        try container.encode(decimal)
    }

    /// The same number as a `Decimal`, or `nil` when `Decimal` cannot hold it exactly (outside its exponent range
    /// `Decimal` rounds to zero or becomes NaN, which `JSONEncoder` would print as `NaN`).
    private var foundationDecimal: Decimal? {
        guard (-128...127).contains(exponent) else { return nil }
        let decimal = Decimal(sign: isNegative ? .minus : .plus, exponent: exponent, significand: Decimal(significand))
        return decimal.isNaN ? nil : decimal
    }
}
