import Foundation
import GatewayCore
import Testing

@Suite struct ExactDecimalTests {
    @Test(arguments: [
        (ExactDecimal(significand: 1_234_500, exponent: -3), "1234.500"),
        (ExactDecimal(significand: 5, exponent: -3), "0.005"),
        (ExactDecimal(significand: 0, exponent: -3), "0.000"),
        (ExactDecimal(significand: 0, exponent: 3), "0"),
        (ExactDecimal(significand: 25, exponent: 3), "25000"),
        (ExactDecimal(-5, exponent: -2), "-0.05"),
        (ExactDecimal(0, exponent: -2), "0.00"),
        (ExactDecimal(significand: 0, exponent: -1, isNegative: true), "0.0"),
        (ExactDecimal(Int64.min, exponent: 0), "-9223372036854775808"),
        (ExactDecimal(significand: UInt64.max, exponent: -20), "0.18446744073709551615"),
    ])
    func textKeepsEveryDigitOfTheResolution(value: ExactDecimal, text: String) {
        #expect(value.description == text)
    }

    /// Without the program's `ExactDecimal.Encoding` the value is refused, never written as a Double or a string.
    @Test func encodingWithoutAnExactDecimalEncodingThrows() {
        #expect(throws: EncodingError.self) { try JSONEncoder().encode([ExactDecimal(significand: 15, exponent: -1)]) }
    }
}
