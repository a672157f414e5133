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
    /// How many `fdatasync` calls returned.
    var syncs: Int { completed.load(ordering: .sequentiallyConsistent) }
    private let completed = Atomic<Int>(0)

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
        defer { completed.add(1, ordering: .sequentiallyConsistent) }
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
///
/// The broker's acknowledgement to the publisher says nothing about the subscriber's, so the subscriber's PUBACK is
/// observed through the broker's flow control instead: the subscriber connects with receive maximum 1, so the broker
/// sends the second message only after the subscriber acknowledged the first.
@Suite(
    .enabled(if: ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] != nil),
    .serialized,
    .timeLimit(.minutes(1))
)
struct MosquittoClientGroupCommitTests {
    let port = Int(ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] ?? "") ?? 1883

    /// A subscriber (receive maximum 1) that stages every message in `spool` and commits before acknowledging.
    func makeSpoolingSubscriber(prefix: String, spool: FrameSpool) throws -> MosquittoClient {
        let writer = spool.writer
        var options = MQTTTestSupport.options(port: self.port, clientID: "\(prefix)-gw")
        options.cleanStart = true
        options.sessionExpirySeconds = 0
        options.receiveMaximum = 1
        return try MosquittoClient(
            options: options,
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

    func waitFor(seconds: Int = 10, _ condition: () -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(seconds))
        while !condition(), clock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
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

        // Unblocked: the first message is stored and acknowledged, so the broker sends the second.
        try await publisher.publishAndWait(topic: "\(prefix)/m/1", payload: [1], qos: .atLeastOnce)
        try await publisher.publishAndWait(topic: "\(prefix)/m/2", payload: [2], qos: .atLeastOnce)
        try await waitFor { subscriber.statistics.messagesReceived == 2 }
        #expect(subscriber.statistics.messagesReceived == 2)

        // Blocked in fdatasync: the third message is staged, its PUBACK is held, so the fourth stays at the broker.
        operations.blockSyncs()
        try await publisher.publishAndWait(topic: "\(prefix)/m/3", payload: [3], qos: .atLeastOnce)
        try await publisher.publishAndWait(topic: "\(prefix)/m/4", payload: [4], qos: .atLeastOnce)
        try await waitFor { operations.blockedSyncs >= 1 }
        #expect(operations.blockedSyncs >= 1, "the third message was delivered and its batch reached fdatasync")
        try await Task.sleep(for: .milliseconds(500))
        #expect(subscriber.statistics.messagesReceived == 3, "no PUBACK while the frame's fdatasync blocks")

        // Released: the PUBACK follows the sync, and the broker sends the fourth.
        operations.releaseSyncs()
        try await waitFor { subscriber.statistics.messagesReceived == 4 }
        #expect(subscriber.statistics.messagesReceived == 4, "the PUBACK follows once the batch is durable")
        try await waitFor { spool.writer.stagedRecords == 0 && operations.syncs >= 4 }
        let records = try SpoolTestSupport.drain(spool.makeReader())
        #expect(records.map(\.payload) == [[1], [2], [3], [4]])
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

        // The disk refuses every write until the test lets it recover (the commit is retried every 500 ms).
        for _ in 0..<10_000 { operations.failNextWrite(errno: ENOSPC) }
        try await publisher.publishAndWait(topic: "\(prefix)/m/1", payload: [1], qos: .atLeastOnce)
        try await publisher.publishAndWait(topic: "\(prefix)/m/2", payload: [2], qos: .atLeastOnce)
        try await waitFor { spool.writer.failedWrites >= 3 }
        #expect(spool.writer.failure?.code == .writeFailed)
        #expect(spool.writer.failedWrites >= 3, "the commit was retried")
        #expect(subscriber.statistics.messagesReceived == 1, "no PUBACK while the spool refuses the frame")

        operations.clearWriteFaults()
        try await waitFor(seconds: 30) { subscriber.statistics.messagesReceived == 2 }
        #expect(subscriber.statistics.messagesReceived == 2, "acknowledged once the retried commit succeeded")
        try await waitFor { spool.writer.stagedRecords == 0 && spool.writer.failure == nil }
        #expect(spool.writer.failure == nil)
        #expect(try SpoolTestSupport.drain(spool.makeReader()).map(\.payload) == [[1], [2]])
    }
}
