import GatewayCore
import Testing

@testable import PostgresSink

@Suite struct BinaryCopyEncoderTests {
    static let header: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0]

    @Test func emptyStreamIsHeaderAndTrailer() {
        var encoder = BinaryCopyEncoder(reservingCapacity: 64)
        encoder.finish()
        #expect(encoder.bytes == Self.header + [0xFF, 0xFF])
        #expect(encoder.bytes.count == 21)
        #expect(encoder.rowCount == 0)
    }

    @Test func writesEveryTypeBigEndian() {
        var encoder = BinaryCopyEncoder(reservingCapacity: 256)
        encoder.beginTuple(fieldCount: 10)
        encoder.writeInt16(0x0102)
        encoder.writeInt32(-2)
        encoder.writeInt64(0x0102_0304_0506_0708)
        encoder.writeBool(true)
        encoder.writeBool(false)
        encoder.writeFloat64(1.5)
        encoder.writeText("gé")
        encoder.writeBytea([0x00, 0xFF])
        encoder.writeNull()
        encoder.writeInt64(nil as Int64?)
        encoder.finish()
        let expected: [UInt8] =
            Self.header
            + [0x00, 0x0A]  // 10 fields
            + [0, 0, 0, 2, 0x01, 0x02]
            + [0, 0, 0, 4, 0xFF, 0xFF, 0xFF, 0xFE]
            + [0, 0, 0, 8, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]
            + [0, 0, 0, 1, 0x01]
            + [0, 0, 0, 1, 0x00]
            + [0, 0, 0, 8, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0]  // 1.5
            + [0, 0, 0, 3, 0x67, 0xC3, 0xA9]  // "gé" as UTF-8
            + [0, 0, 0, 2, 0x00, 0xFF]
            + [0xFF, 0xFF, 0xFF, 0xFF]  // NULL
            + [0xFF, 0xFF, 0xFF, 0xFF]  // nil Int64
            + [0xFF, 0xFF]  // trailer
        #expect(encoder.bytes == expected)
        #expect(encoder.rowCount == 1)
    }

    @Test func timestampIsMicrosecondsSince2000() {
        var encoder = BinaryCopyEncoder(reservingCapacity: 64)
        encoder.beginTuple(fieldCount: 3)
        // 2000-01-01T00:00:00Z is zero; one microsecond later is 1; 1970 is negative.
        encoder.writeTimestamp(Timestamp(microsecondsSinceEpoch: 946_684_800_000_000))
        encoder.writeTimestamp(Timestamp(microsecondsSinceEpoch: 946_684_800_000_001))
        encoder.writeTimestamp(Timestamp(microsecondsSinceEpoch: 0))
        let body = Array(encoder.bytes.dropFirst(Self.header.count + 2))
        let minus = UInt64(bitPattern: -946_684_800_000_000)
        let minusBytes = (0..<8).reversed().map { UInt8(truncatingIfNeeded: minus >> (UInt64($0) * 8)) }
        #expect(
            body == [0, 0, 0, 8] + [0, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 0, 8] + [0, 0, 0, 0, 0, 0, 0, 1] + [0, 0, 0, 8]
                + minusBytes
        )
    }

    @Test func resetKeepsCapacityAndRewritesHeader() {
        var encoder = BinaryCopyEncoder(reservingCapacity: 4096)
        let capacity = encoder.bytes.capacity
        for value in 0..<100 {
            encoder.beginTuple(fieldCount: 1)
            encoder.writeInt64(Int64(value))
        }
        encoder.finish()
        #expect(encoder.rowCount == 100)
        encoder.reset()
        #expect(encoder.bytes == Self.header)
        #expect(encoder.rowCount == 0)
        #expect(encoder.bytes.capacity == capacity)
    }

    @Test func readingRowLayoutMatchesStageTable() {
        var encoder = BinaryCopyEncoder(reservingCapacity: 512)
        let reading = ReadingRecord(
            meterID: 7,
            readAt: Timestamp(secondsSinceEpoch: 946_684_801),
            receivedAt: Timestamp(secondsSinceEpoch: 946_684_802),
            kind: .dailyFrozen,
            volumeMillilitres: 123,
            registerModulusMillilitres: 0,
            flowMillilitresPerHour: nil,
            valve: .closed,
            batteryMillivolts: 3600,
            temperatureCentiCelsius: nil,
            signalDBm: -85,
            statusBits: 5,
            frameCounter: nil,
            source: .cjt188,
            basis: .converted,
            storage: 1,
            tariff: 2,
            protection: .encrypted
        )
        encoder.append(reading)
        #expect(encoder.rowCount == 1)
        let body = Array(encoder.bytes.dropFirst(Self.header.count))
        // 18 fields in the stage table's order: meter, read_at, kind, received_at, volume, modulus, flow, valve,
        // battery, temp, signal, status, frame counter, source, basis, storage, tariff, protection flags (v28).
        #expect(Array(body.prefix(2)) == [0, 18])
        #expect(Array(body[2..<14]) == [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7])
        #expect(Array(body[14..<26]) == [0, 0, 0, 8, 0, 0, 0, 0, 0, 0x0F, 0x42, 0x40])  // 1 s = 1,000,000 µs
        #expect(Array(body[26..<32]) == [0, 0, 0, 2, 0, 1])  // kind dailyFrozen as int2
        // After received_at, volume, modulus (12 bytes each), NULL flow (4), valve (6), battery (8), NULL
        // temperature (4): the signal as int2, −85 dBm.
        #expect(Array(body[90..<96]) == [0, 0, 0, 2, 0xFF, 0xAB])
        // Source code 2 (cjt188), basis 2 (converted), storage 1, tariff 2, then protection flags 5: encrypted (1)
        // with the meter's key (1 << 2; a level above plain comes only from the meter's own key).
        #expect(
            Array(body.suffix(30)) == [0, 0, 0, 2, 0, 2] + [0, 0, 0, 2, 0, 2] + [0, 0, 0, 2, 0, 1]
                + [0, 0, 0, 2, 0, 2] + [0, 0, 0, 2, 0, 5]
        )
    }
}
