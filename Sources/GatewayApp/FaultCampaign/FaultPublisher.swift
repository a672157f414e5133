import Foundation
import GatewayCore
import Logging
import MQTTIngest
import Synchronization

/// One payload to publish, with the record entry it belongs to.
struct OutgoingFrame: Sendable {
    /// The record entry (its counts are filled in while publishing).
    var frame: SentFrame
    /// The bytes to publish.
    var payload: [UInt8]
    /// Publish with the retain flag.
    var retain = false
}

/// Publishes campaign frames at QoS 1 with a bounded number in flight, and records every delivery and every
/// broker acknowledgement (PUBACK). Thread-safe: the record is behind a mutex.
final class FaultPublisher: Sendable {
    private struct Entries {
        var byKey: [String: SentFrame] = [:]
        var order: [String] = []
    }

    private let client: MosquittoClient
    private let entries = Mutex(Entries())

    /// Connects a publish-only client.
    /// - Parameters:
    ///   - options: The broker connection (clean start, the fleet's own client id).
    ///   - logger: Logger for connection events.
    /// - Throws: ``FaultCampaignError`` when the broker cannot be reached within 15 s.
    init(options: MQTTConnectionOptions, logger: Logger) async throws {
        client = try MosquittoClient(options: options, subscriptions: [], logger: logger, onMessage: { _ in })
        client.start()
        guard await client.waitUntilConnected(timeout: .seconds(15)) else {
            await client.stop()
            throw FaultCampaignError("could not connect to the broker at \(options.host):\(options.port)")
        }
    }

    /// Publishes `items` in order, `ratePerSecond` per second (0: as fast as `concurrency` allows), each waiting up
    /// to 30 s for the broker's PUBACK, at most `concurrency` at once.
    func send(_ items: [OutgoingFrame], ratePerSecond: Double, concurrency: Int = 64) async {
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for (index, item) in items.enumerated() {
                if ratePerSecond > 0 {
                    let due = start + .seconds(Double(index) / ratePerSecond)
                    try? await Task.sleep(until: due, clock: .continuous)
                }
                if running >= concurrency {
                    await group.next()
                    running -= 1
                }
                running += 1
                let key = Self.key(item.frame)
                noteDelivery(item, key: key)
                let client = self.client
                group.addTask { [self] in
                    do {
                        try await client.publishAndWait(
                            topic: item.frame.topic,
                            payload: item.payload,
                            retain: item.retain,
                            timeout: .seconds(30)
                        )
                        confirm(key)
                    } catch {
                        // Not confirmed: the record says so; the checker never counts it as received by the broker.
                    }
                }
            }
        }
    }

    /// The record of everything sent so far, in first-sent order.
    func record(phase: Int) -> FaultRecord {
        entries.withLock { entries in
            FaultRecord(phase: phase, frames: entries.order.compactMap { entries.byKey[$0] })
        }
    }

    /// Disconnects after the outgoing queue is written.
    func stop() async { await client.stop() }

    private func noteDelivery(_ item: OutgoingFrame, key: String) {
        let now = Date().timeIntervalSince1970
        entries.withLock { entries in
            if var existing = entries.byKey[key] {
                existing.deliveries += 1
                existing.lastSentAt = now
                existing.retained = existing.retained || item.retain
                entries.byKey[key] = existing
            } else {
                var frame = item.frame
                frame.deliveries = 1
                frame.confirmed = 0
                frame.retained = item.retain
                frame.firstSentAt = now
                frame.lastSentAt = now
                entries.byKey[key] = frame
                entries.order.append(key)
            }
        }
    }

    private func confirm(_ key: String) {
        entries.withLock { $0.byKey[key]?.confirmed += 1 }
    }

    private static func key(_ frame: SentFrame) -> String { "\(frame.topic)|\(frame.size)|\(frame.hex)" }
}

/// A fault-campaign failure with a message for the operator.
struct FaultCampaignError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
