import Dispatch
import Foundation
import GatewayCore
import Logging
import Synchronization
import Testing

@testable import MQTTIngest

#if canImport(Glibc)
import Glibc
#endif

/// Real POSIX spool operations whose `fdatasync` can be made to block until released.
final class BlockingSyncFileOperations: SpoolFileOperations {
    private let real = PosixSpoolFileOperations()
    private let isArmed = Atomic<Bool>(false)
    private let entered = Atomic<Int>(0)
    private let release = DispatchSemaphore(value: 0)

    /// Makes every later `fdatasync` of a segment wait for ``releaseSyncs()``.
    func blockSyncs() { isArmed.store(true, ordering: .sequentiallyConsistent) }
    /// Lets every waiting and later `fdatasync` through.
    func releaseSyncs() {
        isArmed.store(false, ordering: .sequentiallyConsistent)
        release.signal()
    }
    /// How many `fdatasync` calls started blocking.
    var blockedSyncs: Int { entered.load(ordering: .sequentiallyConsistent) }

    func open(_ path: String, flags: Int32, mode: mode_t) -> Int { real.open(path, flags: flags, mode: mode) }
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int { real.write(fd, bytes) }
    func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int {
        real.pread(fd, buffer, at: offset)
    }
    func fdatasync(_ fd: Int32) -> Int {
        if isArmed.load(ordering: .sequentiallyConsistent) {
            entered.add(1, ordering: .sequentiallyConsistent)
            release.wait()
            release.signal()  // let the next blocked call through too
        }
        return real.fdatasync(fd)
    }
    func ftruncate(_ fd: Int32, to length: Int64) -> Int { real.ftruncate(fd, to: length) }
    func size(_ fd: Int32) -> Int64 { real.size(fd) }
    func close(_ fd: Int32) -> Int { real.close(fd) }
    func rename(_ from: String, to: String) -> Int { real.rename(from, to: to) }
    func unlink(_ path: String) -> Int { real.unlink(path) }
    func fsyncDirectory(_ path: String) -> Int { real.fsyncDirectory(path) }
}

/// The group-commit loop against the real broker: no PUBACK leaves before the commit covering its message returned.
@Suite(
    .enabled(if: ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] != nil),
    .serialized,
    .timeLimit(.minutes(1))
)
struct MosquittoClientGroupCommitTests {
    let port = Int(ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] ?? "") ?? 1883

    /// A subscriber that stages every message in `spool` and commits the batch before acknowledging.
    func makeSpoolingSubscriber(prefix: String, spool: FrameSpool) throws -> MosquittoClient {
        let writer = spool.writer
        return try MosquittoClient(
            options: MQTTTestSupport.options(port: self.port, clientID: "\(prefix)-gw"),
            subscriptions: [MQTTSubscription(filter: "\(prefix)/#", qos: .atLeastOnce)],
            logger: MQTTTestSupport.logger,
            onMessage: { message in
                writer.stage(
                    topic: message.topicUTF8,
                    payload: message.payload,
                    receivedAt: Timestamp(microsecondsSinceEpoch: 1)
                )
            },
            commitBeforeAcknowledging: {
                do {
                    try writer.commitStaged()
                    return true
                } catch {
                    return false
                }
            }
        )
    }

    @Test func noPubackLeavesWhileTheBatchFdatasyncBlocks() async throws {
        let prefix = MQTTTestSupport.uniqueName("groupcommit")
        let directory = SpoolTestSupport.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operations = BlockingSyncFileOperations()
        let spool = try FrameSpool(directory: directory, options: SpoolOptions(), operations: operations, clock: .system)
        let subscriber = try makeSpoolingSubscriber(prefix: prefix, spool: spool)
        let publisher = try MQTTTestSupport.publisher(port: self.port, clientID: "\(prefix)-pub")
        subscriber.start()
        publisher.start()
        defer {
            operations.releaseSyncs()
            subscriber.stop()
            publisher.stop()
        }
        #expect(await subscriber.waitUntilConnected(timeout: .seconds(10)))
        #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))

        // Unblocked: the publisher gets its PUBACK.
        try await publisher.publishAndWait(topic: "\(prefix)/m/1", payload: [1], qos: .atLeastOnce)

        operations.blockSyncs()
        let blocked = #expect(throws: MQTTError.self) {
            try await publisher.publishAndWait(
                topic: "\(prefix)/m/2",
                payload: [2],
                qos: .atLeastOnce,
                timeout: .seconds(2)
            )
        }
        #expect(blocked?.code == .timedOut, "no PUBACK while the frame's fdatasync blocks")
        #expect(operations.blockedSyncs >= 1, "the frame was delivered and its batch reached fdatasync")
        #expect(subscriber.statistics.messagesReceived == 2)
        #expect(publisher.statistics.publishAcks == 1)

        operations.releaseSyncs()
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(10))
        while publisher.statistics.publishAcks < 2, clock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(publisher.statistics.publishAcks == 2, "the PUBACK follows once the batch is durable")
        let records = try SpoolTestSupport.drain(spool.makeReader())
        #expect(records.map(\.payload) == [[1], [2]])
    }

    @Test func aFailingCommitHoldsTheAcknowledgementsUntilTheSpoolRecovers() async throws {
        let prefix = MQTTTestSupport.uniqueName("heldcommit")
        let directory = SpoolTestSupport.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operations = FaultyFileOperations()
        let spool = try FrameSpool(directory: directory, options: SpoolOptions(), operations: operations, clock: .system)
        let subscriber = try makeSpoolingSubscriber(prefix: prefix, spool: spool)
        let publisher = try MQTTTestSupport.publisher(port: self.port, clientID: "\(prefix)-pub")
        subscriber.start()
        publisher.start()
        defer {
            subscriber.stop()
            publisher.stop()
        }
        #expect(await subscriber.waitUntilConnected(timeout: .seconds(10)))
        #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))

        // Four failing writes: the first commit and three retries (500 ms apart) fail, then the disk "recovers".
        for _ in 0..<4 { operations.failNextWrite(errno: ENOSPC) }
        let held = #expect(throws: MQTTError.self) {
            try await publisher.publishAndWait(topic: "\(prefix)/m/1", payload: [1], qos: .atLeastOnce, timeout: .seconds(1))
        }
        #expect(held?.code == .timedOut, "no PUBACK while the spool refuses the frame")
        #expect(spool.writer.failure?.code == .writeFailed)
        #expect(publisher.statistics.publishAcks == 0)

        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(10))
        while publisher.statistics.publishAcks < 1, clock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(publisher.statistics.publishAcks == 1, "acknowledged once the retried commit succeeded")
        #expect(spool.writer.failure == nil)
        #expect(spool.writer.failedWrites >= 4)
        #expect(try SpoolTestSupport.drain(spool.makeReader()).map(\.payload) == [[1]])
    }
}
