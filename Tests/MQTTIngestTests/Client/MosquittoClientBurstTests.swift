import Dispatch
import Foundation
import Logging
import Synchronization
import Testing

@testable import MQTTIngest

/// The group-commit loop reads everything the socket holds before it commits, also after libmosquitto's internal
/// wake-up socket pair has filled (which leaves EAGAIN in `errno` after every handled packet).
@Suite(
    .enabled(if: ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] != nil),
    .serialized,
    .timeLimit(.minutes(1))
)
struct MosquittoClientBurstTests {
    let port = Int(ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] ?? "") ?? 1883

    /// Counts commits and can hold the next one until released.
    final class CommitGate: Sendable {
        let commits = Atomic<Int>(0)
        let messages = Atomic<Int>(0)
        private let isArmed = Atomic<Bool>(false)
        let entered = DispatchSemaphore(value: 0)
        private let release = DispatchSemaphore(value: 0)

        func arm() { isArmed.store(true, ordering: .sequentiallyConsistent) }
        func open() {
            isArmed.store(false, ordering: .sequentiallyConsistent)
            release.signal()
        }

        func commit() -> Bool {
            if isArmed.load(ordering: .sequentiallyConsistent) {
                entered.signal()
                release.wait()
            }
            commits.add(1, ordering: .sequentiallyConsistent)
            return true
        }
    }

    func waitFor(_ condition: () -> Bool, seconds: Int = 20) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(seconds))
        while !condition(), clock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func oneBurstTakesEverythingQueuedAfterTheWakeUpPairFilled() async throws {
        let prefix = MQTTTestSupport.uniqueName("burst")
        let gate = CommitGate()
        var options = MQTTTestSupport.options(port: self.port, clientID: "\(prefix)-gw")
        options.cleanStart = true
        options.sessionExpirySeconds = 0
        options.receiveMaximum = 1000
        let subscriber = try MosquittoClient(
            options: options,
            subscriptions: [MQTTSubscription(filter: "\(prefix)/#", qos: .atLeastOnce)],
            logger: MQTTTestSupport.logger,
            onMessage: { _ in gate.messages.add(1, ordering: .sequentiallyConsistent) },
            commitBeforeAcknowledging: { gate.commit() }
        )
        let publisher = try MQTTTestSupport.publisher(port: self.port, clientID: "\(prefix)-pub")
        subscriber.start()
        publisher.start()
        defer {
            gate.open()
            subscriber.stop()
            publisher.stop()
        }
        #expect(await subscriber.waitUntilConnected(timeout: .seconds(10)))
        #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))
        let payload: [UInt8] = Array(repeating: 0x5A, count: 40)

        // Far more PUBACKs than the wake-up pair holds (a few hundred one-byte writes on Linux).
        let warmUp = 1000
        for index in 0..<warmUp {
            try payload.withUnsafeBytes { try publisher.publish(topic: "\(prefix)/m/\(index % 7)", payload: $0) }
            if index % 100 == 99 {
                try await waitFor { publisher.statistics.publishAcks > index - 100 }
            }
        }
        try await waitFor { gate.messages.load(ordering: .sequentiallyConsistent) == warmUp }
        #expect(gate.messages.load(ordering: .sequentiallyConsistent) == warmUp)
        try await waitFor { subscriber.statistics.messagesReceived == warmUp }

        // Hold the next commit, let the broker fill the subscriber's socket, then release it.
        gate.arm()
        try payload.withUnsafeBytes { try publisher.publish(topic: "\(prefix)/first", payload: $0) }
        try await waitFor { gate.entered.wait(timeout: .now()) == .success }
        let commitsBefore = gate.commits.load(ordering: .sequentiallyConsistent)
        let queued = 300
        for index in 0..<queued {
            try payload.withUnsafeBytes { try publisher.publish(topic: "\(prefix)/q/\(index % 7)", payload: $0) }
        }
        // The broker acknowledges the publisher on receipt and forwards at once (receive maximum 1000).
        try await waitFor { publisher.statistics.publishAcks >= warmUp + 1 + queued }
        try await Task.sleep(for: .milliseconds(300))
        #expect(gate.messages.load(ordering: .sequentiallyConsistent) == warmUp + 1, "nothing read while committing")
        gate.open()
        try await waitFor { gate.messages.load(ordering: .sequentiallyConsistent) == warmUp + 1 + queued }
        #expect(gate.messages.load(ordering: .sequentiallyConsistent) == warmUp + 1 + queued)
        // The held commit, then the queued messages in a few bursts: not one commit per message.
        let commits = gate.commits.load(ordering: .sequentiallyConsistent) - commitsBefore
        #expect(commits <= 10, "\(queued) queued messages took \(commits) commits")
    }
}
