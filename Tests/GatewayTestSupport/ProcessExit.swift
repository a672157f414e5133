public import Foundation

extension Process {
    /// Waits until the process has exited without holding a thread of Swift's cooperative pool.
    ///
    /// `waitUntilExit()` blocks its thread for as long as the child runs. Called from an async test, that thread is
    /// one of the pool's few (two on a 2-core machine), and tests running in parallel then starve: a wake-up other
    /// tests time waits for the thread instead. This polls every 10 ms with `Task.sleep`, which gives the thread
    /// back; when the task is cancelled it falls back to the blocking wait rather than spin.
    public func exited() async {
        while isRunning {
            do {
                try await Task.sleep(for: .milliseconds(10))
            } catch {
                break
            }
        }
        waitUntilExit()
    }
}
