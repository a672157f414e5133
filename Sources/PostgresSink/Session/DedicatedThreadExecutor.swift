import Dispatch
import Foundation  // Thread: a named, dedicated OS thread outside the Swift cooperative pool.
import Synchronization

/// A serial executor that runs every job on one OS thread of its own, for actors that make blocking libpq calls.
///
/// The thread waits on a semaphore for the next job of a FIFO queue: an enqueue costs a lock, an append and a
/// semaphore signal (a `futex` wake only when the thread sleeps). It replaces a one-thread NIO event loop, whose
/// `epoll` machinery the stores never used.
///
/// Thread rules: ``enqueue(_:)`` may be called from any thread; jobs run one at a time, in order, on the executor's
/// thread. ``shutdown()`` lets the thread finish the queued jobs and exit; it is called by the owning actor's deinit
/// (which may run on that very thread, so it never waits).
final class DedicatedThreadExecutor: SerialExecutor {
    private let jobs = Mutex<Jobs>(Jobs())
    private let available = DispatchSemaphore(value: 0)
    /// The identity of the executor's thread, set when it starts.
    private let threadID = Mutex<ObjectIdentifier?>(nil)

    private struct Jobs: ~Copyable {
        var queue: [UnownedJob] = []
        var head = 0
        var isShutDown = false
    }

    /// Starts the executor's thread.
    /// - Parameter name: The thread's name (shown by `top -H`, `perf`, debuggers).
    init(name: String) {
        let thread = Thread { [self] in self.runJobs() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        jobs.withLock { $0.queue.append(unowned) }
        available.signal()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Whether the caller runs on the executor's thread.
    var isOnExecutorThread: Bool {
        let current = ObjectIdentifier(Thread.current)
        return threadID.withLock { $0 == current }
    }

    /// Asks the thread to exit once the queued jobs have run. Never blocks.
    func shutdown() {
        jobs.withLock { $0.isShutDown = true }
        available.signal()
    }

    private func runJobs() {
        threadID.withLock { $0 = ObjectIdentifier(Thread.current) }
        let executor = asUnownedSerialExecutor()
        while true {
            available.wait()
            let next = jobs.withLock { jobs -> UnownedJob? in
                guard jobs.head < jobs.queue.count else { return nil }
                let job = jobs.queue[jobs.head]
                jobs.head += 1
                if jobs.head == jobs.queue.count {
                    jobs.queue.removeAll(keepingCapacity: true)
                    jobs.head = 0
                }
                return job
            }
            if let next {
                next.runSynchronously(on: executor)
            } else if jobs.withLock({ $0.isShutDown && $0.head >= $0.queue.count }) {
                return
            }
        }
    }
}
