import Testing

@testable import GatewayCore

@Suite struct ByteReaderTests {
    let bytes: [UInt8] = [0x00, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0, 0xFF]

    @Test func readsBigEndianIntegersAtAnyOffset() {
        bytes.withUnsafeBytes { raw in
            #expect(raw.u16(1) == 0x1234)
            #expect(raw.u32(1) == 0x1234_5678)
            #expect(raw.u64(1) == 0x1234_5678_9ABC_DEF0)
            #expect(raw.u64(2) == 0x3456_789A_BCDE_F0FF)
        }
    }

    @Test func readsSignedBigEndianIntegers() {
        bytes.withUnsafeBytes { raw in
            #expect(raw.i8(9) == -1)
            #expect(raw.i8(1) == 0x12)
            #expect(raw.i16(8) == Int16(bitPattern: 0xF0FF))
            #expect(raw.i16(1) == 0x1234)
        }
    }

    @Test func readsLittleEndianIntegersAtAnyOffset() {
        bytes.withUnsafeBytes { raw in
            #expect(raw.u16le(1) == 0x3412)
            #expect(raw.u32le(1) == 0x7856_3412)
            #expect(raw.u32le(6) == 0xFFF0_DEBC)
        }
    }

    @Test func inlineArrayReadsMatchBufferReads() {
        var storage = InlineArray<256, UInt8>(repeating: 0)
        for (index, byte) in bytes.enumerated() { storage[index] = byte }
        bytes.withUnsafeBytes { raw in
            for offset in 0...(bytes.count - 8) {
                #expect(storage.u16le(offset) == raw.u16le(offset))
                #expect(storage.u32le(offset) == raw.u32le(offset))
                #expect(storage.u64(offset) == raw.u64(offset))
            }
        }
    }
}
