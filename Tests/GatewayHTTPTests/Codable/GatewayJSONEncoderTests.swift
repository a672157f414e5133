import Foundation
import GatewayCore
import GatewayHTTP
import Testing

/// The gateway's one JSON encoder writes GatewayCore's exact decimals as JSON numbers, never through a `Double`.
@Suite struct GatewayJSONEncoderTests {
    struct Values: Encodable {
        var values: [ExactDecimal]
    }

    @Test func exactDecimalsAreJSONNumbersWithEverySignificantDigit() throws {
        let values = [
            ExactDecimal(significand: 9_999_999_999_999_999, exponent: -6),
            ExactDecimal(significand: 18_446_744_073_709_551_615, exponent: -19),
            ExactDecimal(-5, exponent: -2),
            ExactDecimal(significand: 1_234_500, exponent: -3),
            ExactDecimal(significand: 0, exponent: -3),
            ExactDecimal(significand: 25, exponent: 3),
        ]
        let text = try GatewayJSONEncoder().text(Values(values: values))
        #expect(text == #"{"values":[9999999999.999999,1.8446744073709551615,-0.05,1234.5,0,25000]}"#)
    }

    /// Beyond `Decimal`'s exponent range the value would be rounded to zero or printed as `NaN`: refused instead.
    @Test(arguments: [
        ExactDecimal(significand: 12345, exponent: -130),
        ExactDecimal(significand: 1, exponent: 200),
        ExactDecimal(significand: 10_000_000_000_000_000_000, exponent: 127),
    ])
    func valuesDecimalCannotHoldAreRefused(_ value: ExactDecimal) {
        #expect(throws: EncodingError.self) { try GatewayJSONEncoder().text(Values(values: [value])) }
    }
}
