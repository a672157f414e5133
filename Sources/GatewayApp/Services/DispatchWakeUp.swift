import Synchronization

/// Wakes the dispatch loop as soon as a ticket event is committed, instead of at its next poll.
///
/// The dispatch service's own `LISTEN ticket_events` session calls ``signal()`` for every notification; the loop
/// calls ``wait(atMost:)`` when it found nothing to publish. A signal that arrives while the loop is busy is kept
/// (one, however many arrive), so the loop looks again at once; the poll interval remains the fallback for
/// notifications lost while the listener was reconnecting.
///
/// Thread rules: ``signal()`` may be called from any task or thread; ``wait(atMost:)`` from one task at a time
/// (the dispatch loop).
final class DispatchWakeUp: Sendable {
    private struct State {
        var isPending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Wakes the waiting loop, or lets its next wait return at once.
    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.isPending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns after a signal (one already pending included) or after `timeout`, whichever comes first, or when
    /// the task is cancelled.
    /// - Parameter timeout: The longest wait.
    func wait(atMost timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.nextSignal() }
            _ = await group.next()
            group.cancelAll()
        }
    }

    private func nextSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.isPending || Task.isCancelled {
                        state.isPending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
