/// An exact decimal number, ± `significand` × 10^`exponent`: a volume, a flow or a temperature as the meter sent
/// it, never a binary floating-point value.
///
/// The text (``description``) keeps the resolution: `ExactDecimal(significand: 1234500, exponent: -3)` is
/// `"1234.500"`. The decode JSON writes the same number (see ``ExactDecimal/encode(to:)``).
public struct ExactDecimal: Sendable, Hashable, CustomStringConvertible {
    /// The digits as an unsigned integer.
    public let significand: UInt64
    /// The power of ten the significand is multiplied by.
    public let exponent: Int
    /// Whether the value is below zero (never for a zero significand).
    public let isNegative: Bool

    /// Creates ± `significand` × 10^`exponent`.
    ///
    /// - Parameters:
    ///   - significand: The digits as an unsigned integer.
    ///   - exponent: The power of ten, e.g. −3 for a value with three decimals.
    ///   - isNegative: Whether the value is below zero (ignored for a zero significand).
    public init(significand: UInt64, exponent: Int, isNegative: Bool = false) {
        self.significand = significand
        self.exponent = exponent
        self.isNegative = isNegative && significand != 0
    }

    /// Creates `value` × 10^`exponent` from a signed integer.
    ///
    /// - Parameters:
    ///   - value: The scaled integer, e.g. 2150 for 21.50 with exponent −2.
    ///   - exponent: The power of ten.
    public init(_ value: Int64, exponent: Int) {
        self.init(significand: value.magnitude, exponent: exponent, isNegative: value < 0)
    }

    /// The value as decimal text with every digit of its resolution, e.g. `"1234.500"`, `"-0.05"`, `"5000"`.
    public var description: String {
        var digits = String(significand)
        if exponent >= 0 {
            if significand != 0 { digits += String(repeating: "0", count: exponent) }
        } else {
            let scale = -exponent
            if digits.count <= scale {
                digits = String(repeating: "0", count: scale - digits.count + 1) + digits
            }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        }
        return isNegative ? "-" + digits : digits
    }
}
