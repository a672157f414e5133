internal import CMosquitto
import Synchronization

/// One `publishAndWait` call waiting for libmosquitto's `on_publish` for its message id.
///
/// The outcome can arrive before the caller suspends (the broker is fast) and cancellation can arrive
/// at any time; the first resolution wins and the continuation is resumed exactly once.
final class MQTTPublishAckWaiter: Sendable {
    private enum State {
        case idle
        case suspended(CheckedContinuation<Void, any Error>)
        case resolved(Result<Void, any Error>)
        case done
    }

    private let state = Mutex<State>(.idle)

    /// Suspends until ``resolve(_:)`` is called or the task is cancelled.
    func wait() async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let early: Result<Void, any Error>? = self.state.withLock { state in
                    switch state {
                    case .idle:
                        state = .suspended(continuation)
                        return nil
                    case .resolved(let result):
                        state = .done
                        return result
                    case .suspended, .done:
                        preconditionFailure("MQTTPublishAckWaiter.wait() called more than once")
                    }
                }
                if let early {
                    continuation.resume(with: early)
                }
            }
        } onCancel: {
            self.resolve(.failure(CancellationError()))
        }
    }

    /// Delivers the outcome; later calls are ignored.
    func resolve(_ result: Result<Void, any Error>) {
        let continuation: CheckedContinuation<Void, any Error>? = self.state.withLock { state in
            switch state {
            case .idle:
                state = .resolved(result)
                return nil
            case .suspended(let continuation):
                state = .done
                return continuation
            case .resolved, .done:
                return nil
            }
        }
        continuation?.resume(with: result)
    }
}

/// Maps message ids to ``MQTTPublishAckWaiter``s.
///
/// Race handled here: the broker's PUBACK can be processed on the network thread before the publishing
/// thread has learnt the message id from `mosquitto_publish` and attached its waiter. While any
/// registration is in progress, acknowledgements without a waiter are parked in `unclaimed`; the set is
/// emptied as soon as no registration is in progress, so it stays bounded by publish concurrency.
final class MQTTPublishAckRegistry: Sendable {
    private struct State {
        var waiters: [Int32: MQTTPublishAckWaiter] = [:]
        var registrationsInProgress = 0
        var unclaimed: [Int32: Int32] = [:]
    }

    private let state = Mutex(State())

    /// Call before `mosquitto_publish` of a message whose acknowledgement will be awaited.
    func beginRegistration() {
        self.state.withLock { $0.registrationsInProgress += 1 }
    }

    /// Call when the publish failed after ``beginRegistration()``.
    func abandonRegistration() {
        self.state.withLock { state in
            state.registrationsInProgress -= 1
            if state.registrationsInProgress == 0 {
                state.unclaimed.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Ends a registration by attaching `waiter` to `mid`; resolves it at once if the ack already came.
    func attach(_ waiter: MQTTPublishAckWaiter, to mid: Int32) {
        let early: Int32? = self.state.withLock { state in
            state.registrationsInProgress -= 1
            let reason = state.unclaimed.removeValue(forKey: mid)
            if reason == nil {
                state.waiters[mid] = waiter
            }
            if state.registrationsInProgress == 0 {
                state.unclaimed.removeAll(keepingCapacity: true)
            }
            return reason
        }
        if let early {
            waiter.resolve(Self.result(mid: mid, reasonCode: early))
        }
    }

    /// Removes `waiter` if it is still attached to `mid` (after a timeout or cancellation).
    func detach(_ waiter: MQTTPublishAckWaiter, from mid: Int32) {
        self.state.withLock { state in
            if let current = state.waiters[mid], current === waiter {
                state.waiters[mid] = nil
            }
        }
    }

    /// Called from libmosquitto's `on_publish` on the network thread.
    func complete(mid: Int32, reasonCode: Int32) {
        let waiter: MQTTPublishAckWaiter? = self.state.withLock { state in
            if let waiter = state.waiters.removeValue(forKey: mid) {
                return waiter
            }
            if state.registrationsInProgress > 0 {
                state.unclaimed[mid] = reasonCode
            }
            return nil
        }
        waiter?.resolve(Self.result(mid: mid, reasonCode: reasonCode))
    }

    /// Fails every attached waiter, e.g. when the client stops.
    func failAll(_ error: MQTTError) {
        let waiters = self.state.withLock { state in
            let waiters = Array(state.waiters.values)
            state.waiters.removeAll()
            return waiters
        }
        for waiter in waiters {
            waiter.resolve(.failure(error))
        }
    }

    static func result(mid: Int32, reasonCode: Int32) -> Result<Void, any Error> {
        // MQTT v5: reason codes below 0x80 (0 success, 0x10 no matching subscribers) are successes.
        if reasonCode < 0x80 {
            return .success(())
        }
        let reason = String(cString: mosquitto_reason_string(reasonCode))
        return .failure(
            MQTTError(
                .publishRejected,
                "broker rejected publish of message \(mid): \(reason)",
                libraryCode: Int(reasonCode)
            )
        )
    }
}
