extension MosquittoClient {
    /// How ``publishAllAndWait(_:qos:timeout:)`` ended.
    public struct PublishAllOutcome: Sendable {
        /// How many messages, counted from the first, libmosquitto reported delivered (the broker's PUBACK at
        /// QoS 1). Later messages may have been delivered too; the caller treats them as not delivered.
        public var acknowledged: Int
        /// Why the rest were not confirmed (a publish error, a rejected or timed-out message, cancellation), or nil
        /// when every message was acknowledged.
        public var error: (any Error)?
    }

    /// Publishes messages in order and waits until libmosquitto reports them delivered, all in flight together:
    /// a page of N messages costs about one broker round trip instead of N (as with ``publishAndWait(topic:
    /// payload:qos:retain:timeout:)`` called once per message). The messages leave in the given order on this one
    /// connection.
    ///
    /// Publishing stops at the first message that cannot be queued (e.g. disconnected); the wait stops at the first
    /// message that is rejected, at `timeout` for the whole page, or at cancellation. Never throws: the outcome
    /// says how long the acknowledged prefix is and why it ended there.
    /// - Parameters:
    ///   - messages: Topic and payload of each message, in publishing order.
    ///   - qos: The QoS of every message (default ``MQTTQoS/atLeastOnce``).
    ///   - timeout: The longest time to wait for all acknowledgements (default 10 s).
    /// - Returns: The acknowledged prefix and the error that ended it, if any.
    public func publishAllAndWait(
        _ messages: [(topic: String, payload: [UInt8])],
        qos: MQTTQoS = .atLeastOnce,
        timeout: Duration = .seconds(10)
    ) async -> PublishAllOutcome {
        let registry = self.core.context.acks
        var attached: [(mid: Int32, waiter: MQTTPublishAckWaiter)] = []
        var publishError: (any Error)?
        for message in messages {
            do {
                attached.append(
                    try self.publishAwaitingAcknowledgement(
                        topic: message.topic,
                        bytes: message.payload,
                        qos: qos,
                        retain: false
                    )
                )
            } catch {
                publishError = error
                break
            }
        }
        defer { for (mid, waiter) in attached { registry.detach(waiter, from: mid) } }
        let waiters = attached.map(\.waiter)
        let waited = await Self.waitInOrder(waiters, timeout: timeout)
        return PublishAllOutcome(acknowledged: waited.acknowledged, error: waited.error ?? publishError)
    }

    private enum WaitOutcome: Sendable {
        case waited(acknowledged: Int, error: (any Error)?)
        case timedOut
    }

    /// Waits for each waiter in order until one fails, `timeout` passes or the task is cancelled.
    private static func waitInOrder(
        _ waiters: [MQTTPublishAckWaiter],
        timeout: Duration
    ) async -> (acknowledged: Int, error: (any Error)?) {
        guard !waiters.isEmpty else { return (0, nil) }
        return await withTaskGroup(of: WaitOutcome.self) { group in
            group.addTask {
                var acknowledged = 0
                for waiter in waiters {
                    do {
                        try await waiter.wait()
                    } catch {
                        return .waited(acknowledged: acknowledged, error: error)
                    }
                    acknowledged += 1
                }
                return .waited(acknowledged: acknowledged, error: nil)
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return .timedOut
            }
            var timedOut = false
            while let outcome = await group.next() {
                switch outcome {
                case .timedOut:
                    // Also the sleeper's answer when it is cancelled after the waits ended; then it comes second.
                    timedOut = true
                    group.cancelAll()
                case .waited(let acknowledged, let error):
                    group.cancelAll()
                    guard timedOut, acknowledged < waiters.count else { return (acknowledged, error) }
                    let missing = waiters.count - acknowledged
                    let error = MQTTError(.timedOut, "no acknowledgement for \(missing) messages within \(timeout)")
                    return (acknowledged, error)
                }
            }
            return (0, nil)
        }
    }
}
