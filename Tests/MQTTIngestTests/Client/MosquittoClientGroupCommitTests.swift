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

/// Holds a subscriber's next commit for a fixed time on the network thread (timed there, so how long it holds does
/// not depend on when the test's task runs) and counts its commits.
final class CommitHold: Sendable {
    private let nextHoldMilliseconds = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)

    /// Makes the next commit wait `milliseconds` before it writes.
    func holdNext(milliseconds: Int) { nextHoldMilliseconds.store(milliseconds, ordering: .sequentiallyConsistent) }
    /// How many commits returned.
    var commits: Int { finished.load(ordering: .sequentiallyConsistent) }

    func commit(_ body: () -> Bool) -> Bool {
        let hold = nextHoldMilliseconds.exchange(0, ordering: .sequentiallyConsistent)
        if hold > 0 { usleep(UInt32(hold) * 1000) }
        defer { finished.add(1, ordering: .sequentiallyConsistent) }
        return body()
    }
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
    ///
    /// By default its keep-alive (60 s; the broker drops it after 90 s of silence) outlasts the suite's time limit, so
    /// a test task the loaded cooperative pool runs late cannot make the broker drop the connection while a commit is
    /// held (a clean session would then lose the queued message: that starvation, not the client, failed this test in
    /// CI). `persistentSession` gives it the gateway's kind of session, which survives a dropped connection.
    func makeSpoolingSubscriber(
        prefix: String,
        spool: FrameSpool,
        keepAliveSeconds: Int = 60,
        persistentSession: Bool = false,
        hold: CommitHold = CommitHold()
    ) throws -> MosquittoClient {
        let writer = spool.writer
        var options = MQTTTestSupport.options(port: self.port, clientID: "\(prefix)-gw")
        options.keepAliveSeconds = keepAliveSeconds
        options.cleanStart = !persistentSession
        options.sessionExpirySeconds = persistentSession ? 300 : 0
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
                hold.commit {
                    do {
                        try writer.commitStaged()
                        return true
                    } catch {
                        return false
                    }
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
        let spool = try FrameSpool(
            directory: directory,
            options: SpoolOptions(),
            operations: operations,
            clock: .system
        )
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
        #expect(subscriber.statistics.disconnects == 0, "the connection outlived the held commit")
    }

    /// A commit held longer than the broker waits for a keep-alive (1.5 × 5 s) loses the connection: the network thread
    /// is in `fdatasync` and sends no PINGREQ. Nothing is lost with the gateway's persistent session: the held message
    /// is committed, its PUBACK dies with the connection, and on reconnect the broker sends it again (a duplicate the
    /// pipeline's frame identity drops) and then the one it queued meanwhile.
    @Test func aCommitOutlastingTheKeepAliveLosesTheConnectionButNoMessage() async throws {
        let prefix = MQTTTestSupport.uniqueName("slowcommit")
        let directory = SpoolTestSupport.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try FrameSpool(
            directory: directory,
            options: SpoolOptions(),
            operations: PosixSpoolFileOperations(),
            clock: .system
        )
        let hold = CommitHold()
        let subscriber = try makeSpoolingSubscriber(
            prefix: prefix,
            spool: spool,
            keepAliveSeconds: 5,
            persistentSession: true,
            hold: hold
        )
        let publisher = try MQTTTestSupport.publisher(port: self.port, clientID: "\(prefix)-pub")
        subscriber.start()
        publisher.start()
        defer {
            subscriber.stop()
            publisher.stop()
        }
        #expect(await subscriber.waitUntilConnected(timeout: .seconds(10)))
        #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))
        try await publisher.publishAndWait(topic: "\(prefix)/m/1", payload: [1], qos: .atLeastOnce)
        try await waitFor { hold.commits >= 1 }

        // The next commit (the second message's) holds the network thread for 12 s: longer than the broker's 7.5 s.
        hold.holdNext(milliseconds: 12_000)
        try await publisher.publishAndWait(topic: "\(prefix)/m/2", payload: [2], qos: .atLeastOnce)
        try await publisher.publishAndWait(topic: "\(prefix)/m/3", payload: [3], qos: .atLeastOnce)
        try await waitFor(seconds: 45) { subscriber.statistics.connects >= 2 }
        try await waitFor(seconds: 30) {
            spool.writer.stagedRecords == 0
                && (try? SpoolTestSupport.drain(spool.makeReader()).contains { $0.payload == [3] }) == true
        }
        #expect(subscriber.statistics.disconnects >= 1, "the broker dropped the silent connection")
        #expect(subscriber.statistics.connects >= 2, "the client reconnected")
        let payloads = try SpoolTestSupport.drain(spool.makeReader()).map(\.payload)
        #expect(payloads.first == [1])
        #expect(Set(payloads) == [[1], [2], [3]], "every message stored, the held one possibly twice")
        #expect(payloads.filter { $0 == [3] }.count == 1, "the queued message came once")
    }

    @Test func aFailingCommitHoldsTheAcknowledgementsUntilTheSpoolRecovers() async throws {
        let prefix = MQTTTestSupport.uniqueName("heldcommit")
        let directory = SpoolTestSupport.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operations = FaultyFileOperations()
        let spool = try FrameSpool(
            directory: directory,
            options: SpoolOptions(),
            operations: operations,
            clock: .system
        )
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
