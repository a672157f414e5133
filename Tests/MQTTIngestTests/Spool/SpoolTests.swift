import Foundation
import GatewayCore
import MQTTIngest
import Synchronization
import Testing

@Suite struct SpoolTests {
    private func makeDirectory() -> String {
        let path = NSTemporaryDirectory() + "spool-test-" + UUID().uuidString
        return path
    }

    private func append(_ writer: SpoolWriter, topic: String, payload: [UInt8], at micros: Int64) throws {
        var topicBytes = Array(topic.utf8)
        try topicBytes.withUnsafeMutableBytes { topicRaw in
            try payload.withUnsafeBytes { payloadRaw in
                try writer.append(
                    topic: UnsafeRawBufferPointer(topicRaw),
                    payload: payloadRaw,
                    receivedAt: Timestamp(microsecondsSinceEpoch: micros)
                )
            }
        }
    }

    private func drain(_ reader: SpoolReader) throws -> [(String, [UInt8], Int64)] {
        var out: [(String, [UInt8], Int64)] = []
        while try reader.read(
            maxRecords: 7,
            { out.append(($0.topicString, Array($0.payload), $0.receivedAt.microsecondsSinceEpoch)) }
        ) > 0 {}
        return out
    }

    @Test func readsBackEveryRecordInOrderWithItsReceiveTime() throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try FrameSpool(directory: directory)
        for index in 0..<100 {
            try append(
                spool.writer,
                topic: "gm/v1/up/native/\(index)",
                payload: [UInt8(index), 0xFF, 0],
                at: Int64(index)
            )
        }
        let reader = spool.makeReader()
        let records = try drain(reader)
        #expect(records.count == 100)
        for (index, record) in records.enumerated() {
            #expect(record.0 == "gm/v1/up/native/\(index)")
            #expect(record.1 == [UInt8(index), 0xFF, 0])
            #expect(record.2 == Int64(index))
        }
        #expect(spool.backlogBytes > 0)
        try reader.commit()
        #expect(spool.backlogBytes == 0)
    }

    @Test func aReadStopsAfterTheRecordItsBodyEndsWithAndTheNextReadGoesOn() throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try FrameSpool(directory: directory)
        for index in 0..<10 {
            try append(spool.writer, topic: "gm/v1/up/native/\(index)", payload: [UInt8(index)], at: Int64(index))
        }
        let reader = spool.makeReader()
        var seen: [UInt8] = []
        // Ends after the record with payload 3: four records handed out, the rest stays for the next read.
        let first = try reader.read(
            maxRecords: 100,
            until: { record in
                seen.append(record.payload[0])
                return record.payload[0] == 3
            }
        )
        #expect(first == 4)
        #expect(seen == [0, 1, 2, 3])
        let second = try reader.read(
            maxRecords: 100,
            until: { record in
                seen.append(record.payload[0])
                return false
            }
        )
        #expect(second == 6)
        #expect(seen == Array(0..<10))
        // A rewind goes back to the last commit: everything is handed out again, in order.
        reader.rewind()
        #expect(try drain(reader).map { $0.1[0] } == Array(0..<10))
    }

    @Test func replaysEverythingAfterTheCheckpointOnReopen() throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let spool = try FrameSpool(directory: directory)
            for index in 0..<10 { try append(spool.writer, topic: "t", payload: [UInt8(index)], at: 1) }
            let reader = spool.makeReader()
            // Commit the first four only, as if the database commit covered just them.
            try reader.read(maxRecords: 4) { _ in }
            try reader.commit()
            // Read the rest but crash before their commit.
            _ = try drain(reader)
        }
        let reopened = try FrameSpool(directory: directory)
        #expect(reopened.replayBytes > 0)
        let replayed = try drain(reopened.makeReader())
        #expect(replayed.map { $0.1[0] } == [4, 5, 6, 7, 8, 9])
    }

    @Test func cutsATornTailAndKeepsTheRecordsBeforeIt() throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let spool = try FrameSpool(directory: directory)
            for index in 0..<3 { try append(spool.writer, topic: "t", payload: [UInt8(index), 1, 2, 3], at: 1) }
        }
        // Simulate an operating-system crash in the middle of the fourth write: a header and half a body.
        let segment = directory + "/0000000000000001.spool"
        let handle = try #require(FileHandle(forWritingAtPath: segment))
        handle.seekToEndOfFile()
        handle.write(Data([40, 0, 0, 0, 0xAA, 0xBB, 0xCC, 0xDD, 1, 2, 3]))
        handle.closeFile()

        let reopened = try FrameSpool(directory: directory)
        #expect(reopened.discardedTornRecords == 1)
        let records = try drain(reopened.makeReader())
        #expect(records.map { $0.1[0] } == [0, 1, 2])
        let saved = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".torn-") }
        #expect(saved.count == 1)
    }

    @Test func followsTheWriterAcrossSegmentsAndDeletesCommittedOnes() throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try FrameSpool(directory: directory, options: SpoolOptions(segmentBytes: 200))
        let reader = spool.makeReader()
        var seen: [UInt8] = []
        for index in 0..<50 {
            try append(spool.writer, topic: "topic", payload: [UInt8(index)] + [UInt8](repeating: 7, count: 20), at: 1)
            if index % 9 == 0 { seen += try drain(reader).map { $0.1[0] } }
        }
        seen += try drain(reader).map { $0.1[0] }
        #expect(seen == (0..<50).map(UInt8.init))
        try reader.commit()
        let segments = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".spool") }
        #expect(segments.count == 1, "only the active segment remains after a full commit: \(segments)")
    }

    @Test func aRecordLargerThanTheReadBufferIsDeliveredWhole() throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try FrameSpool(directory: directory)
        let big = [UInt8](repeating: 0x5A, count: 3 << 20)
        try append(spool.writer, topic: "big", payload: big, at: 1)
        try append(spool.writer, topic: "small", payload: [1], at: 2)
        let records = try drain(spool.makeReader())
        #expect(records.count == 2)
        #expect(records[0].1 == big)
        #expect(records[1].0 == "small")
    }

    // Until the fail-closed work, a malformed checkpoint stopped the gateway at start. Now the spool opens, replays
    // from its oldest segment (downstream writes are idempotent) and says why, so the app can log it.
    @Test func aMalformedCheckpointReplaysFromTheOldestSegmentAndSaysWhy() throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let spool = try FrameSpool(directory: directory)
            for index in 0..<3 { try append(spool.writer, topic: "t", payload: [UInt8(index)], at: 1) }
            let reader = spool.makeReader()
            try reader.read(maxRecords: 2) { _ in }
            try reader.commit()
        }
        try "garbage".write(toFile: directory + "/checkpoint", atomically: true, encoding: .utf8)
        let reopened = try FrameSpool(directory: directory)
        #expect(reopened.checkpointWasUnreadable)
        #expect(reopened.checkpointProblem?.contains("malformed") == true)
        #expect(reopened.checkpoint == SpoolPosition(segment: 1, offset: 0))
        #expect(try drain(reopened.makeReader()).map { $0.1[0] } == [0, 1, 2])
    }

    @Test func waitingEndsAtTheTimeoutOrAtOnceWhenAFrameArrives() async throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try FrameSpool(directory: directory)
        let clock = ContinuousClock()
        let quiet = await clock.measure { await spool.waitForAppend(timeout: .milliseconds(100)) }
        #expect(quiet >= .milliseconds(90))
        // The append comes from a thread of its own 50 ms in, so it does not depend on the cooperative pool that
        // tests running in parallel share; the wait's timeout is far above any scheduling delay of a loaded machine.
        let writer = spool.writer
        let appender = Thread {
            Thread.sleep(forTimeInterval: 0.05)
            try? [UInt8(1)].withUnsafeBytes { payload in
                try Array("t".utf8).withUnsafeBytes { topic in
                    try writer.append(topic: topic, payload: payload, receivedAt: Timestamp(microsecondsSinceEpoch: 0))
                }
            }
        }
        appender.start()
        let woken = await clock.measure { await spool.waitForAppend(timeout: .seconds(120)) }
        #expect(woken < .seconds(60), "an append ends the wait long before the timeout")
        #expect(try drain(spool.makeReader()).count == 1, "the append the wait ended on is there")
    }

    /// The doorbell's one timer: a wait ended by a ring leaves the timer set to its deadline, which must neither end
    /// a later, longer wait early (no spurious wake-up) nor keep a later, shorter wait past its own timeout.
    @Test func aWaitEndsByItsOwnTimeoutWhateverTheWaitsBeforeItSetTheTimerTo() async throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try FrameSpool(directory: directory)
        let clock = ContinuousClock()
        /// Waits with `timeout` while another thread rings after `ringAfter` seconds (nil: nobody rings).
        func wait(_ timeout: Duration, ringAfter: Double? = nil) async -> Duration {
            if let ringAfter {
                Thread {
                    Thread.sleep(forTimeInterval: ringAfter)
                    spool.wakeReader()
                }.start()
            }
            return await clock.measure { await spool.waitForAppend(timeout: timeout) }
        }
        // A 50 ms wait ended by a ring at once; its deadline passes during the next, 400 ms wait, which goes on.
        #expect(await wait(.milliseconds(50), ringAfter: 0.005) < .seconds(30))
        #expect(await wait(.milliseconds(400)) >= .milliseconds(390))
        // A 60 s wait ended by a ring leaves the timer a minute out; a 100 ms wait after it still ends on time.
        #expect(await wait(.seconds(60), ringAfter: 0.02) < .seconds(30))
        let short = await wait(.milliseconds(100))
        #expect(short >= .milliseconds(90) && short < .seconds(30))
        // Many waits ended by rings, then a quiet one: it ends by its timeout.
        for _ in 0..<20 { _ = await wait(.seconds(60), ringAfter: 0.001) }
        let quiet = await wait(.milliseconds(150))
        #expect(quiet >= .milliseconds(140) && quiet < .seconds(30))
    }

    @Test func appendBlocksWhileTheBacklogIsFullAndResumesAfterACommit() async throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try FrameSpool(directory: directory, options: SpoolOptions(maxBacklogBytes: 1000))
        let writer = spool.writer
        let payload = [UInt8](repeating: 0xAB, count: 400)
        let appended = Atomic<Int>(0)
        let producer = Thread {
            for _ in 0..<6 {
                try? payload.withUnsafeBytes { bytes in
                    try Array("t".utf8).withUnsafeBytes { topic in
                        try writer.append(
                            topic: topic,
                            payload: bytes,
                            receivedAt: Timestamp(microsecondsSinceEpoch: 0)
                        )
                    }
                }
                appended.add(1, ordering: .relaxed)
            }
        }
        producer.start()
        try await Task.sleep(for: .milliseconds(300))
        // Three records (≈1.2 KB) exceed the 1,000-byte limit: the fourth append waits.
        #expect(appended.load(ordering: .relaxed) == 3)
        let reader = spool.makeReader()
        try reader.read(maxRecords: 10) { _ in }
        try reader.commit()
        let deadline = ContinuousClock.now + .seconds(5)
        while appended.load(ordering: .relaxed) < 6 && ContinuousClock.now < deadline {
            try reader.read(maxRecords: 10) { _ in }
            try reader.commit()
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(appended.load(ordering: .relaxed) == 6)
        #expect(spool.writer.backpressureMilliseconds > 0)
    }
}
