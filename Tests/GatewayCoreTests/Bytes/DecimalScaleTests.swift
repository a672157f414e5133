import Testing

@testable import GatewayCore

@Suite struct DecimalScaleTests {
    @Test func powersOfTenCoverZeroThroughNineteen() {
        #expect(DecimalScale.powerOfTen(0) == 1)
        #expect(DecimalScale.powerOfTen(6) == 1_000_000)
        #expect(DecimalScale.powerOfTen(19) == 10_000_000_000_000_000_000)
    }

    @Test func powersOfTenOutsideTheRegisterRangeAreZero() {
        #expect(DecimalScale.powerOfTen(-1) == 0)
        #expect(DecimalScale.powerOfTen(20) == 0)
    }

    @Test func wrappingScaleLeavesNonPositiveShiftsAlone() {
        #expect(DecimalScale.wrappingScaled(42, by: 0) == 42)
        #expect(DecimalScale.wrappingScaled(42, by: -3) == 42)
        #expect(DecimalScale.wrappingScaled(42, by: 3) == 42_000)
    }

    @Test func checkedScaleRejectsOverflowAndDroppedDigits() {
        #expect(DecimalScale.scaled(123, by: 2) == 12_300)
        #expect(DecimalScale.scaled(12_300, by: -2) == 123)
        #expect(DecimalScale.scaled(12_301, by: -2) == nil)
        #expect(DecimalScale.scaled(1, by: 18) == 1_000_000_000_000_000_000)
        #expect(DecimalScale.scaled(1, by: 19) == nil)
        #expect(DecimalScale.scaled(-5, by: 1) == -50)
    }
}
