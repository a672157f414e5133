/// Exact decimal text from scaled integers, for JSON and test output (never `Double`).
enum DecimalText {
    /// Formats `magnitude × 10^−scale` with its sign.
    ///
    /// - Parameters:
    ///   - magnitude: The absolute value in units of 10^−scale.
    ///   - isNegative: Whether to prefix a minus sign (ignored for zero).
    ///   - scale: Digits after the decimal point, 0 or more.
    ///   - trimTrailingZeros: Whether to drop trailing fractional zeros (and the point if nothing is left).
    /// - Returns: Text such as `"1234.567"`, `"-0.05"` or `"12"`.
    static func format(magnitude: UInt64, isNegative: Bool, scale: Int, trimTrailingZeros: Bool) -> String {
        var digits = String(magnitude)
        let scale = max(0, scale)
        if digits.count <= scale {
            digits = String(repeating: "0", count: scale - digits.count + 1) + digits
        }
        var integerPart = String(digits.prefix(digits.count - scale))
        var fraction = String(digits.suffix(scale))
        if trimTrailingZeros {
            while fraction.last == "0" { fraction.removeLast() }
        }
        if integerPart.isEmpty { integerPart = "0" }
        let sign = isNegative && magnitude != 0 ? "-" : ""
        return fraction.isEmpty ? sign + integerPart : sign + integerPart + "." + fraction
    }

    /// Formats a signed value in units of 10^−scale.
    static func format(_ value: Int64, scale: Int, trimTrailingZeros: Bool) -> String {
        format(magnitude: value.magnitude, isNegative: value < 0, scale: scale, trimTrailingZeros: trimTrailingZeros)
    }
}
