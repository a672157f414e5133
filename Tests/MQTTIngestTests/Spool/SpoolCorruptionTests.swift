import Foundation
import GatewayCore
import Testing

@testable import MQTTIngest

@Suite struct SpoolCorruptionTests {
    typealias Support = SpoolTestSupport

    /// Records of 20-byte frames with topic "t": 39 bytes each.
    private static let recordBytes = Support.recordBytes(payload: 20)

    private static func payload(_ index: Int) -> [UInt8] {
        [UInt8(index)] + [UInt8](repeating: 0xA5, count: 19)
    }

    /// Writes `count` frames into a fresh spool and closes it.
    private static func writeFrames(_ count: Int, to directory: String) throws {
        let spool = try FrameSpool(directory: directory)
        for index in 0..<count {
            try Support.append(spool.writer, payload: payload(index), at: 1_000 + Int64(index))
        }
    }

    private static func xor(_ path: String, at offset: Int, with mask: [UInt8]) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        let original = try #require(try handle.read(upToCount: mask.count))
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data(zip(original, mask).map { $0 ^ $1 }))
    }

    private static func bytes(_ path: String, _ range: Range<Int>) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path))[range])
    }

    private static func intact(_ index: Int, segment: UInt64 = 1) -> DeliveredRecord {
        DeliveredRecord(
            topic: "t",
            payload: payload(index),
            receivedAt: 1_000 + Int64(index),
            position: SpoolPosition(segment: segment, offset: Int64(index * recordBytes)),
            isCorrupt: false,
            damagedByteCount: 0
        )
    }

    @Test func aBitFlipInTheMiddleOfASegmentCutsNothingAndIsDeliveredAsOneCorruptRecord() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.writeFrames(10, to: directory)
        let segment = Support.segmentPath(directory, 1)
        let size = try Support.fileSize(segment)
        let damageStart = 5 * Self.recordBytes
        try Self.xor(segment, at: damageStart + 22, with: [0x10])  // one bit of frame 5's payload
        let damaged = try Self.bytes(segment, damageStart..<(damageStart + Self.recordBytes))

        let time = ManualSpoolClock()
        let spool = try FrameSpool(
            directory: directory,
            options: SpoolOptions(),
            operations: PosixSpoolFileOperations(),
            clock: time.clock
        )
        #expect(spool.discardedTornRecords == 0)
        #expect(spool.damagedRangesAtOpen == 1)
        #expect(try Support.fileSize(segment) == size, "nothing after the damage is cut")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).allSatisfy { !$0.contains(".torn-") })

        let records = try Support.drain(spool.makeReader())
        let corrupt = DeliveredRecord(
            topic: "",
            payload: damaged,
            receivedAt: time.wall,
            position: SpoolPosition(segment: 1, offset: Int64(damageStart)),
            isCorrupt: true,
            damagedByteCount: Int64(Self.recordBytes)
        )
        #expect(records == (0..<5).map { Self.intact($0) } + [corrupt] + (6..<10).map { Self.intact($0) })
        #expect(spool.corruptRecords == 1)
    }

    /// Flipping bits of frame 5's length field: a huge length (beyond the file), a length one too long, and a
    /// length that still fits in the file but swallows the next records.
    @Test(arguments: [UInt32(1) << 31, 1, 64])
    func aCorruptLengthFieldInTheMiddleOfASegmentCostsOnlyThatRecord(mask: UInt32) throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.writeFrames(10, to: directory)
        let segment = Support.segmentPath(directory, 1)
        let size = try Support.fileSize(segment)
        let damageStart = 5 * Self.recordBytes
        try Self.xor(segment, at: damageStart, with: withUnsafeBytes(of: mask.littleEndian) { Array($0) })

        let spool = try FrameSpool(directory: directory)
        #expect(spool.discardedTornRecords == 0)
        #expect(try Support.fileSize(segment) == size, "nothing after the damage is cut")

        let records = try Support.drain(spool.makeReader())
        #expect(records.filter { !$0.isCorrupt } == (0..<5).map { Self.intact($0) } + (6..<10).map { Self.intact($0) })
        let corrupt = records.filter(\.isCorrupt)
        #expect(corrupt.count == 1)
        #expect(corrupt.first?.position == SpoolPosition(segment: 1, offset: Int64(damageStart)))
        #expect(corrupt.first?.damagedByteCount == Int64(Self.recordBytes))
        #expect(records.firstIndex { $0.isCorrupt } == 5, "the corrupt record comes in file order")
    }

    @Test func theReaderHandsOutDamageFoundAtRuntimeCappedAt64KiBAndCountsItOnce() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let time = ManualSpoolClock()
        let spool = try FrameSpool(
            directory: directory,
            options: SpoolOptions(),
            operations: PosixSpoolFileOperations(),
            clock: time.clock
        )
        let big = [UInt8](repeating: 0x3C, count: 100 << 10)
        try Support.append(spool.writer, payload: [1])
        try Support.append(spool.writer, payload: big)
        try Support.append(spool.writer, payload: [3])
        // The disk returns a flipped bit inside the big frame after it was written.
        let segment = Support.segmentPath(directory, 1)
        let bigStart = Support.recordBytes(payload: 1)
        let bigLength = Support.recordBytes(payload: big.count)
        try Self.xor(segment, at: bigStart + 5_000, with: [0x01])

        let reader = spool.makeReader()
        let records = try Support.drain(reader)
        #expect(records.map(\.isCorrupt) == [false, true, false])
        #expect(records.first?.payload == [1])
        #expect(records.last?.payload == [3])
        let corrupt = records[1]
        #expect(corrupt.topic.isEmpty)
        #expect(corrupt.position == SpoolPosition(segment: 1, offset: Int64(bigStart)))
        #expect(corrupt.damagedByteCount == Int64(bigLength))
        #expect(corrupt.payload == (try Self.bytes(segment, bigStart..<(bigStart + (64 << 10)))))
        #expect(corrupt.receivedAt == time.wall)
        #expect(reader.corruptRecords == 1)

        // Re-reading after a rewind hands the damage out again but does not count it twice.
        reader.rewind()
        #expect(try Support.drain(reader).map(\.isCorrupt) == [false, true, false])
        #expect(spool.corruptRecords == 1)
    }

    @Test func aTornTailIsCutAndSavedWhileDamageBeforeItIsKept() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.writeFrames(6, to: directory)
        let segment = Support.segmentPath(directory, 1)
        try Self.xor(segment, at: 2 * Self.recordBytes + 20, with: [0x80])
        // A crash in the middle of a seventh write: a header promising 40 bytes and three of them.
        let torn: [UInt8] = [40, 0, 0, 0, 0xAA, 0xBB, 0xCC, 0xDD, 1, 2, 3]
        let handle = try #require(FileHandle(forWritingAtPath: segment))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(torn))
        try handle.close()

        let spool = try FrameSpool(directory: directory)
        #expect(spool.discardedTornRecords == 1)
        #expect(spool.damagedRangesAtOpen == 1)
        #expect(try Support.fileSize(segment) == 6 * Self.recordBytes)
        let savedPath = segment + ".torn-\(6 * Self.recordBytes)"
        #expect(FileManager.default.contents(atPath: savedPath) == Data(torn))

        let records = try Support.drain(spool.makeReader())
        #expect(records.map(\.isCorrupt) == [false, false, true, false, false, false])
        #expect(records.filter { !$0.isCorrupt }.map { $0.payload[0] } == [0, 1, 3, 4, 5])
    }
}
