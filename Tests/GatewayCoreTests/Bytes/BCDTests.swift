import Testing

@testable import GatewayCore

@Suite struct BCDTests {
    @Test func decodesBothNibblesOfAByte() {
        #expect(BCD.value(0x00) == 0)
        #expect(BCD.value(0x42) == 42)
        #expect(BCD.value(0x99) == 99)
        #expect(BCD.byte(42) == 0x42)
        #expect(BCD.byte(7) == 0x07)
    }

    @Test func rejectsANibbleAboveNine() {
        #expect(BCD.value(0x9A) == nil)
        #expect(BCD.value(0xA9) == nil)
        #expect(!BCD.isValid(0xFF))
        #expect(BCD.isValid(0x90))
    }

    @Test func readsLeastSignificantByteFirst() {
        let bytes: [UInt8] = [0xEE, 0x78, 0x56, 0x34, 0x12, 0xEE]
        bytes.withUnsafeBytes { raw in
            #expect(BCD.littleEndian(raw, at: 1, count: 4) == 12_345_678)
            #expect(BCD.littleEndian(raw, at: 1, count: 3) == 345_678)
            #expect(BCD.littleEndian(raw, at: 0, count: 2) == nil)
        }
    }

    @Test func signedValuesFollowTheSignNibbleAndTheNegativeFlag() {
        var bytes = InlineArray<256, UInt8>(repeating: 0)
        bytes[0] = 0x34
        bytes[1] = 0x12
        #expect(BCD.signedLittleEndian(bytes, 0..<2, signNibbleAllowed: true, negative: false) == 1234)
        #expect(BCD.signedLittleEndian(bytes, 0..<2, signNibbleAllowed: false, negative: true) == -1234)
        bytes[1] = 0xF2
        #expect(BCD.signedLittleEndian(bytes, 0..<2, signNibbleAllowed: true, negative: false) == -234)
        #expect(BCD.signedLittleEndian(bytes, 0..<2, signNibbleAllowed: false, negative: false) == nil)
        #expect(BCD.signedLittleEndian(bytes, 0..<0, signNibbleAllowed: true, negative: false) == nil)
    }

    @Test func signedValuesBeyondInt64AreRejected() {
        let nines = InlineArray<256, UInt8>(repeating: 0x99)
        let eighteenDigits = BCD.signedLittleEndian(nines, 0..<9, signNibbleAllowed: false, negative: false)
        #expect(eighteenDigits == 999_999_999_999_999_999)
        #expect(BCD.signedLittleEndian(nines, 0..<10, signNibbleAllowed: false, negative: false) == nil)
    }
}
